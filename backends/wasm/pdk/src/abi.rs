//! The ABI glue behind [`crate::plugin!`]: buffers, packing, request and
//! response JSON. Not for direct use.

use std::alloc::{Layout, alloc as raw_alloc, dealloc};
use std::fmt::Display;

use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::IntoOutput;

/// The ABI version this crate implements.
pub const VERSION: i32 = 1;

fn layout(len: i32) -> Option<Layout> {
    let len = usize::try_from(len).ok()?;
    Layout::array::<u8>(len.max(1)).ok()
}

/// `pocket_alloc`: a buffer of `len` bytes (at least one), or 0.
pub fn alloc(len: i32) -> i32 {
    let Some(layout) = layout(len) else { return 0 };
    // SAFETY: `layout` has a non-zero size.
    let ptr = unsafe { raw_alloc(layout) };
    ptr as usize as i32
}

/// `pocket_free`: releases a buffer from [`alloc`].
///
/// # Safety
/// `ptr` and `len` must come from one [`alloc`] call and be freed once.
pub unsafe fn free(ptr: i32, len: i32) {
    if ptr == 0 {
        return;
    }
    if let Some(layout) = layout(len) {
        // SAFETY: the caller passes a live buffer from `alloc(len)`, which used this layout.
        unsafe { dealloc(ptr as u32 as usize as *mut u8, layout) };
    }
}

/// Copies `bytes` into a new buffer from [`alloc`] and packs it, as the ABI hands buffers over.
pub fn give(bytes: &[u8]) -> i64 {
    let Ok(len) = i32::try_from(bytes.len()) else { return 0 };
    let ptr = alloc(len);
    if ptr == 0 {
        return 0;
    }
    // SAFETY: `ptr` is a fresh buffer of at least `len` bytes.
    unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), ptr as u32 as usize as *mut u8, bytes.len()) };
    pack(ptr, len)
}

/// `(ptr << 32) | len`.
pub fn pack(ptr: i32, len: i32) -> i64 {
    ((u64::from(ptr as u32) << 32) | u64::from(len as u32)) as i64
}

/// The `(ptr, len)` in a packed value.
pub fn unpack(packed: i64) -> (i32, i32) {
    let bits = packed as u64;
    ((bits >> 32) as u32 as i32, bits as u32 as i32)
}

/// One node type's manifest entry.
pub fn node(node_type: &str, description: &str, config_schema: Option<Value>) -> Value {
    let mut node = json!({"type": node_type, "description": description});
    if let Some(schema) = config_schema {
        node["config_schema"] = schema;
    }
    node
}

/// The manifest JSON.
pub fn manifest(name: &str, version: &str, description: &str, author: &str, nodes: Vec<Value>) -> Value {
    json!({"name": name, "version": version, "description": description, "author": author, "nodes": nodes})
}

/// `pocket_describe`: the manifest, packed.
pub fn describe(manifest: Value) -> i64 {
    give(manifest.to_string().as_bytes())
}

/// A node function's result as a node result: output and action, or the error's text.
pub type NodeResult = Result<(Value, Option<String>), String>;

/// Calls a node function with its input and config deserialized.
pub fn run<I, C, O, E>(f: impl FnOnce(I, C) -> Result<O, E>, config: Value, input: Value) -> NodeResult
where
    I: DeserializeOwned,
    C: DeserializeOwned,
    O: IntoOutput,
    E: Display,
{
    let config = serde_json::from_value(config).map_err(|e| format!("invalid config: {e}"))?;
    let input = serde_json::from_value(input).map_err(|e| format!("invalid input: {e}"))?;
    let output = f(input, config).map_err(|e| e.to_string())?;
    output
        .into_output()
        .map_err(|e| format!("output has no JSON form: {e}"))
}

/// The response JSON for `request`, dispatched to `dispatch(node, config, input)`.
pub fn respond(request: &[u8], dispatch: impl FnOnce(&str, Value, Value) -> NodeResult) -> Vec<u8> {
    let result = match serde_json::from_slice::<Value>(request) {
        Ok(mut request) => {
            let node = request
                .get("node")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let config = match request["config"].take() {
                Value::Null => json!({}),
                config => config,
            };
            dispatch(&node, config, request["input"].take())
        }
        Err(e) => Err(format!("invalid request: {e}")),
    };
    let response = match result {
        Ok((output, None)) => json!({ "output": output }),
        Ok((output, Some(action))) => json!({ "output": output, "action": action }),
        Err(error) => json!({ "error": error }),
    };
    response.to_string().into_bytes()
}

/// `pocket_exec`: reads the request, runs the node, hands back the response.
///
/// # Safety
/// `ptr` and `len` must describe a live buffer from [`alloc`].
pub unsafe fn exec(ptr: i32, len: i32, dispatch: impl FnOnce(&str, Value, Value) -> NodeResult) -> i64 {
    let Ok(size) = usize::try_from(len) else { return 0 };
    // SAFETY: the caller guarantees the buffer is live and `len` bytes long.
    let request = unsafe { std::slice::from_raw_parts(ptr as u32 as usize as *const u8, size) };
    give(&respond(request, dispatch))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Routed;

    fn double(input: i64, _config: Value) -> Result<i64, String> {
        Ok(input * 2)
    }

    fn route(input: i64, _config: Value) -> Result<Routed<i64>, String> {
        Ok(Routed::new(input, if input > 0 { "positive" } else { "other" }))
    }

    fn fail(_input: Value, _config: Value) -> Result<Value, String> {
        Err("no luck".into())
    }

    fn answer(request: &str) -> Value {
        let bytes = respond(request.as_bytes(), |node, config, input| match node {
            "double" => run(double, config, input),
            "route" => run(route, config, input),
            "fail" => run(fail, config, input),
            other => Err(format!("unknown node type `{other}`")),
        });
        serde_json::from_slice(&bytes).unwrap()
    }

    #[test]
    fn requests_reach_the_node_function_and_outputs_come_back() {
        assert_eq!(
            answer(r#"{"node":"double","config":{},"input":21}"#),
            json!({"output": 42})
        );
        assert_eq!(
            answer(r#"{"node":"route","input":3}"#),
            json!({"output": 3, "action": "positive"})
        );
    }

    #[test]
    fn failures_become_error_responses() {
        assert_eq!(answer(r#"{"node":"fail","input":null}"#), json!({"error": "no luck"}));
        assert!(
            answer(r#"{"node":"double","input":"x"}"#)["error"]
                .as_str()
                .unwrap()
                .starts_with("invalid input")
        );
        assert_eq!(
            answer(r#"{"node":"nope"}"#),
            json!({"error": "unknown node type `nope`"})
        );
        assert!(answer("{").get("error").is_some());
    }

    #[test]
    fn packing_round_trips() {
        assert_eq!(unpack(pack(1024, 29)), (1024, 29));
        assert_eq!(unpack(pack(-65536, 7)), (-65536, 7));
    }
}
