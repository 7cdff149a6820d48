//! {{name}}: a Pocket native plugin (a `cdylib` built against
//! pocket-native-sdk).

use pocket_native_sdk::{Call, Error, NodeType, Output, Plugin, Value};

fn plugin() -> Plugin {
    Plugin::new("{{name}}", env!("CARGO_PKG_VERSION"))
        .description("Greets someone by name")
        .permissions(["log"])
        .node(
            NodeType::new("greet", "Answers {\"greeting\": \"<salutation>, <input.name>!\"}", greet)
                .config_schema(json(
                    r#"{"type": "object", "properties": {
                        "salutation": {"type": "string", "default": "Hello", "description": "The word to greet with"}
                    }}"#,
                ))
                .example(
                    json(r#"{"name": "Ada"}"#),
                    Value::empty_object(),
                    json(r#"{"greeting": "Hello, Ada!"}"#),
                )
                .example(
                    json(r#"{"name": "Ada"}"#),
                    json(r#"{"salutation": "Hi"}"#),
                    json(r#"{"greeting": "Hi, Ada!"}"#),
                )
                .failing_example(Value::empty_object(), Value::empty_object(), "input.name must be a string"),
        )
}

pocket_native_sdk::export_plugin!(plugin);

/// `greet`: `{"greeting": "<salutation>, <name>!"}`.
fn greet(call: Call) -> Result<Output, Error> {
    let name = call
        .input
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::invalid_input("input.name must be a string"))?;
    let salutation = call.config.get("salutation").and_then(Value::as_str).unwrap_or("Hello");
    let greeting = Value::from(format!("{salutation}, {name}!"));
    Ok(Output::new(Value::object([("greeting", greeting)])))
}

/// A JSON literal of this file (a mistake in one fails the plugin's load,
/// naming it).
fn json(text: &str) -> Value {
    Value::from_json(text).expect("a valid JSON literal")
}
