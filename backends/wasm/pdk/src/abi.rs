//! The ABI glue behind [`crate::plugin!`]: buffers, and the ABI's JSON
//! documents (from `pocket-wasm-abi`, which the host shares). Not for
//! direct use.

use std::alloc::{Layout, alloc as raw_alloc, dealloc};
use std::cell::RefCell;
use std::fmt::Display;

use pocket_wasm_abi::{Description, NodeDescription, Request, error_response};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::IntoOutput;

pub use pocket_wasm_abi::{FREES_RESPONSE, KEEPS_REQUEST, VERSION, write_response};

fn layout(len: i32) -> Option<Layout> {
    let len = usize::try_from(len).ok()?;
    Layout::array::<u8>(len.max(1)).ok()
}

/// `pocket_alloc`: a buffer of `len` bytes (at least one), or 0.
pub fn alloc(len: i32) -> i32 {
    let Some(layout) = layout(len) else { return 0 };
    // SAFETY: `layout` has a non-zero size.
    let ptr = unsafe { raw_alloc(layout) };
    address(ptr)
}

/// A buffer's address as the ABI carries it: an `i32` holding the bits of
/// a wasm32 pointer.
#[expect(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    reason = "wasm32 addresses are 32 bits, carried as the bits of an i32"
)]
fn address(ptr: *const u8) -> i32 {
    ptr as usize as i32
}

/// The pointer an ABI address stands for.
fn pointer(address: i32) -> *mut u8 {
    address.cast_unsigned() as usize as *mut u8
}

/// `pocket_free`: releases a buffer from [`alloc`], or the last response
/// (for a host that frees responses).
///
/// # Safety
/// `ptr` and `len` must come from one [`alloc`] call, or be the last
/// response, and be freed once.
pub unsafe fn free(ptr: i32, len: i32) {
    if ptr == 0 || release_response(ptr) {
        return;
    }
    if let Some(layout) = layout(len) {
        // SAFETY: the caller passes a live buffer from `alloc(len)`, which used this layout.
        unsafe { dealloc(pointer(ptr), layout) };
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
    unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), pointer(ptr), bytes.len()) };
    pack(ptr, len)
}

/// `(ptr << 32) | len` of a guest buffer (pointers and lengths are `i32`s here).
pub fn pack(ptr: i32, len: i32) -> i64 {
    pocket_wasm_abi::pack(ptr.cast_unsigned(), len.cast_unsigned())
}

/// The `(ptr, len)` in a packed value.
pub fn unpack(packed: i64) -> (i32, i32) {
    let (ptr, len) = pocket_wasm_abi::unpack(packed);
    (ptr.cast_signed(), len.cast_signed())
}

/// One node type's entry in the description.
pub fn node(node_type: &str, description: &str, config_schema: Option<Value>, examples: Vec<Value>) -> NodeDescription {
    NodeDescription {
        node_type: node_type.into(),
        description: description.into(),
        config_schema,
        examples,
    }
}

/// The plugin's description.
pub fn description(
    name: &str,
    version: &str,
    description: &str,
    author: &str,
    permissions: Vec<&str>,
    nodes: Vec<NodeDescription>,
) -> Description {
    Description {
        name: name.into(),
        version: version.into(),
        description: description.into(),
        author: author.into(),
        permissions: permissions.into_iter().map(String::from).collect(),
        nodes,
    }
}

/// `pocket_describe`: the description, packed (0 if it has no JSON form).
pub fn describe(description: &Description) -> i64 {
    serde_json::to_vec(description).map_or(0, |json| give(&json))
}

/// serde_json's message without its " at line L column C": the JSON it
/// read is the host's rendering of the node's config or input, which the
/// user never wrote, so positions in it would only mislead.
fn without_position(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    text.strip_suffix(&suffix).map_or(text.clone(), str::to_string)
}

/// A node function's result: the response JSON, or the error's text.
pub type NodeResult = Result<Vec<u8>, String>;

