//! Node configs with templates in them, compiled once and rendered per call.
//!
//! Every string in a node's config may hold Go-template syntax. Compiling
//! parses each such string once, before the run; static parts of the config
//! are kept as shared values, so a config without templates costs nothing per
//! call. A string that is exactly one `{{...}}` yields the JSON value itself.

use std::sync::Arc;

use pocket_template::Template;
use pocket_value::{Str, Value, with_stack};

use crate::error::ConfigError;

/// A node config ready to render against each input.
#[derive(Debug, Clone)]
pub struct ConfigTemplate {
    root: Part,
}

#[derive(Debug, Clone)]
enum Part {
    /// A subtree with no templates: shared as is.
    Static(Value),
    /// A string with template syntax.
    Template(Arc<Template>),
    Array(Vec<Part>),
    Object(Vec<(Str, Part)>),
}

impl ConfigTemplate {
    /// Compiles `config`, leaving the top-level keys in `raw_keys` unrendered.
    pub fn compile(config: &Value, raw_keys: &[&str]) -> Result<ConfigTemplate, ConfigError> {
        let root = match config {
            Value::Object(map) => {
                let mut parts = Vec::with_capacity(map.len());
                for (key, value) in map.iter() {
                    let part = if raw_keys.contains(&key.as_str()) {
                        Part::Static(value.clone())
                    } else {
                        compile(value, &mut format!("/{}", escape_pointer(key)))?
                    };
                    parts.push((key.clone(), part));
                }
                simplify(config, Part::Object(parts))
            }
            other => compile(other, &mut String::new())?,
        };
        Ok(ConfigTemplate { root })
    }

    /// Whether rendering always yields the same value.
    pub fn is_static(&self) -> bool {
        matches!(self.root, Part::Static(_))
    }

    /// JSON pointers of the values that are templates (their type is only known when rendered).
    pub fn template_paths(&self) -> Vec<String> {
        let mut paths = Vec::new();
        collect_paths(&self.root, &mut String::new(), &mut paths);
        paths
    }

    /// The config for one call: templates rendered against `input`.
    pub fn render(&self, input: &Value) -> Result<Value, String> {
        render(&self.root, input)
    }
}

fn compile(value: &Value, path: &mut String) -> Result<Part, ConfigError> {
    with_stack(|| match value {
        Value::String(s) if pocket_template::is_template(s) => Template::parse(s)
            .map(|t| Part::Template(Arc::new(t)))
            .map_err(|e| ConfigError::at(path.clone(), format!("invalid template: {e}"))),
        Value::Array(items) => {
            let mut parts = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("/{i}"));
                parts.push(compile(item, path)?);
                path.truncate(len);
            }
            Ok(simplify(value, Part::Array(parts)))
        }
        Value::Object(map) => {
            let mut parts = Vec::with_capacity(map.len());
            for (key, item) in map.iter() {
                let len = path.len();
                path.push('/');
                path.push_str(&escape_pointer(key));
                parts.push((key.clone(), compile(item, path)?));
                path.truncate(len);
            }
            Ok(simplify(value, Part::Object(parts)))
        }
        other => Ok(Part::Static(other.clone())),
    })
}

/// A container whose parts are all static is itself static: keep the original value.
fn simplify(original: &Value, part: Part) -> Part {
    let all_static = match &part {
        Part::Array(parts) => parts.iter().all(|p| matches!(p, Part::Static(_))),
        Part::Object(parts) => parts.iter().all(|(_, p)| matches!(p, Part::Static(_))),
        _ => false,
    };
    if all_static {
        Part::Static(original.clone())
    } else {
        part
    }
}

fn render(part: &Part, input: &Value) -> Result<Value, String> {
    with_stack(|| match part {
        Part::Static(v) => Ok(v.clone()),
        Part::Template(t) => t.evaluate(input).map_err(|e| format!("template `{}`: {e}", t.source())),
        Part::Array(parts) => parts
            .iter()
            .map(|p| render(p, input))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::from),
        Part::Object(parts) => parts
            .iter()
            .map(|(k, p)| Ok((k.clone(), render(p, input)?)))
            .collect::<Result<Vec<_>, String>>()
            .map(Value::object),
    })
}

fn collect_paths(part: &Part, path: &mut String, out: &mut Vec<String>) {
    match part {
        Part::Static(_) => {}
        Part::Template(_) => out.push(path.clone()),
        Part::Array(parts) => {
            for (i, p) in parts.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("/{i}"));
                collect_paths(p, path, out);
                path.truncate(len);
            }
        }
        Part::Object(parts) => {
            for (k, p) in parts {
                let len = path.len();
                path.push('/');
                path.push_str(&escape_pointer(k));
                collect_paths(p, path, out);
                path.truncate(len);
            }
        }
    }
}

/// Escapes a key for a JSON pointer (RFC 6901).
fn escape_pointer(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: &str) -> Value {
        Value::from_json(json).unwrap()
    }

    #[test]
    fn configs_without_templates_are_static_and_shared() {
        let c = config(r#"{"route": "a", "n": [1, 2]}"#);
        let t = ConfigTemplate::compile(&c, &[]).unwrap();
        assert!(t.is_static());
        let out = t.render(&Value::Null).unwrap();
        assert!(out.as_object().unwrap().ptr_eq(c.as_object().unwrap()));
    }

    #[test]
    fn a_single_action_yields_the_value_itself() {
        let t = ConfigTemplate::compile(&config(r#"{"items": "{{.list}}", "key": "user:{{.id}}"}"#), &[]).unwrap();
        let out = t.render(&config(r#"{"list": [1, 2], "id": 7}"#)).unwrap();
        assert_eq!(out, config(r#"{"items": [1, 2], "key": "user:7"}"#));
    }

    #[test]
    fn raw_keys_are_not_rendered() {
        let t = ConfigTemplate::compile(&config(r#"{"source": "return {{1}}", "x": "{{.a}}"}"#), &["source"]).unwrap();
        let out = t.render(&config(r#"{"a": 1}"#)).unwrap();
        assert_eq!(out, config(r#"{"source": "return {{1}}", "x": 1}"#));
        assert_eq!(t.template_paths(), vec!["/x".to_string()]);
    }

    #[test]
    fn template_errors_carry_the_json_path() {
        let err = ConfigTemplate::compile(&config(r#"{"a": [{"b": "{{if}}"}]}"#), &[]).unwrap_err();
        assert_eq!(err.path, "/a/0/b");
    }
}
