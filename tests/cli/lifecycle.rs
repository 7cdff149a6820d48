//! A plugin's life through the CLI: names and clashes, aliases, loading into
//! the right directory, plugin config in pocket.toml, unloading.

use serde_json::json;

use crate::deployment::{Deployment, lua_plugin, workflow};
use crate::{example_plugins, exec, list_row, pocket, root};

#[test]
fn two_plugins_with_one_type_name_both_load_and_full_names_tell_them_apart() {
    let d = Deployment::new(&["plugins"], "");
    d.write("plugins/csv-lua.lua", &lua_plugin("csv-lua", "1.0.0", "sum-column"));
    d.write("plugins/csv-more.lua", &lua_plugin("csv-more", "1.0.0", "sum-column"));

    let list = exec(d.pocket().args(["plugin", "list", "--strict"]));
    assert_eq!(list.code, 0, "both load: {}{}", list.stdout, list.stderr);

    let bare = workflow(&d, "sum-column");
    let out = exec(d.pocket().arg("validate").arg(&bare));
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("flow.yaml:5")
            && out.stderr.contains("`sum-column` is ambiguous")
            && out.stderr.contains("`csv-lua/sum-column`")
            && out.stderr.contains("`csv-more/sum-column`"),
        "{}",
        out.stderr
    );
    for (full, from) in [
        ("csv-lua/sum-column", "csv-lua@1.0.0"),
        ("csv-more/sum-column", "csv-more@1.0.0"),
    ] {
        let out = exec(d.pocket().arg("run").arg(workflow(&d, full)));
        assert_eq!(out.code, 0, "{full}: {}", out.stderr);
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&out.stdout).unwrap(),
            json!({"from": from})
        );
    }
    let nodes = exec(d.pocket().arg("nodes"));
    assert!(nodes.stdout.contains("csv-more/sum-column"), "{}", nodes.stdout);
}

#[test]
fn a_plugin_cannot_take_over_a_built_in_type_name() {
    let d = Deployment::new(&["plugins"], "");
    d.write("plugins/impostor.lua", &lua_plugin("impostor", "1.0.0", "echo"));
    let out = exec(d.pocket().arg("run").arg(workflow(&d, "echo")));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("Hello from echo node"), "{}", out.stdout);
    let out = exec(d.pocket().arg("run").arg(workflow(&d, "impostor/echo")));
    assert!(out.stdout.contains("impostor@1.0.0"), "{}", out.stdout);
}