/// Calls a node function with its input and config (JSON text) deserialized
/// straight into its own types, and writes its response.
pub fn run<I, C, O, E>(f: impl FnOnce(I, C) -> Result<O, E>, config: &str, input: &str) -> NodeResult
where
    I: DeserializeOwned,
    C: DeserializeOwned,
    O: IntoOutput,
    E: Display,
{
    let config = serde_json::from_str(config).map_err(|e| format!("invalid config: {}", without_position(&e)))?;
    let parsed = serde_json::from_str(input).map_err(|e| format!("invalid input: {}", without_position(&e)))?;
    let output = f(parsed, config).map_err(|e| e.to_string())?;
    let mut response = Vec::with_capacity(input.len() + 32);
    output
        .write_response(&mut response)
        .map_err(|e| format!("output has no JSON form: {e}"))?;
    Ok(response)
}

/// The response JSON for `request`, dispatched to `dispatch(node, config,
/// input)` (config `{}` and input `null` when absent).
pub fn respond(request: &[u8], dispatch: impl FnOnce(&str, &str, &str) -> NodeResult) -> Vec<u8> {
    let result = match serde_json::from_slice::<Request<'_>>(request) {
        Ok(request) => dispatch(&request.node, request.config_json(), request.input_json()),
        Err(e) => Err(format!("invalid request: {e}")),
    };
    result.unwrap_or_else(|error| error_response(&error))
}

/// `pocket_exec`: reads the request, runs the node, hands back the response.
///
/// # Safety
/// `ptr` and `len` must describe a live buffer from [`alloc`].
pub unsafe fn exec(ptr: i32, len: i32, dispatch: impl FnOnce(&str, &str, &str) -> NodeResult) -> i64 {
    let Ok(size) = usize::try_from(len) else { return 0 };
    // SAFETY: the caller guarantees the buffer is live and `len` bytes long.
    let request = unsafe { std::slice::from_raw_parts(pointer(ptr).cast_const(), size) };
    hand_over(respond(request, dispatch))
}

thread_local! {
    /// The last response handed to the host: the module frees its own
    /// responses ([`FREES_RESPONSE`]), each when the next one replaces it.
    static RESPONSE: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Hands `bytes` to the host without copying: they stay where they are
/// until the next response replaces them (the previous one is freed now).
/// An empty response is 0 ("nothing").
fn hand_over(bytes: Vec<u8>) -> i64 {
    let Ok(len) = i32::try_from(bytes.len()) else { return 0 };
    if len == 0 {
        return 0;
    }
    let ptr = address(bytes.as_ptr());
    RESPONSE.with(|last| *last.borrow_mut() = bytes);
    pack(ptr, len)
}

/// Frees the last response if it is at `ptr`; whether it was.
fn release_response(ptr: i32) -> bool {
    RESPONSE.with(|last| {
        let mut last = last.borrow_mut();
        let here = !last.is_empty() && address(last.as_ptr()) == ptr;
        if here {
            *last = Vec::new();
        }
        here
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

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
        let invalid = answer(r#"{"node":"double","input":"x"}"#);
        let invalid = invalid["error"].as_str().unwrap();
        assert!(invalid.starts_with("invalid input"), "{invalid}");
        assert!(!invalid.contains("line") && !invalid.contains("column"), "{invalid}");
        assert_eq!(
            answer(r#"{"node":"nope"}"#),
            json!({"error": "unknown node type `nope`"})
        );
        assert!(answer("{").get("error").is_some());
    }

    #[test]
    fn the_last_response_is_kept_until_the_next_and_freed_once_by_pocket_free() {
        let (ptr, len) = unpack(hand_over(b"{\"output\":1}".to_vec()));
        assert_eq!(len, 12);
        assert!(release_response(ptr), "a host that frees responses frees it");
        assert!(!release_response(ptr), "only once");
        let (kept, _) = unpack(hand_over(b"{\"output\":2}".to_vec()));
        assert!(!release_response(kept + 1), "another pointer is not the response");
        assert!(release_response(kept));
        assert_eq!(hand_over(Vec::new()), 0);
    }

    #[test]
    fn packing_round_trips() {
        assert_eq!(unpack(pack(1024, 29)), (1024, 29));
        assert_eq!(unpack(pack(-65536, 7)), (-65536, 7));
    }
}
