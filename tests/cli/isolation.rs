//! Native plugins under `isolation = "process"` through the real binary:
//! each attack (a segfault, `abort()`, a panic in a `panic = "abort"`
//! library, an endless loop, a crash while loading) fails one node or one
//! plugin, and the run or the host carries on with a new plugin process.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::deployment::Deployment;
use crate::libraries;
use crate::{exec, listed_row};

const CRASHY: &str = "pocket-native-fixture-crashy";
const HOST_CALLS: &str = "pocket-native-fixture-host-calls";
const TEXT_TOOLS: &str = "pocket-plugin-text-tools";

/// A deployment whose `native/` directory holds each `(library, name)` as
/// `name.so`, with `extra` pocket.toml after `[plugins]`.
fn deployment(libraries: &[(PathBuf, &str)], extra: &str) -> Deployment {
    let d = Deployment::new(&["native"], extra);
    for (library, name) in libraries {
        std::fs::copy(library, d.path(&format!("native/{name}.so"))).unwrap();
    }
    d
}

/// crashy, isolated, with a 2s timeout limit.
fn crashy() -> Deployment {
    deployment(
        &[(libraries::library(CRASHY), "crashy")],
        "[plugins.isolation]\ncrashy = \"process\"\n\n[plugins.limits.crashy]\ntimeout = \"2s\"\n",
    )
}

/// Runs `workflow` (YAML) in `d` with `input`; the run must succeed.
fn run(d: &Deployment, workflow: &str, input: &str) -> Value {
    let path = d.write("flow.yaml", workflow);
    let out = exec(d.pocket().arg("run").arg(&path).args(["--input", input]));
    assert_eq!(out.code, 0, "pocket run failed:\n{}\n{}", out.stdout, out.stderr);
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", out.stdout))
}

/// `first` (a crashy node type), then on its error edge crashy's `echo`,
/// which must run in a new process of the same plugin.
fn attack_then_echo(node_type: &str, node_extra: &str) -> String {
    format!(
        "name: attack\nstart: attack\nnodes:\n\
         - {{name: attack, type: {node_type}{node_extra}}}\n\
         - {{name: after, type: crashy/echo}}\n\
         connections:\n- {{from: attack, to: after, action: error}}\n"
    )
}

/// The error the attacking node left for the node on its error edge.
fn error_of(output: &Value) -> &str {
    assert_eq!(output["input"], json!({"n": 1}), "{output}");
    output["error"].as_str().unwrap_or_else(|| panic!("no error: {output}"))
}

