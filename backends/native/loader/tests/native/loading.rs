//! Which libraries load, which are refused, and why.

use std::path::Path;

use pocket_core::{PluginKind, PluginLoader, PocketConfig};
use pocket_native::NativeLoader;

use crate::common::*;

#[test]
fn the_example_plugin_loads_with_its_manifest_and_node_types() {
    let path = lib(TEXT_TOOLS);
    let plugin = load(&path, &PocketConfig::default()).unwrap();
    let manifest = plugin.description();
    assert_eq!(manifest.name, "native-text");
    assert_eq!(manifest.kind, PluginKind::Native);
    assert_eq!(manifest.source.as_deref(), Some(path.as_path()));
    let names: Vec<String> = plugin.node_types().iter().map(|t| t.name().to_string()).collect();
    assert!(names.contains(&"text-upper".to_string()), "{names:?}");
    let upper = plugin
        .node_types()
        .into_iter()
        .find(|t| t.name() == "text-upper")
        .unwrap();
    let schema = upper.config_schema().unwrap();
    assert_eq!(schema["properties"]["field"]["default"], "text");
}

#[test]
fn a_library_built_with_panic_abort_is_refused_before_its_code_runs() {
    let path = crate::libraries::aborting_library();
    let err = load(&path, &PocketConfig::default()).err().expect("refused");
    let message = err.to_string();
    assert!(
        message.contains(&path.display().to_string())
            && message.contains("built with panic = \"abort\"")
            && message.contains("panic = \"unwind\""),
        "{message}"
    );
    // The host goes on loading and running the others.
    assert!(load(&lib(CRASHY), &PocketConfig::default()).is_ok());
}

#[test]
fn two_plugins_loaded_at_once_keep_their_own_modules() {
    let config = PocketConfig::default();
    let text = load(&lib(TEXT_TOOLS), &config).unwrap();
    let crashy = load(&lib(CRASHY), &config).unwrap();
    let redis = load(&lib(REDIS_CACHE), &config).unwrap();
    assert_eq!(text.description().name, "native-text");
    assert_eq!(crashy.description().name, "crashy");
    assert_eq!(redis.description().name, "redis-cache");
    assert!(crashy.node_types().iter().any(|t| t.name() == "crash"));
    // Loading the first again still describes the first, not the last one loaded.
    assert_eq!(
        load(&lib(TEXT_TOOLS), &config).unwrap().description().name,
        "native-text"
    );
}

#[test]
fn the_loader_handles_library_extensions_only() {
    let loader = NativeLoader::new();
    for file in ["a.so", "b.dylib", "c.dll", "D.SO"] {
        assert!(loader.handles(Path::new(file)), "{file}");
    }
    for file in ["a.lua", "b.wasm", "so", "c.so.txt"] {
        assert!(!loader.handles(Path::new(file)), "{file}");
    }
}

#[test]
fn a_garbage_file_is_refused_as_not_a_library() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("garbage.so");
    std::fs::write(&path, b"this is not an ELF file, just text pretending").unwrap();
    let error = load(&path, &PocketConfig::default()).err().unwrap();
    assert_eq!(error.path, path);
    assert!(error.reason().starts_with("not a loadable dynamic library"), "{error}");
    assert!(error.to_string().contains("garbage.so"), "{error}");
}

#[test]
fn a_library_without_a_root_module_is_refused_as_not_a_plugin() {
    let path = lib(NOT_A_PLUGIN);
    let error = load(&path, &PocketConfig::default()).err().unwrap();
    assert_eq!(error.path, path);
    assert!(error.reason().starts_with("not a Pocket plugin"), "{error}");
}

#[test]
fn a_plugin_built_against_another_interface_version_is_refused() {
    let error = load(&lib(OLD_INTERFACE), &PocketConfig::default()).err().unwrap();
    assert!(
        error.reason().contains("built against plugin interface 0.9.0")
            && error
                .reason()
                .contains(&format!("loads interface {}", pocket_native::INTERFACE_VERSION)),
        "{error}"
    );
}

#[test]
fn refused_files_do_not_stop_the_others_from_loading() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("aaa-garbage.so"), b"junk").unwrap();
    std::fs::copy(lib(OLD_INTERFACE), dir.path().join("bbb-old.so")).unwrap();
    std::fs::copy(lib(TEXT_TOOLS), dir.path().join("ccc-text.so")).unwrap();
    let config = PocketConfig::default();
    let files = pocket_core::plugin_files(&[dir.path().to_path_buf()]);
    let results: Vec<_> = files.iter().map(|f| load(f, &config)).collect();
    assert_eq!(results.iter().filter(|r| r.is_err()).count(), 2);
    let loaded: Vec<String> = results
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(|p| p.description().name.clone())
        .collect();
    assert_eq!(loaded, ["native-text"]);
}

#[test]
fn a_library_is_opened_from_a_private_copy_of_the_bytes_the_gate_admitted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("native-text.so");
    std::fs::copy(lib(TEXT_TOOLS), &path).unwrap();
    let config = PocketConfig::default();
    let admitted = pocket_core::admit(&path, &config.plugins).unwrap();
    std::fs::write(&path, b"the file changed after it was checked").unwrap();
    let opened = NativeLoader::new()
        .open(&admitted.source("native-text"), &pocket_core::Limits::default())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(opened.description().name, "native-text");
    assert_eq!(opened.description().source.as_deref(), Some(path.as_path()));
    // Through the whole gate, the changed file is what is read, and refused.
    let err = NativeLoader::new().load(&path, &config).err().unwrap();
    assert!(err.to_string().contains(path.to_str().unwrap()), "{err}");
}
