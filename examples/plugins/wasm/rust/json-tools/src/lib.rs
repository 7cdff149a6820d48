//! `json-tools`: small JSON helpers, showing the host functions.

use pocket_pdk::host::{self, Level};
use pocket_pdk::serde_json::{Map, Value, json};
use serde::Deserialize;

#[derive(Deserialize)]
struct PickConfig {
    fields: Vec<String>,
}

/// Keeps only the configured fields of the input object.
fn pick(input: Map<String, Value>, config: PickConfig) -> Result<Map<String, Value>, String> {
    Ok(config
        .fields
        .iter()
        .filter_map(|field| input.get(field).map(|value| (field.clone(), value.clone())))
        .collect())
}

/// Returns the input unchanged (the benchmark's payload).
fn echo(input: Value, _config: Value) -> Result<Value, String> {
    Ok(input)
}

/// Counts how often this node ran in the current workflow run (needs the `kv` capability),
/// and stamps the input with the count, the time and the plugin's `label` config.
fn stamp(input: Value, _config: Value) -> Result<Value, host::HostError> {
    let seen: u64 = host::kv_get("seen")?.and_then(|text| text.parse().ok()).unwrap_or(0) + 1;
    host::kv_set("seen", &seen.to_string())?;
    let label: Option<String> = host::config("label")?;
    host::log(Level::Info, &format!("stamp #{seen}"));
    Ok(json!({ "input": input, "seen": seen, "at_ms": host::now_ms(), "label": label }))
}

pocket_pdk::plugin! {
    name: "json-tools",
    version: "1.0.0",
    description: "JSON helpers: pick fields, echo, stamp with a run counter (Rust, pocket-pdk)",
    author: "Pocket examples",
    permissions: ["log", "kv"],
    nodes: [
        {
            type: "pick",
            description: "Keeps the listed fields of the input object",
            config_schema: {
                "type": "object",
                "required": ["fields"],
                "properties": { "fields": { "type": "array", "items": { "type": "string" } } }
            },
            run: pick,
        },
        { type: "echo-json", description: "Returns its input", run: echo },
        { type: "stamp", description: "Adds a per-run counter (kv), the time and the `label` config", run: stamp },
    ],
}
