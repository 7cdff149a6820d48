//! The module cache: a second load skips compiling; a corrupt entry is ignored and rewritten.

use pocket_wasm::{CompileSource, WasmEngine};

use crate::common::fixture;

#[test]
fn a_second_compile_loads_from_the_cache_and_a_corrupt_entry_is_rewritten() {
    let dir = tempfile::tempdir().unwrap();
    let engine = WasmEngine::builder().cache_dir(dir.path()).build();
    let wasm = wasmer::wat2wasm(&std::fs::read(fixture("echo.wat")).unwrap())
        .unwrap()
        .into_owned();
    assert_eq!(engine.compile(&wasm).unwrap().source, CompileSource::Compiled);
    assert_eq!(engine.compile(&wasm).unwrap().source, CompileSource::Cache);

    let entry = std::fs::read_dir(dir.path()).unwrap().next().unwrap().unwrap().path();
    let mut bytes = std::fs::read(&entry).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&entry, &bytes).unwrap();
    assert_eq!(
        engine.compile(&wasm).unwrap().source,
        CompileSource::Compiled,
        "corrupt entry ignored"
    );
    assert_eq!(
        engine.compile(&wasm).unwrap().source,
        CompileSource::Cache,
        "and rewritten"
    );

    std::fs::write(&entry, b"short").unwrap();
    assert_eq!(engine.compile(&wasm).unwrap().source, CompileSource::Compiled);

    let unmetered = WasmEngine::builder().cache_dir(dir.path()).metering(false).build();
    assert_eq!(
        unmetered.compile(&wasm).unwrap().source,
        CompileSource::Compiled,
        "another engine configuration has its own entries"
    );
}
