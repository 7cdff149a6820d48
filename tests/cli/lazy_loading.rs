//! Lazy plugin loading: a run registers every plugin from its cached
//! description and loads only the plugins whose node types it uses.

use std::process::Command;

use crate::deployment::{Deployment, lua_plugin, workflow};
use crate::{exec, listed_row};

/// `pocket` in `d` with its own description cache and debug logs.
fn pocket(d: &Deployment) -> Command {
    let mut cmd = d.pocket();
    cmd.env("POCKET_CACHE_DIR", d.path("cache")).env("POCKET_LOG", "debug");
    cmd
}

fn run(d: &Deployment, node_type: &str) -> crate::Outcome {
    exec(pocket(d).arg("run").arg(workflow(d, node_type)))
}

/// Whether the log shows the Lua plugin `name` being opened (its code running).
fn opened(out: &crate::Outcome, name: &str) -> bool {
    let file = format!("{name}.lua");
    out.stderr
        .lines()
        .any(|l| l.contains("opened Lua plugin") && l.contains(&file))
}

#[test]
fn a_run_loads_only_the_plugins_it_uses_once_their_descriptions_are_cached() {
    let d = Deployment::new(&["plugins"], "");
    d.write("plugins/used.lua", &lua_plugin("used", "1.0.0", "go"));
    d.write("plugins/idle.lua", &lua_plugin("idle", "1.0.0", "wait"));
    let first = run(&d, "used/go");
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert!(
        opened(&first, "idle"),
        "nothing cached yet: every plugin loads\n{}",
        first.stderr
    );

    let second = run(&d, "used/go");
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert!(second.stdout.contains("used@1.0.0"), "{}", second.stdout);
    assert!(
        opened(&second, "used"),
        "the used plugin loads on first use\n{}",
        second.stderr
    );
    assert!(
        !opened(&second, "idle"),
        "the idle one does not load\n{}",
        second.stderr
    );
    let echo = run(&d, "echo");
    assert!(!opened(&echo, "used") && !opened(&echo, "idle"), "{}", echo.stderr);

    // A changed file is loaded afresh, and its new version is what runs.
    d.write("plugins/used.lua", &lua_plugin("used", "2.0.0-changed", "go"));
    let changed = run(&d, "used/go");
    assert!(changed.stdout.contains("used@2.0.0-changed"), "{}", changed.stdout);
}

#[test]
fn plugin_list_still_shows_every_plugin_and_a_broken_one_as_failed() {
    let d = Deployment::new(&["plugins"], "");
    d.write("plugins/fine.lua", &lua_plugin("fine", "1.0.0", "go"));
    d.write("plugins/later-broken.lua", &lua_plugin("later-broken", "1.0.0", "go"));
    assert_eq!(run(&d, "fine/go").code, 0);
    d.write("plugins/later-broken.lua", "return {");
    let list = exec(pocket(&d).args(["plugin", "list"]));
    assert!(listed_row(&list.stdout, "fine").contains("loaded"), "{}", list.stdout);
    assert!(
        listed_row(&list.stdout, "later-broken").contains("failed"),
        "{}",
        list.stdout
    );
    let used = run(&d, "later-broken/go");
    assert_eq!(used.code, 1, "{}", used.stderr);
    assert!(used.stderr.contains("later-broken"), "{}", used.stderr);
}

#[test]
fn a_cached_plugin_is_still_refused_at_first_use_when_its_signature_is_required() {
    let d = Deployment::new(&["plugins"], "");
    d.write("plugins/unsigned.lua", &lua_plugin("unsigned", "1.0.0", "go"));
    assert_eq!(
        run(&d, "unsigned/go").code,
        0,
        "cached while signatures are not required"
    );
    d.write(
        "pocket.toml",
        "[plugins]\ndirectories = [\"plugins\"]\nrequire_signatures = true\n",
    );
    let out = run(&d, "unsigned/go");
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("unsigned.lua") && out.stderr.contains("not signed"),
        "{}",
        out.stderr
    );
}
