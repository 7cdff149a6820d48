//! Test guest: node `relay` takes a list of node type names, calls the
//! first with the rest, and answers the callee's output plus one (an empty
//! list answers 0), so a chain of calls across plugins counts its hops.

use pocket_pdk::host::plugin_call;
use pocket_pdk::serde_json::{Value, json};

fn relay(input: Value, _config: Value) -> Result<Value, String> {
    let chain = input.as_array().ok_or("the input must be a list of node types")?;
    let Some((next, rest)) = chain.split_first() else {
        return Ok(json!(0));
    };
    let next = next.as_str().ok_or("node types must be strings")?;
    let out = plugin_call(next, Value::from(rest.to_vec()), json!({})).map_err(|e| e.to_string())?;
    Ok(json!(out.output.as_u64().unwrap_or(0) + 1))
}

pocket_pdk::plugin! {
    name: "relay",
    version: "1.0.0",
    description: "Calls the next node type of a chain",
    permissions: ["plugin_call:*"],
    nodes: [
        { type: "relay", description: "Calls input[0] with input[1..]; answers its output + 1", run: relay },
    ],
}
