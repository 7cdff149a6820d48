//! Module files: reading `.wasm` and `.wat` bytes, and [`validate`]: the
//! checks a compiled module passes before it is ever instantiated.

mod start;
pub(crate) mod validate;

pub use start::START_EXPORT;
pub(crate) use start::move_start;

use std::path::Path;

use crate::error::ModuleError;

/// How deeply blocks (`block`, `loop`, `if`) may nest in one function.
/// Real code stays far below; deeper nesting makes the compiler take minutes.
pub(crate) const MAX_BLOCK_NESTING: usize = 1_000;

/// Checks the module's bytes before compiling them, in one linear pass: no
/// function may nest blocks deeper than [`MAX_BLOCK_NESTING`]. (A start
/// function is moved out of instantiation before, by [`move_start`].)
///
/// A malformed module passes: the compiler reports what is wrong with it.
pub(crate) fn prescan(wasm: &[u8]) -> Result<(), ModuleError> {
    use wasmer::wasmparser::{Operator, Parser, Payload};
    let mut function = 0;
    for payload in Parser::new(0).parse_all(wasm) {
        let Ok(payload) = payload else { return Ok(()) };
        let Payload::CodeSectionEntry(body) = payload else {
            continue;
        };
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
