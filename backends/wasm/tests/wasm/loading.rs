//! Every rejected module shape, refused at load with an error naming the problem.

use std::path::Path;

use pocket_core::{PluginLoader, PocketConfig};

use crate::common::{fixture, loader};

fn load_error(name: &str) -> String {
    load_error_at(&fixture(name))
}

/// Why the module at `path` does not load.
fn load_error_at(path: &Path) -> String {
    match loader().load(path, &PocketConfig::default()) {
        Ok(_) => panic!("{} should not load", path.display()),
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
fn an_import_wasi_does_not_have_is_rejected_naming_it() {
    let err = load_error("wasi-unknown.wat");
    assert!(
        err.contains("import `wasi_snapshot_preview1.sock_open` is not allowed"),
        "{err}"
    );
    assert!(err.contains("not a WASI preview 1 function"), "{err}");
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
fn an_initial_table_over_the_cap_is_rejected_at_load() {
    let err = load_error("table-too-large.wat");
    assert!(
        err.contains("a table of 10000000 elements exceeds the table limit of 100000 elements"),
        "{err}"
    );
    let err = loader()
        .load(&fixture("table-too-large.wat"), &PocketConfig::default())
        .map(drop)
        .unwrap_err();
    assert!(
        err.reason().contains("table limit"),
        "plugin check refuses it too: {err}"
    );
}

#[test]
fn a_start_function_runs_after_instantiation_within_the_plugins_fuel() {
    // Its start function loops forever: run inside instantiation, before any
    // fuel budget or watchdog, it would hang the load. Moved out, it is
    // stopped by its fuel, and the load fails saying so.
    let err = load_error("start-loop.wat");
    assert!(
        err.contains("the start function failed") && err.contains("fuel limit exceeded"),
        "{err}"
    );
}

#[test]
fn an_optional_export_with_another_signature_is_rejected_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("echo.wat");
    let echo = std::fs::read_to_string(fixture("echo.wat")).unwrap();
    let end = echo.rfind(')').unwrap();
    let features = r#"(func (export "pocket_abi_features") (result i64) (i64.const 1))"#;
    std::fs::write(&path, format!("{}{features}){}", &echo[..end], &echo[end + 1..])).unwrap();
    let err = load_error_at(&path);
    assert!(
        err.contains("export `pocket_abi_features` has signature") && err.contains("expected [] -> [I32]"),
        "{err}"
    );
}

#[test]
fn deeply_nested_blocks_are_refused_before_compiling() {
    // 5,000 nested blocks took cranelift minutes; refused in a linear scan.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested.wat");
    let depth = 5_000;
    let body = format!("{}{}", "(block ".repeat(depth), ")".repeat(depth));
    std::fs::write(&path, format!("(module (func {body}) (func))")).unwrap();
    let err = load_error_at(&path);
    assert!(
        err.contains("function 0") && err.contains("at most 1000 are allowed"),
        "{err}"
    );
}

#[test]
fn bytes_that_are_not_webassembly_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junk.wasm");
    std::fs::write(&path, b"\0asm but not really").unwrap();
    let err = load_error_at(&path);
    assert!(err.contains("not a valid WebAssembly module"), "{err}");
}

#[test]
fn a_module_calling_itself_by_another_plugins_name_is_refused() {
    // `aaa.wat` is the echo module, which says it is `echo`: it must not get
    // echo's grants and config, nor push the real echo out as a duplicate.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("aaa.wat");
    std::fs::copy(fixture("echo.wat"), &path).unwrap();
    let config = crate::common::config("[plugins.permissions]\necho = [\"http\", \"kv\"]\n");
    let err = loader().load(&path, &config).err().unwrap().to_string();
    assert!(
        err.contains("calls itself `echo`") && err.contains("rename the file to `echo.wat`"),
        "{err}"
    );
    assert!(loader().load(&fixture("echo.wat"), &config).is_ok());
}

#[test]
fn loading_gives_the_description_of_a_valid_module_and_the_reason_for_an_invalid_one() {
    let plugin = loader().load(&fixture("echo.wat"), &PocketConfig::default()).unwrap();
    assert_eq!(plugin.description().name, "echo");
    assert_eq!(plugin.description().nodes[0].node_type, "echo");
    let err = loader()
        .load(&fixture("forbidden-import.wat"), &PocketConfig::default())
        .map(drop)
        .unwrap_err();
    assert!(err.reason().contains("env.system"), "{err}");
    assert!(
        matches!(
            err.cause.downcast_ref::<pocket_wasm::ModuleError>(),
            Some(pocket_wasm::ModuleError::ForbiddenImport { .. })
        ),
        "the backend's typed error is kept: {err:?}"
    );
}

#[test]
fn the_loader_handles_wasm_and_wat_files_only() {
    let loader = loader();
    assert!(loader.handles(Path::new("a.wasm")));
    assert!(loader.handles(Path::new("a.WAT")));
    assert!(!loader.handles(Path::new("a.lua")));
    assert!(!loader.handles(Path::new("wasm")));
}

#[test]
fn a_module_is_opened_from_the_bytes_the_gate_admitted_not_the_file_as_it_is_now() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("echo.wat");
    std::fs::copy(fixture("echo.wat"), &path).unwrap();
    let admitted = pocket_core::admit(&path, &PocketConfig::default().plugins).unwrap();
    std::fs::copy(fixture("forbidden-import.wat"), &path).unwrap();
    let opened = loader()
        .open(&admitted.source("echo"), &pocket_core::Limits::default())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(opened.description().name, "echo");
    assert_eq!(opened.description().source.as_deref(), Some(path.as_path()));
    let err = loader().load(&path, &PocketConfig::default()).map(drop).unwrap_err();
    assert!(err.reason().contains("env.system"), "the file as it is now: {err}");
}