#[test]
fn an_alias_loads_a_second_version_of_a_plugin_beside_the_first() {
    let d = Deployment::new(&["plugins"], "");
    d.write("plugins/text.lua", &lua_plugin("text", "2.0.0", "slugify"));
    let old = d.write("text-1.0.lua", &lua_plugin("text", "1.0.0", "slugify"));

    let clash = exec(d.pocket().args(["plugin", "load"]).arg(&old));
    assert_eq!(clash.code, 1);
    assert!(clash.stderr.contains("--alias"), "{}", clash.stderr);

    let out = exec(
        d.pocket()
            .args(["plugin", "load"])
            .arg(&old)
            .args(["--alias", "text-v1"]),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("(as `text-v1`)"), "{}", out.stdout);
    assert!(d.path("plugins/text-v1.lua").is_file());
    assert_eq!(d.pocket_toml()["plugins"]["aliases"]["text-v1"].as_str(), Some("text"));

    for (full, from) in [("text/slugify", "text@2.0.0"), ("text-v1/slugify", "text@1.0.0")] {
        let out = exec(d.pocket().arg("run").arg(workflow(&d, full)));
        assert_eq!(out.code, 0, "{full}: {}", out.stderr);
        assert!(out.stdout.contains(from), "{full}: {}", out.stdout);
    }

    let out = exec(d.pocket().args(["plugin", "unload", "text-v1"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!d.path("plugins/text-v1.lua").exists());
    assert!(d.pocket_toml()["plugins"]["aliases"].get("text-v1").is_none());
}

#[test]
fn an_alias_in_pocket_toml_must_name_the_plugin_the_file_holds() {
    let d = Deployment::new(&["plugins"], "[plugins.aliases]\nmine = \"text\"\n");
    d.write("plugins/mine.lua", &lua_plugin("other", "1.0.0", "t"));
    let out = exec(d.pocket().args(["plugin", "list"]));
    let row = list_row(&out.stdout, "mine").unwrap_or_else(|| panic!("{}", out.stdout));
    assert!(row.contains("failed"), "{row}");
    assert!(out.stdout.contains("alias of plugin `text`"), "{}", out.stdout);
}

#[test]
fn plugin_load_picks_the_directory_by_kind_and_names_the_file_after_the_plugin() {
    example_plugins();
    let d = Deployment::new(&["lua", "wasm", "native"], "");
    d.write("lua/first.lua", &lua_plugin("first", "1.0.0", "a"));
    std::fs::copy(
        root().join("examples/plugins/wasm/hello-wat.wat"),
        d.path("wasm/hello-wat.wat"),
    )
    .unwrap();
    std::fs::copy(
        root().join("examples/plugins/native/redis-cache.so"),
        d.path("native/redis-cache.so"),
    )
    .unwrap();
    let cargo_named = d.path("libpocket_native_text.so");
    std::fs::copy(root().join("examples/plugins/native/native-text.so"), &cargo_named).unwrap();

    let out = exec(d.pocket().args(["plugin", "load"]).arg(&cargo_named));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(d.path("native/native-text.so").is_file(), "{}", out.stdout);

    let lua = d.write("second.lua", &lua_plugin("second", "1.0.0", "b"));
    exec(d.pocket().args(["plugin", "load"]).arg(&lua));
    assert!(d.path("lua/second.lua").is_file());

    let third = d.write("third.lua", &lua_plugin("third", "1.0.0", "c"));
    let out = exec(
        d.pocket()
            .args(["plugin", "load", "--dir"])
            .arg(d.path("wasm"))
            .arg(&third),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(d.path("wasm/third.lua").is_file());
    let fourth = d.write("fourth.lua", &lua_plugin("fourth", "1.0.0", "d"));
    let out = exec(d.pocket().args(["plugin", "load", "--dir", "/tmp"]).arg(&fourth));
    assert!(
        out.code == 1 && out.stderr.contains("not one of pocket.toml's plugin directories"),
        "{}",
        out.stderr
    );
}

#[test]
fn plugin_load_of_a_directory_loads_every_plugin_and_unload_all_removes_them() {
    let d = Deployment::new(&["plugins"], "");
    std::fs::create_dir(d.path("bundle")).unwrap();
    d.write("bundle/one.lua", &lua_plugin("one", "1.0.0", "a"));
    d.write("bundle/two.lua", &lua_plugin("two", "1.0.0", "b"));
    d.write("bundle/broken.lua", "return {");
    d.write("bundle/README.txt", "not a plugin");

    let out = exec(d.pocket().args(["plugin", "load"]).arg(d.path("bundle")));
    assert_eq!(out.code, 1, "one plugin is broken: {}", out.stdout);
    assert!(out.stdout.contains("loaded 2 of 3 plugins"), "{}", out.stdout);
    assert!(out.stderr.contains("broken.lua"), "{}", out.stderr);
    assert!(d.path("plugins/one.lua").is_file() && d.path("plugins/two.lua").is_file());
    assert!(!d.path("plugins/broken.lua").exists());

    d.write("plugins/failing.lua", "return {");
    let out = exec(d.pocket().args(["plugin", "unload", "--all"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        std::fs::read_dir(d.path("plugins")).unwrap().count(),
        0,
        "{}",
        out.stdout
    );
}

#[test]
fn plugin_load_stores_the_plugin_config_given_as_yaml_or_toml_in_pocket_toml() {
    let d = Deployment::new(&["plugins"], "# keep me\n");
    let plugin = d.write(
        "greeter.lua",
        "return { name = 'greeter', nodes = { greet = { exec = function(input, config) \
         return { greeting = config.greeting } end } } }\n",
    );
    let yaml = d.write("greeter.yaml", "greeting: hej\nlimits:\n  rows: 3\n");
    let out = exec(
        d.pocket()
            .args(["plugin", "load"])
            .arg(&plugin)
            .arg("--config")
            .arg(&yaml),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let written = std::fs::read_to_string(d.path("pocket.toml")).unwrap();
    assert!(written.contains("# keep me"), "{written}");
    assert_eq!(
        d.pocket_toml()["plugins"]["config"]["greeter"]["greeting"].as_str(),
        Some("hej")
    );
    let out = exec(d.pocket().arg("run").arg(workflow(&d, "greet")));
    assert_eq!(out.stdout.trim(), "{\n  \"greeting\": \"hej\"\n}", "{}", out.stderr);

    let null = d.write("null.yaml", "greeting: ~\n");
    let other = d.write("other.lua", &lua_plugin("other", "1.0.0", "x"));
    let out = exec(
        d.pocket()
            .args(["plugin", "load"])
            .arg(&other)
            .arg("--config")
            .arg(&null),
    );
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("null"), "{}", out.stderr);
    assert!(
        !d.path("plugins/other.lua").exists(),
        "a refused load leaves nothing behind"
    );
}

/// A Lua plugin `shout` whose examples are right, plus one that is wrong
/// when `wrong` is set.
fn shouting_plugin(wrong: bool) -> String {
    let extra = if wrong {
        "{ name = 'wrong', input = { text = 'a' }, output = { text = 'a' } },"
    } else {
        ""
    };
    format!(
        "return {{ name = 'shout', nodes = {{ upper = {{ \
           config_schema = {{ type = 'object', properties = {{ suffix = {{ type = 'string', default = '' }} }} }}, \
           examples = {{ \
             {{ input = {{ text = 'hi' }}, output = {{ text = 'HI' }} }}, \
             {{ input = {{ text = 'hi' }}, config = {{ suffix = '!' }}, output = {{ text = 'HI!' }} }}, \
             {{ name = 'no text', input = {{}}, error = 'needs a text' }}, \
             {extra} \
           }}, \
           exec = function(input, config) \
             if type(input.text) ~= 'string' then error('needs a text field') end \
             return {{ text = string.upper(input.text) .. config.suffix }} \
           end }} }} }}\n"
    )
}

#[test]
fn plugin_test_runs_the_declared_examples_and_fails_on_a_wrong_one() {
    let d = Deployment::new(&["plugins"], "");
    let good = d.write("shout.lua", &shouting_plugin(false));
    let out = exec(d.pocket().args(["plugin", "test"]).arg(&good));
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("shout/upper:")
            && out.stdout.contains("ok    no text")
            && out.stdout.contains("3 passed, 0 failed"),
        "{}",
        out.stdout
    );

    let bad = d.write("plugins/shout.lua", &shouting_plugin(true));
    let out = exec(d.pocket().args(["plugin", "test", "shout"]));
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        out.stdout
            .contains(r#"FAIL  wrong: expected output {"text":"a"}, got {"text":"A"}"#)
            && out.stdout.contains("3 passed, 1 failed"),
        "{}",
        out.stdout
    );

    let input = d.write("input.yaml", "text: hey\n");
    let config = d.write("config.toml", "suffix = '?'\n");
    let out = exec(
        d.pocket()
            .args(["plugin", "test"])
            .arg(&bad)
            .arg("--input")
            .arg(&input)
            .arg("--config")
            .arg(&config),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&out.stdout).unwrap(),
        json!({"text": "HEY?"})
    );

    let out = exec(d.pocket().args(["plugin", "bench", "shout", "--calls", "20"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let row = out
        .stdout
        .lines()
        .find(|l| l.starts_with("shout/upper"))
        .unwrap_or_else(|| panic!("{}", out.stdout));
    assert_eq!(row.split_whitespace().nth(1), Some("20"), "{row}");
}

#[test]
fn plugin_test_runs_native_and_wasm_examples_too() {
    example_plugins();
    // Every language's example: native, Rust (bare and on WASI), Go, Zig,
    // AssemblyScript, JavaScript, and the two unchanged Extism plugins.
    for plugin in [
        "native-text",
        "text-stats",
        "wasi-files",
        "go-text",
        "zig-text",
        "as-text",
        "js-text",
        "extism-text",
        "extism-as",
    ] {
        let out = exec(pocket().args(["plugin", "test", plugin]));
        assert_eq!(out.code, 0, "{plugin}: {}{}", out.stdout, out.stderr);
        assert!(out.stdout.contains(" 0 failed"), "{}", out.stdout);
    }
}

#[test]
fn plugin_info_shows_required_keys_examples_and_only_the_limits_of_its_kind() {
    let d = Deployment::new(&["plugins"], "");
    d.write(
        "plugins/strict.lua",
        "return { name = 'strict', nodes = { pick = { \
           config_schema = { type = 'object', required = { 'field' }, properties = { field = { type = 'string' } } }, \
           examples = { { input = { a = 1 }, config = { field = 'a' }, output = 1 } }, \
           exec = function(input, config) return input[config.field] end } } }\n",
    );
    let out = exec(d.pocket().args(["plugin", "info", "strict"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("strict/pick"), "{}", out.stdout);
    assert!(out.stdout.contains("field: string (required)"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains(r#"example 1: input {"a":1} config {"field":"a"} -> 1"#),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("instructions") && !out.stdout.contains("fuel"),
        "{}",
        out.stdout
    );

    let out = exec(d.pocket().arg("validate").arg(workflow(&d, "strict/pick")));
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("\"field\" is a required property"),
        "{}",
        out.stderr
    );

    example_plugins();
    let native = exec(pocket().args(["plugin", "info", "native-text"]));
    assert!(
        !native.stdout.contains("fuel") && !native.stdout.contains("instructions"),
        "{}",
        native.stdout
    );
    assert!(native.stdout.contains("limits: none on its code"), "{}", native.stdout);
}

#[test]
fn an_extism_plugin_loads_and_unloads_with_the_manifest_beside_it() {
    let d = Deployment::new(&["plugins"], "");
    let module = std::fs::read_to_string(root().join("backends/wasm/tests/fixtures/extism-attacks.wat")).unwrap();
    let file = d.write("kernel.wat", &module);
    d.write(
        "kernel.extism.toml",
        "version = \"2.0.0\"\n[nodes.ok]\ndescription = \"answers ok\"\n\
         examples = [{ input = 1, output = \"ok\" }]\n",
    );
    let out = exec(d.pocket().args(["plugin", "load"]).arg(&file));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        d.path("plugins/kernel.extism.toml").is_file(),
        "the manifest goes with it"
    );
    let info = exec(d.pocket().args(["plugin", "info", "kernel"]));
    assert!(
        info.stdout.contains("2.0.0") && info.stdout.contains("answers ok"),
        "{}",
        info.stdout
    );
    let test = exec(d.pocket().args(["plugin", "test", "kernel"]));
    assert!(
        test.stdout.contains("1 passed, 0 failed"),
        "{}{}",
        test.stdout,
        test.stderr
    );
    // A changed manifest is read again: cached descriptions are of the
    // module and the manifest beside it.
    let list = exec(d.pocket().args(["plugin", "list"]));
    assert!(list.stdout.contains("2.0.0"), "{}", list.stdout);
    d.write("plugins/kernel.extism.toml", "version = \"3.0.0\"\n");
    let list = exec(d.pocket().args(["plugin", "list"]));
    assert!(list.stdout.contains("3.0.0"), "{}", list.stdout);
    let out = exec(d.pocket().args(["plugin", "unload", "kernel"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!d.path("plugins/kernel.wat").exists() && !d.path("plugins/kernel.extism.toml").exists());
}
