//! Test guest: node `attack` panics (as a bug in a plugin would), node `ok`
//! answers "ok". The host must report the panic's message and location.

use pocket_pdk::serde_json::Value;

fn attack(input: Value, _config: Value) -> Result<Value, String> {
    let words: Vec<&str> = Vec::new();
    let n = input.as_u64().unwrap_or(3) as usize;
    Ok(Value::from(words[n]))
}

fn ok(_input: Value, _config: Value) -> Result<Value, String> {
    Ok(Value::from("ok"))
}

pocket_pdk::plugin! {
    name: "panicky",
    version: "1.0.0",
    description: "A node that panics",
    nodes: [
        { type: "attack", description: "Panics indexing an empty list", run: attack },
        { type: "ok", description: "Answers \"ok\"", run: ok },
    ],
}
