//! `.lua` plugin files: both forms, metadata, load errors.

use std::path::Path;

use pocket_core::{PluginKind, PluginLoader, PocketConfig};
use pocket_lua::LuaLoader;

use crate::common::{fixture, graph_with, json, run_graph};

fn load_error(name: &str) -> String {
    match LuaLoader::new().load(&fixture(&format!("plugins/{name}")), &PocketConfig::default()) {
        Ok(_) => panic!("{name} should not load"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn the_loader_handles_lua_files_only() {
    let loader = LuaLoader::new();
    assert_eq!(loader.kind(), PluginKind::Lua);
    assert!(loader.handles(Path::new("x/text-tools.lua")));
    assert!(loader.handles(Path::new("X.LUA")));
    assert!(!loader.handles(Path::new("x/plugin.wasm")));
}

#[test]
fn a_table_form_plugin_brings_its_metadata_and_node_types() {
    let plugin = LuaLoader::new()
        .load(&fixture("plugins/text-tools.lua"), &PocketConfig::default())
        .unwrap();
    let manifest = plugin.description();
    assert_eq!(
        (manifest.name.as_str(), manifest.version.as_str(), manifest.kind),
        ("text-tools", "1.0.0", PluginKind::Lua)
    );
    assert_eq!(manifest.description, "String helpers");
    assert!(manifest.source.as_ref().is_some_and(|p| p.ends_with("text-tools.lua")));
    let types = plugin.node_types();
    let names: Vec<&str> = types.iter().map(|t| t.name()).collect();
    assert_eq!(names, ["shout", "word-count"]);
    let schema = types[1].config_schema().unwrap();
    assert_eq!(schema["properties"]["field"]["default"], "text");
}

#[test]
fn a_plugin_calling_itself_by_another_plugins_name_is_refused_without_its_grants() {
    // text-tools may read PATH; impostor.lua says it is text-tools.
    let config = crate::common::config("[plugins.permissions]\ntext-tools = [\"env:PATH\"]\n");
    let err = match LuaLoader::new().load(&fixture("plugins/impostor.lua"), &config) {
        Ok(_) => panic!("the impostor loaded"),
        Err(e) => e.to_string(),
    };
    assert!(
        err.contains("calls itself `text-tools`") && err.contains("file is named `impostor`"),
        "refused by name, after its top-level code ran without text-tools' grant: {err}"
    );
    // The real text-tools still loads, with its grant.
    let real = LuaLoader::new()
        .load(&fixture("plugins/text-tools.lua"), &config)
        .unwrap();
    assert_eq!(real.description().version, "1.0.0");
}

#[tokio::test]
async fn table_form_nodes_run_with_schema_defaults_and_actions() {
    let yaml =
        "name: t\nstart: count\nnodes:\n- {name: count, type: word-count}\n- {name: loud, type: shout, config: {}}\n";
    let graph = graph_with(yaml, &PocketConfig::default(), &["text-tools.lua"]).unwrap();
    assert_eq!(
        run_graph(&graph, r#"{"text": "one two  three"}"#).await.unwrap(),
        json(r#"{"words": 3}"#)
    );
    let yaml = "name: t\nstart: loud\nnodes:\n- {name: loud, type: text-tools/shout}\n- {name: after, type: lua, config: {source: 'return { got = input.text }'}}\nconnections:\n- {from: loud, to: after, action: shouted}\n";
    let graph = graph_with(yaml, &PocketConfig::default(), &["text-tools.lua"]).unwrap();
    assert_eq!(
        run_graph(&graph, r#"{"text": "hi"}"#).await.unwrap(),
        json(r#"{"got": "HI"}"#)
    );
}

#[tokio::test]
async fn a_simple_form_plugin_is_one_node_type_named_by_its_header() {
    let plugin = LuaLoader::new()
        .load(&fixture("plugins/data-processor.lua"), &PocketConfig::default())
        .unwrap();
    assert_eq!(
        (
            plugin.description().name.as_str(),
            plugin.description().version.as_str()
        ),
        ("data-processor", "2.1.0")
    );
    assert_eq!(
        plugin.node_types()[0].description().description,
        "Doubles every number in input.values"
    );
    let graph = graph_with(
        "name: t\nstart: d\nnodes:\n- {name: d, type: data-processor}\n",
        &PocketConfig::default(),
        &["data-processor.lua"],
    )
    .unwrap();
    assert_eq!(
        run_graph(&graph, r#"{"values": [1, 2.5]}"#).await.unwrap(),
        json(r#"{"values": [2, 5.0], "count": 2}"#)
    );
    assert_eq!(
        run_graph(&graph, r#"{"values": []}"#).await.unwrap(),
        json(r#"{"values": [], "count": 0}"#)
    );
}

#[tokio::test]
async fn a_simple_form_script_can_just_return_its_result() {
    let graph = graph_with(
        "name: t\nstart: g\nnodes:\n- {name: g, type: greeter}\n",
        &PocketConfig::default(),
        &["greeter.lua"],
    )
    .unwrap();
    assert_eq!(
        run_graph(&graph, r#"{"name": "ada"}"#).await.unwrap(),
        json(r#"{"greeting": "hello ada"}"#)
    );
}

#[test]
fn a_syntax_error_at_load_names_the_file_and_line() {
    let err = load_error("broken-syntax.lua");
    assert!(err.contains("broken-syntax.lua:4:"), "{err}");
}

#[test]
fn an_endless_top_level_fails_loading_with_the_instruction_limit() {
    let err = load_error("spin-at-load.lua");
    assert!(
        err.contains("spin-at-load.lua") && err.contains("instructions limit exceeded"),
        "{err}"
    );
}

#[test]
fn a_plugin_table_without_nodes_is_refused_with_the_reason() {
    let err = load_error("no-nodes.lua");
    assert!(
        err.contains("no-nodes.lua: the plugin table has no `nodes` table"),
        "{err}"
    );
}

#[test]
fn an_unreadable_file_is_a_load_error() {
    let err = load_error("does-not-exist.lua");
    assert!(err.contains("cannot read"), "{err}");
}

#[test]
fn a_config_schema_nested_20000_deep_is_refused_at_load() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deep-schema.lua");
    std::fs::write(
        &path,
        "local s = {}\nfor i = 1, 20000 do s = {type = 'array', items = s} end\nreturn { name = 'deep-schema', nodes = { x = { config_schema = s, exec = function(input) return input end } } }\n",
    )
    .unwrap();
    let err = match LuaLoader::new().load(&path, &PocketConfig::default()) {
        Ok(_) => panic!("the plugin loaded"),
        Err(e) => e.to_string(),
    };
    assert!(
        err.contains("config_schema") && err.contains("nests more than 128 levels deep"),
        "{err}"
    );
}

#[test]
fn a_plugin_is_opened_from_the_bytes_the_gate_admitted_not_the_file_as_it_is_now() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.lua");
    std::fs::write(
        &path,
        "return { name = 'p', version = '1.0.0', nodes = { a = { exec = function(input) return input end } } }",
    )
    .unwrap();
    let admitted = pocket_core::admit(&path, &PocketConfig::default().plugins).unwrap();
    std::fs::write(&path, "error('the file changed after it was checked')").unwrap();
    let opened = LuaLoader::new()
        .open(&admitted.source("p"), &pocket_core::Limits::default())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(opened.description().version, "1.0.0");
    assert_eq!(opened.description().source.as_deref(), Some(path.as_path()));
}
