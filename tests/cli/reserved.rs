//! The names Pocket's own plugins use (`builtin`, `lua`) are reserved on
//! every path a plugin file takes: start-up, `plugin load --alias`,
//! `plugin new`, pocket.toml's aliases (the server's live directories are
//! in `server/live.rs`).

use crate::deployment::{Deployment, lua_plugin, workflow};
use crate::{exec, listed_row};

/// A Lua plugin declaring itself `name`, whose node `echo` says it is an impostor.
fn impostor(name: &str) -> String {
    format!(
        "return {{ name = '{name}', nodes = {{ echo = {{ exec = function(input) return 'impostor' end }}, \
         lua = {{ exec = function(input) return 'impostor' end }} }} }}\n"
    )
}

/// Runs a one-node workflow of `node_type` in `d`: its output.
fn run(d: &Deployment, node_type: &str) -> serde_json::Value {
    let out = exec(
        d.pocket()
            .arg("run")
            .arg(workflow(d, node_type))
            .args(["--input", "{\"x\": 1}"]),
    );
    assert_eq!(out.code, 0, "{node_type}: {}", out.stderr);
    serde_json::from_str(&out.stdout).unwrap()
}

/// Pocket's own `echo` still answers a bare `echo` and `builtin/echo`.
fn builtin_echo_serves(d: &Deployment) {
    for node_type in ["echo", "builtin/echo"] {
        let output = run(d, node_type);
        assert_eq!(output["input"], serde_json::json!({ "x": 1 }), "{node_type}: {output}");
    }
}

#[test]
fn plugin_files_named_after_built_in_plugins_are_refused_at_start_up() {
    let d = Deployment::new(&["plugins"], "");
    for name in ["builtin", "lua", "Builtin"] {
        d.write(&format!("plugins/{name}.lua"), &impostor(name));
    }
    let out = exec(d.pocket().args(["plugin", "list"]));
    for name in ["builtin", "lua", "Builtin"] {
        assert!(
            out.stdout.contains(&format!("{name} failed to load")) && out.stdout.contains("built into Pocket"),
            "{name}: {}",
            out.stdout
        );
    }
    assert!(listed_row(&out.stdout, "builtin").contains("loaded"), "{}", out.stdout);
    builtin_echo_serves(&d);
    // Twice: the second run may register plugins from cached descriptions.
    builtin_echo_serves(&d);
}

#[test]
fn plugin_load_refuses_a_built_in_name_in_any_case_and_leaves_nothing_behind() {
    let d = Deployment::new(&["plugins"], "");
    let toml_before = std::fs::read_to_string(d.path("pocket.toml")).unwrap();
    let file = d.write("mine.lua", &lua_plugin("mine", "1.0.0", "echo"));
    for alias in ["Builtin", "LUA", "builtin"] {
        let out = exec(d.pocket().args(["plugin", "load"]).arg(&file).args(["--alias", alias]));
        assert_eq!(out.code, 1, "{alias}: {}", out.stdout);
        assert!(out.stderr.contains("built into Pocket"), "{alias}: {}", out.stderr);
    }
    let declares_builtin = d.write("declares.lua", &impostor("lua"));
    let out = exec(d.pocket().args(["plugin", "load"]).arg(&declares_builtin));
    assert!(
        out.code == 1 && out.stderr.contains("built into Pocket"),
        "{}",
        out.stderr
    );
    let out = exec(d.pocket().args(["plugin", "install"]).arg(&declares_builtin));
    assert!(
        out.code == 1 && out.stderr.contains("built into Pocket"),
        "{}",
        out.stderr
    );
    assert_eq!(std::fs::read_dir(d.path("plugins")).unwrap().count(), 0);
    assert_eq!(std::fs::read_to_string(d.path("pocket.toml")).unwrap(), toml_before);
    // The same file under a name of its own loads.
    let out = exec(d.pocket().args(["plugin", "load"]).arg(&file));
    assert_eq!(out.code, 0, "{}", out.stderr);
    builtin_echo_serves(&d);
}

#[test]
fn plugin_new_refuses_a_built_in_name() {
    let d = Deployment::new(&["plugins"], "");
    for name in ["builtin", "Lua"] {
        let dir = d.path(name);
        let out = exec(
            d.pocket()
                .args(["plugin", "new", name, "--kind", "lua", "--dir"])
                .arg(&dir),
        );
        assert_eq!(out.code, 1, "{name}: {}", out.stdout);
        assert!(out.stderr.contains("built into Pocket"), "{name}: {}", out.stderr);
        assert!(!dir.exists(), "{name}: a project was written");
    }
    let out = exec(
        d.pocket()
            .args(["plugin", "new", "greeter", "--kind", "lua", "--dir"])
            .arg(d.path("greeter")),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
}

#[test]
fn an_alias_in_pocket_toml_cannot_take_a_built_in_name() {
    let d = Deployment::new(&["plugins"], "[plugins.aliases]\nlua = \"mine\"\n");
    d.write("plugins/lua.lua", &impostor("mine"));
    let out = exec(d.pocket().args(["plugin", "list"]));
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        out.stderr.contains("[plugins.aliases] `lua`") && out.stderr.contains("built into Pocket"),
        "{}",
        out.stderr
    );
}
