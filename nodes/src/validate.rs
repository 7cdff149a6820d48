//! `validate`: checks its input against a JSON Schema.
//!
//! The schema (inline, or from `schema_file` beneath the workflow's directory) is compiled
//! once, before the run; formats (`email`, `date-time`, ...) are checked. The
//! output is `{valid, errors: [{field, type, description}], data}` with the
//! action `valid` or `invalid`; with `fail_on_error` (the default), invalid
//! input fails the node instead, naming the problems.

use std::path::Path;
use std::sync::Arc;

use pocket_core::{ConfigError, Execution, Invocation, Node, NodeError, NodeOutput, NodeSetup, Value};
use serde_json::json;

use crate::builtin::{Builtin, with_room_for};

pub(crate) struct Validate;

impl Builtin for Validate {
    const NAME: &'static str = "validate";
    const DESCRIPTION: &'static str =
        "Checks the input against a JSON Schema: {valid, errors, data}, action `valid` or `invalid`";
    const RAW_KEYS: &'static [&'static str] = &["schema"];

    fn schema() -> serde_json::Value {
        json!({
            "type": "object",
            "properties": {
                "schema": {"type": ["object", "boolean"], "description": "The JSON Schema, inline (not a template)"},
                "schema_file": {"type": "string", "description": "A JSON or YAML file holding the schema, beneath the workflow file's directory, relative to it"},
                "fail_on_error": {"type": "boolean", "default": true, "description": "Fail the node on invalid input (true), or output the result with the action `invalid` (false)"}
            },
            "oneOf": [{"required": ["schema"]}, {"required": ["schema_file"]}],
            "additionalProperties": false
        })
    }

    fn prepare(setup: &NodeSetup<'_>) -> Result<Arc<dyn Node>, ConfigError> {
        let (schema, key) = match (setup.config_value("schema"), setup.config_value("schema_file")) {
            (Some(schema), _) => (
                pocket_core::schema_json(schema).map_err(|e| ConfigError::at("/schema", e))?,
                "/schema",
            ),
            (None, Some(file)) => (
                read_schema(setup, file.as_str().unwrap_or_default())
                    .map_err(|e| ConfigError::at("/schema_file", e))?,
                "/schema_file",
            ),
            (None, None) => return Err(ConfigError::new("set `schema` or `schema_file`")),
        };
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .map_err(|e| ConfigError::at(key, format!("invalid JSON Schema: {e}")))?;
        let fail_on_error = setup
            .config_value("fail_on_error")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        Ok(Arc::new(ValidateRun {
            validator,
            fail_on_error,
        }))
    }
}

/// The schema in the workflow's file `file` (JSON, or YAML by its extension).
fn read_schema(setup: &NodeSetup<'_>, file: &str) -> Result<serde_json::Value, String> {
    let text = setup.read_file(file).map_err(|e| e.to_string())?;
    let path = Path::new(file);
    let yaml = path
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("yaml") || ext.eq_ignore_ascii_case("yml"));
    let value = if yaml {
        pocket_core::parse_yaml_value(&text).map_err(|e| format!("{}: {e}", path.display()))?
    } else {
        Value::from_json(&text).map_err(|e| format!("{}: {e}", path.display()))?
    };
    pocket_core::schema_json(&value).map_err(|e| format!("{}: {e}", path.display()))
}

struct ValidateRun {
    validator: jsonschema::Validator,
    fail_on_error: bool,
}

impl Node for ValidateRun {
    fn exec<'a>(&'a self, call: Invocation<'a>) -> Execution<'a> {
        // serde_json's value is built, validated and dropped recursively.
        let checked = with_room_for(&call.input, "validate", || {
            let instance = serde_json::Value::from(&call.input);
            Ok(self
                .validator
                .iter_errors(&instance)
                .map(|error| {
                    Value::object([
                        ("field", Value::from(field_name(&error.instance_path().to_string()))),
                        ("type", Value::from(error.kind().keyword())),
                        ("description", Value::from(error.to_string())),
                    ])
                })
                .collect::<Vec<Value>>())
        });
        let errors = match checked {
            Ok(errors) => errors,
            Err(e) => return Execution::Ready(Err(e)),
        };
        let valid = errors.is_empty();
        if !valid && self.fail_on_error {
            let problems: Vec<String> = errors
                .iter()
                .map(|e| {
                    let text = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
                    format!("{}: {}", text("field"), text("description"))
                })
                .collect();
            return Execution::Ready(Err(NodeError::failed(format!(
                "validation failed ({} error{}): {}",
                problems.len(),
                if problems.len() == 1 { "" } else { "s" },
                problems.join("; ")
            ))));
        }
        let output = Value::object([
            ("valid", Value::Bool(valid)),
            ("errors", Value::from(errors)),
            ("data", call.input),
        ]);
        Execution::Ready(Ok(NodeOutput::new(output).with_action(if valid {
            "valid"
        } else {
            "invalid"
        })))
    }
}

/// A JSON pointer as the Go engine names fields: `/a/0/b` is `a.0.b`, `` is `(root)`.
fn field_name(pointer: &str) -> String {
    if pointer.is_empty() {
        return "(root)".to_string();
    }
    pointer
        .trim_start_matches('/')
        .split('/')
        .map(|part| part.replace("~1", "/").replace("~0", "~"))
        .collect::<Vec<_>>()
        .join(".")
}
