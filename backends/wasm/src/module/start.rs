//! Moving a module's start function out of instantiation: the start section
//! is removed and the function exported as [`START_EXPORT`], which the host
//! calls once per instance right after instantiating it, within the
//! plugin's fuel and timeout (as a WASI reactor's `_initialize`). Run where
//! the specification puts it, inside instantiation, a start function would
//! run before the host can set a fuel budget or arm the watchdog, so one
//! that loops would hang the load. AssemblyScript, for one, puts a module's
//! top-level code in a start function by default.

use std::borrow::Cow;
use std::ops::Range;

use wasmer::wasmparser::{Parser, Payload};

/// The export a module's start function is moved to (no toolchain makes an
/// export with a `:` in its name).
pub const START_EXPORT: &str = "pocket:start";

const EXPORT_SECTION: u8 = 7;
/// The magic number and version before the first section.
const PREAMBLE: usize = 8;

/// `wasm` with its start function (if it has one) exported as
/// [`START_EXPORT`] instead of started. A malformed module is returned as
/// it is: the compiler reports what is wrong with it.
pub(crate) fn move_start(wasm: &[u8]) -> Cow<'_, [u8]> {
    let Some(found) = find(wasm) else {
        return Cow::Borrowed(wasm);
    };
    let entry = export_entry(START_EXPORT, found.function);
    let mut out = Vec::with_capacity(wasm.len() + entry.len() + 16);
    match found.exports {
        Some(Section { span, data }) => {
            let Some((count, count_len)) = read_leb(&wasm[data.clone()]) else {
                return Cow::Borrowed(wasm);
            };
            let mut content = leb(count + 1);
            content.extend_from_slice(&wasm[data.start + count_len..data.end]);
            content.extend_from_slice(&entry);
            out.extend_from_slice(&wasm[..span.start]);
            push_section(&mut out, EXPORT_SECTION, &content);
            out.extend_from_slice(&wasm[span.end..found.start.start]);
        }
        None => {
            // No export section: one goes where the start section was (the
            // section order puts exports just before it).
            let mut content = leb(1);
            content.extend_from_slice(&entry);
            out.extend_from_slice(&wasm[..found.start.start]);
            push_section(&mut out, EXPORT_SECTION, &content);
        }
    }
    out.extend_from_slice(&wasm[found.start.end..]);
    Cow::Owned(out)
}

/// A section's whole bytes (`span`: id, size and content) and its content's.
struct Section {
    span: Range<usize>,
    data: Range<usize>,
}

/// What [`move_start`] changes: the start section, its function and the
/// export section, if any.
struct Found {
    start: Range<usize>,
    function: u32,
    exports: Option<Section>,
}

fn find(wasm: &[u8]) -> Option<Found> {
    let mut previous_end = PREAMBLE;
    let mut exports = None;
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload.ok()?;
        if let Payload::StartSection { func, range } = &payload {
            let end = usize::try_from(range.end).ok()?;
            return Some(Found {
                start: previous_end..end,
                function: *func,
                exports,
            });
        }
        if let Some((id, range)) = payload.as_section() {
            let data = usize::try_from(range.start).ok()?..usize::try_from(range.end).ok()?;
            let span = previous_end..data.end;
            previous_end = data.end;
            if id == EXPORT_SECTION {
                exports = Some(Section { span, data });
            }
        }
    }
    None
}

/// An export entry: the function `index` under `name`.
fn export_entry(name: &str, index: u32) -> Vec<u8> {
    let mut entry = leb(name.len() as u64);
    entry.extend_from_slice(name.as_bytes());
    entry.push(0); // a function
    entry.extend_from_slice(&leb(u64::from(index)));
    entry
}

fn push_section(out: &mut Vec<u8>, id: u8, content: &[u8]) {
    out.push(id);
    out.extend_from_slice(&leb(content.len() as u64));
    out.extend_from_slice(content);
}

/// `value` as unsigned LEB128.
fn leb(mut value: u64) -> Vec<u8> {
    let mut bytes = Vec::new();
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            bytes.push(byte);
            return bytes;
        }
        bytes.push(byte | 0x80);
    }
}

/// The unsigned LEB128 at the start of `bytes` and its length.
fn read_leb(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, &byte) in bytes.iter().enumerate().take(10) {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exports(wasm: &[u8]) -> Vec<String> {
        let engine = wasmer::Engine::default();
        let module = wasmer::Module::new(&engine, wasm).unwrap();
        module.exports().map(|e| e.name().to_string()).collect()
    }

    fn has_start(wasm: &[u8]) -> bool {
        Parser::new(0)
            .parse_all(wasm)
            .any(|p| matches!(p, Ok(Payload::StartSection { .. })))
    }

    #[test]
    fn a_start_function_becomes_an_export_with_or_without_other_exports() {
        for text in [
            r#"(module (memory (export "memory") 1) (func $init) (func (export "f")) (start $init))"#,
            r"(module (func $a) (func $init) (start $init))",
        ] {
            let wasm = wasmer::wat2wasm(text.as_bytes()).unwrap();
            let moved = move_start(&wasm);
            assert!(!has_start(&moved), "{text}");
            assert!(exports(&moved).contains(&START_EXPORT.to_string()), "{text}");
        }
    }

    #[test]
    fn a_module_without_a_start_function_is_left_as_it_is() {
        let wasm = wasmer::wat2wasm(br#"(module (func (export "f")))"#).unwrap();
        assert!(matches!(move_start(&wasm), Cow::Borrowed(_)));
        assert!(matches!(move_start(b"not wasm"), Cow::Borrowed(_)));
    }

    #[test]
    fn leb128_round_trips() {
        for value in [0, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX] {
            assert_eq!(read_leb(&leb(value)), Some((value, leb(value).len())));
        }
    }
}