#[test]
fn a_segfault_fails_its_node_and_the_next_node_runs_in_a_new_process() {
    let d = crashy();
    let output = run(&d, &attack_then_echo("crashy/segfault", ""), r#"{"n": 1}"#);
    let error = error_of(&output);
    assert!(
        error.contains("native plugin `crashy`'s process was killed by signal 11 (SIGSEGV)"),
        "{error}"
    );
}

#[test]
fn an_abort_fails_its_node_and_the_next_node_runs_in_a_new_process() {
    let d = crashy();
    let output = run(&d, &attack_then_echo("crashy/abort", ""), r#"{"n": 1}"#);
    let error = error_of(&output);
    assert!(error.contains("process aborted (signal 6, SIGABRT)"), "{error}");
}

#[test]
fn a_panic_in_a_panic_abort_library_fails_one_node_under_isolation() {
    let d = deployment(
        &[
            (libraries::aborting_library(), "aborting"),
            (libraries::library(CRASHY), "crashy"),
        ],
        "[plugins.isolation]\ndefault = \"process\"\n",
    );
    let output = run(&d, &attack_then_echo("aborting/crash", ""), r#"{"n": 1}"#);
    let error = error_of(&output);
    assert!(
        error.contains("native plugin `aborting`'s process aborted (signal 6, SIGABRT)"),
        "{error}"
    );
}

#[test]
fn a_panic_abort_library_is_still_refused_in_process() {
    let d = deployment(&[(libraries::aborting_library(), "aborting")], "");
    let out = exec(d.pocket().args(["plugin", "list"]));
    assert!(listed_row(&out.stdout, "aborting").contains("failed"), "{}", out.stdout);
    assert!(out.stdout.contains("panic = \"abort\""), "{}", out.stdout);
}

#[test]
fn an_endless_loop_is_killed_at_the_node_timeout_and_the_run_goes_on() {
    let d = crashy();
    let started = Instant::now();
    let output = run(&d, &attack_then_echo("crashy/spin", ", timeout: 300ms"), r#"{"n": 1}"#);
    let error = error_of(&output);
    assert!(error.contains("timed out after 300ms"), "{error}");
    assert!(started.elapsed() < Duration::from_secs(20), "{:?}", started.elapsed());
}

#[test]
fn an_endless_loop_without_a_node_timeout_is_killed_at_the_plugins_timeout_limit() {
    let d = crashy();
    let output = run(&d, &attack_then_echo("crashy/spin", ""), r#"{"n": 1}"#);
    let error = error_of(&output);
    assert!(
        error.contains("timeout limit exceeded: native plugin `crashy` ran longer than 2s")
            && error.contains("its process was killed"),
        "{error}"
    );
}

#[test]
fn an_isolated_call_gives_what_an_in_process_call_gives() {
    let workflow = "name: up\nstart: up\nnodes:\n\
                    - {name: up, type: native-text/text-upper}\n\
                    - {name: has, type: native-text/text-contains, config: {pattern: \"{{.text}}\"}}\n\
                    connections:\n- {from: up, to: has}\n";
    let input = r#"{"text": "straße für alle", "id": 7}"#;
    let library = libraries::library(TEXT_TOOLS);
    let in_process = run(&deployment(&[(library.clone(), "native-text")], ""), workflow, input);
    let isolated = run(
        &deployment(
            &[(library, "native-text")],
            "[plugins.isolation]\nnative-text = \"process\"\n",
        ),
        workflow,
        input,
    );
    assert_eq!(in_process["text"], "STRASSE FÜR ALLE", "{in_process}");
    assert_eq!(isolated, in_process);
}

#[test]
fn host_calls_from_an_isolated_plugin_are_served_and_checked_by_the_host() {
    let d = deployment(
        &[(libraries::library(HOST_CALLS), "host-calls")],
        "[plugins.isolation]\nhost-calls = \"process\"\n\n\
         [plugins.permissions]\nhost-calls = [\"log\", \"kv\"]\n\n\
         [plugins.config.host-calls]\ngreeting = \"hello from the host\"\n",
    );
    let workflow = "name: calls\nstart: remember\nnodes:\n\
                    - {name: remember, type: host-calls/remember}\n\
                    - {name: setting, type: host-calls/setting}\n\
                    connections:\n- {from: remember, to: setting}\n";
    let output = run(&d, workflow, r#"{"key": "k", "value": {"deep": [1, 2]}}"#);
    assert_eq!(output, json!("hello from the host"));

    // kv reached the host: the value came back from the run's store.
    let kv = "name: kv\nstart: remember\nnodes:\n- {name: remember, type: host-calls/remember}\n";
    assert_eq!(
        run(&d, kv, r#"{"key": "k", "value": {"deep": [1, 2]}}"#),
        json!({"deep": [1, 2]})
    );

    // log reached the host's log.
    let say = d.write(
        "say.yaml",
        "name: say\nstart: say\nnodes:\n- {name: say, type: host-calls/say}\n",
    );
    let out = exec(
        d.pocket()
            .env("POCKET_LOG", "info")
            .arg("run")
            .arg(&say)
            .args(["--input", r#"{"text": "a line from the plugin's process"}"#]),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("a line from the plugin's process"),
        "{}",
        out.stderr
    );

    // env is declared by the plugin but not granted: the host refuses it.
    let env = "name: env\nstart: env\nnodes:\n- {name: env, type: host-calls/env}\n";
    let path = d.write("env.yaml", env);
    let out = exec(
        d.pocket()
            .arg("run")
            .arg(&path)
            .args(["--input", r#"{"name": "HOME"}"#]),
    );
    assert_ne!(out.code, 0, "{}", out.stdout);
    assert!(out.stderr.contains("permission denied: env:HOME"), "{}", out.stderr);
}

#[test]
fn a_plugin_that_aborts_while_loading_is_listed_as_failed_and_the_host_goes_on() {
    let d = deployment(
        &[
            (libraries::library(CRASHY), "crashy"),
            (libraries::library(HOST_CALLS), "host-calls"),
        ],
        "[plugins.isolation]\ndefault = \"process\"\n",
    );
    let out = exec(
        d.pocket()
            .env("POCKET_FIXTURE_ABORT_AT_LOAD", "1")
            .args(["plugin", "list"]),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(listed_row(&out.stdout, "crashy").contains("failed"), "{}", out.stdout);
    assert!(
        listed_row(&out.stdout, "host-calls").contains("loaded"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("the plugin's process aborted (signal 6, SIGABRT) while the plugin described itself"),
        "{}",
        out.stdout
    );
}

#[test]
fn plugin_info_shows_a_native_plugins_isolation() {
    let d = crashy();
    let out = exec(d.pocket().args(["plugin", "info", "crashy"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("isolation: process"), "{}", out.stdout);
    assert!(out.stdout.contains("timeout 2s per call"), "{}", out.stdout);
}
