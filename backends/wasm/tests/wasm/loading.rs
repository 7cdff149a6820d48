//! Every rejected module shape, refused at load with an error naming the problem.

use std::path::Path;

use pocket_core::{PluginLoader, PocketConfig};

use crate::common::{fixture, loader};

fn load_error(name: &str) -> String {
    match loader().load_plugin(&fixture(name), &PocketConfig::default()) {
        Ok(_) => panic!("{name} should not load"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_forbidden_import_is_rejected_naming_it() {
    let err = load_error("forbidden-import.wat");
    assert!(err.contains("import `env.system` is not allowed"), "{err}");
    assert!(err.contains("forbidden-import.wat"), "{err}");
}

#[test]
fn a_wasi_import_is_rejected_naming_it() {
    let err = load_error("wasi-import.wat");
    assert!(
        err.contains("import `wasi_snapshot_preview1.fd_write` is not allowed"),
        "{err}"
    );
    assert!(err.contains("WASI"), "{err}");
}

#[test]
fn a_missing_export_is_rejected_naming_it() {
    let err = load_error("missing-export.wat");
    assert!(err.contains("export `pocket_exec` is missing"), "{err}");
}

#[test]
fn a_wrong_abi_version_is_rejected() {
    let err = load_error("wrong-abi-version.wat");
    assert!(err.contains("ABI version 2 is not supported"), "{err}");
}

#[test]
fn initial_memory_over_the_cap_is_rejected_at_load() {
    let err = load_error("memory-too-large.wat");
    assert!(
        err.contains("initial linear memory of 134217728 bytes exceeds the memory limit of 67108864 bytes"),
        "{err}"
    );
}

#[test]
fn bytes_that_are_not_webassembly_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junk.wasm");
    std::fs::write(&path, b"\0asm but not really").unwrap();
    let err = loader()
        .load_plugin(&path, &PocketConfig::default())
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("not a valid WebAssembly module"), "{err}");
}

#[test]
fn check_returns_the_manifest_of_a_valid_module_and_the_reason_for_an_invalid_one() {
    let manifest = loader().check(&fixture("echo.wat"), &PocketConfig::default()).unwrap();
    assert_eq!(manifest.name, "echo");
    assert_eq!(manifest.nodes[0].node_type, "echo");
    let err = pocket_wasm::check(&fixture("forbidden-import.wat"), &PocketConfig::default()).unwrap_err();
    assert!(err.reason.contains("env.system"), "{err}");
}

#[test]
fn the_loader_handles_wasm_and_wat_files_only() {
    let loader = loader();
    assert!(loader.handles(Path::new("a.wasm")));
    assert!(loader.handles(Path::new("a.WAT")));
    assert!(!loader.handles(Path::new("a.lua")));
    assert!(!loader.handles(Path::new("wasm")));
}
