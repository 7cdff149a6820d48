//! Module files: reading `.wasm` and `.wat` bytes, and [`validate`]: the
//! checks a compiled module passes before it is ever instantiated.

pub(crate) mod validate;

use std::path::Path;

use crate::error::ModuleError;

/// How deeply blocks (`block`, `loop`, `if`) may nest in one function.
/// Real code stays far below; deeper nesting makes the compiler take minutes.
pub(crate) const MAX_BLOCK_NESTING: usize = 1_000;

/// Checks the module's bytes before compiling them, in one linear pass:
///
/// - no start function: it would run inside instantiation, before the host
///   can set a fuel budget or arm the watchdog for it, so a start function
///   that loops would hang the load (a plugin initialises itself in its
///   first call instead);
/// - no function nesting blocks deeper than [`MAX_BLOCK_NESTING`].
///
/// A malformed module passes: the compiler reports what is wrong with it.
pub(crate) fn prescan(wasm: &[u8]) -> Result<(), ModuleError> {
    use wasmer::wasmparser::{Operator, Parser, Payload};
    let mut function = 0;
    for payload in Parser::new(0).parse_all(wasm) {
        let Ok(payload) = payload else { return Ok(()) };
        match payload {
            Payload::StartSection { .. } => return Err(ModuleError::StartFunction),
            Payload::CodeSectionEntry(body) => {
                let Ok(mut operators) = body.get_operators_reader() else {
                    return Ok(());
                };
                let mut depth = 0usize;
                while !operators.eof() {
                    match operators.read() {
                        Ok(Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. }) => depth += 1,
                        Ok(Operator::End) => depth = depth.saturating_sub(1),
                        Ok(_) => {}
                        Err(_) => return Ok(()),
                    }
                    if depth > MAX_BLOCK_NESTING {
                        return Err(ModuleError::TooComplex {
                            function,
                            depth,
                            limit: MAX_BLOCK_NESTING,
                        });
                    }
                }
                function += 1;
            }
            _ => {}
        }
    }
    Ok(())
}

/// The binary WebAssembly of `bytes`, read from `path`: `.wat` text is
/// converted, anything else taken as is.
pub(crate) fn wasm_bytes<'a>(path: &Path, bytes: &'a [u8]) -> Result<std::borrow::Cow<'a, [u8]>, ModuleError> {
    let is_text = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("wat"));
    if is_text {
        wasmer::wat2wasm(bytes).map_err(|e| ModuleError::Compile(e.to_string()))
    } else {
        Ok(std::borrow::Cow::Borrowed(bytes))
    }
}
