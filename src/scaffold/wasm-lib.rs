//! {{name}}: a Pocket WASM plugin written with pocket-pdk.

use pocket_pdk::serde_json::{Value, json};
use serde::Deserialize;

/// The node's input.
#[derive(Deserialize)]
struct Input {
    name: String,
}

/// The node's config (`config:` in a workflow), defaults from the schema.
#[derive(Deserialize)]
struct Config {
    salutation: String,
}

/// `greet`: `{"greeting": "<salutation>, <name>!"}`.
fn greet(input: Input, config: Config) -> Result<Value, String> {
    Ok(json!({ "greeting": format!("{}, {}!", config.salutation, input.name) }))
}

pocket_pdk::plugin! {
    name: "{{name}}",
    version: "0.1.0",
    description: "Greets someone by name",
    permissions: ["log"],
    nodes: [
        {
            type: "greet",
            description: "Answers {\"greeting\": \"<salutation>, <input.name>!\"}",
            config_schema: {
                "type": "object",
                "properties": {
                    "salutation": { "type": "string", "default": "Hello", "description": "The word to greet with" }
                }
            },
            examples: [
                { "input": {"name": "Ada"}, "output": {"greeting": "Hello, Ada!"} },
                { "input": {"name": "Ada"}, "config": {"salutation": "Hi"}, "output": {"greeting": "Hi, Ada!"} },
                { "name": "no name", "input": {}, "error": "missing field `name`" },
            ],
            run: greet,
        },
    ],
}
