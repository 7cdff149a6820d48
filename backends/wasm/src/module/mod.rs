//! Module files: reading `.wasm` and `.wat` bytes, and [`validate`]: the
//! checks a compiled module passes before it is ever instantiated.

pub(crate) mod validate;

use std::path::Path;

use crate::error::ModuleError;

/// The binary WebAssembly in `path`: `.wat` text is converted, anything else read as is.
pub(crate) fn read_wasm(path: &Path) -> Result<Vec<u8>, ModuleError> {
    let bytes = std::fs::read(path).map_err(|e| ModuleError::Read(e.to_string()))?;
    let is_text = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("wat"));
    if is_text {
        wasmer::wat2wasm(&bytes)
            .map(|wasm| wasm.into_owned())
            .map_err(|e| ModuleError::Compile(e.to_string()))
    } else {
        Ok(bytes)
    }
}
