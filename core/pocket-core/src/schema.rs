//! Node config schemas: JSON Schema checks and `default` values.

use std::sync::Arc;

use pocket_value::{Value, with_stack};

use crate::error::ConfigError;

/// The deepest a JSON Schema may nest: compiling one recurses once per
/// level, and no real schema comes near this.
pub const MAX_SCHEMA_DEPTH: usize = 128;

/// `schema` as JSON Schema validators take it; refused when it nests deeper
/// than [`MAX_SCHEMA_DEPTH`] (a 20,000-deep schema would overflow the stack).
pub fn schema_json(schema: &Value) -> Result<serde_json::Value, String> {
    if schema.depth(MAX_SCHEMA_DEPTH) > MAX_SCHEMA_DEPTH {
        return Err(format!(
            "the schema nests more than {MAX_SCHEMA_DEPTH} levels deep; no real schema needs that"
        ));
    }
    Ok(serde_json::Value::from(schema))
}

/// A node type's config schema, compiled once.
#[derive(Clone)]
pub struct ConfigSchema {
    schema: Arc<serde_json::Value>,
    validator: Arc<jsonschema::Validator>,
}

impl std::fmt::Debug for ConfigSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigSchema").field("schema", &self.schema).finish()
    }
}

impl ConfigSchema {
    /// Compiles a schema; formats (`email`, `date-time`, ...) are checked.
    pub fn compile(schema: &serde_json::Value) -> Result<ConfigSchema, String> {
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(schema)
            .map_err(|e| format!("invalid config schema: {e}"))?;
        Ok(ConfigSchema {
            schema: Arc::new(schema.clone()),
            validator: Arc::new(validator),
        })
    }

    /// `config` with the schema's `default`s filled in where keys are missing
    /// (recursively through `properties`). A null config counts as `{}`.
    pub fn apply_defaults(&self, config: &Value) -> Value {
        let config = if config.is_null() {
            Value::empty_object()
        } else {
            config.clone()
        };
        fill_defaults(&self.schema, config)
    }

    /// Every way `config` violates the schema, skipping values at `ignored`
    /// JSON pointers (templates, whose type is only known at run time).
    pub fn check(&self, config: &Value, ignored: &[String]) -> Vec<ConfigError> {
        let instance = serde_json::Value::from(config);
        self.validator
            .iter_errors(&instance)
            .filter_map(|error| {
                let path = error.instance_path().to_string();
                let under_template = ignored.iter().any(|t| path == *t || path.starts_with(&format!("{t}/")));
                (!under_template).then(|| ConfigError::at(path, error.to_string()))
            })
            .collect()
    }
}

fn fill_defaults(schema: &serde_json::Value, config: Value) -> Value {
    let Some(properties) = schema.get("properties").and_then(|p| p.as_object()) else {
        return config;
    };
    let Value::Object(mut object) = config else {
        return config;
    };
    with_stack(|| {
        for (key, property) in properties {
            match object.get(key) {
                None => {
                    if let Some(default) = property.get("default") {
                        object.make_mut().insert(key.clone(), Value::from(default));
                    }
                }
                Some(Value::Object(_)) if property.get("properties").is_some() => {
                    let current = object.get(key).cloned().unwrap_or_default();
                    let filled = fill_defaults(property, current);
                    object.make_mut().insert(key.clone(), filled);
                }
                Some(_) => {}
            }
        }
    });
    Value::Object(object)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> ConfigSchema {
        ConfigSchema::compile(&serde_json::json!({
            "type": "object",
            "properties": {
                "field": {"type": "string", "default": "text"},
                "count": {"type": "integer", "minimum": 1},
                "mail": {"type": "string", "format": "email"},
                "nested": {"type": "object", "properties": {"depth": {"type": "integer", "default": 2}}}
            },
            "required": ["count"],
            "additionalProperties": false
        }))
        .unwrap()
    }

    #[test]
    fn defaults_fill_missing_keys_recursively() {
        let config = Value::from_json(r#"{"count": 1, "nested": {}}"#).unwrap();
        let filled = schema().apply_defaults(&config);
        assert_eq!(
            filled,
            Value::from_json(r#"{"count": 1, "nested": {"depth": 2}, "field": "text"}"#).unwrap()
        );
    }

    #[test]
    fn violations_name_their_json_path() {
        let config = Value::from_json(r#"{"count": 0, "mail": "nope"}"#).unwrap();
        let errors = schema().check(&config, &[]);
        let paths: Vec<_> = errors.iter().map(|e| e.path.as_str()).collect();
        assert!(paths.contains(&"/count"), "{errors:?}");
        assert!(paths.contains(&"/mail"), "formats are checked: {errors:?}");
    }

    #[test]
    fn templated_values_are_not_type_checked() {
        let config = Value::from_json(r#"{"count": "{{.n}}"}"#).unwrap();
        assert!(schema().check(&config, &["/count".to_string()]).is_empty());
    }
}
