//! The real `pocket` binary: examples, malformed workflows, Go-engine files,
//! the inspection commands, and plugins' whole life through the CLI.

mod cluster;
mod deployment;
mod isolation;
mod lazy_loading;
mod lifecycle;
mod packages;
mod plugin_calls;
mod plugins;
mod reserved;
mod server;
mod trust;
mod workflows;

use std::path::PathBuf;

use pocket_test_support::libraries;

use serde_json::Value;
use std::process::Command;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `pocket` run from the repository root, with no config from the environment.
pub fn pocket() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pocket"));
    cmd.current_dir(root())
        .env_remove("POCKET_CONFIG")
        .env_remove("RUST_LOG")
        .env("POCKET_LOG", "warn");
    cmd
}

pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn exec(cmd: &mut Command) -> Outcome {
    let out = cmd.output().unwrap();
    Outcome {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

pub fn run_json(workflow: &str, args: &[&str]) -> Value {
    let out = exec(pocket().arg("run").arg(workflow).args(args));
    assert_eq!(out.code, 0, "pocket run {workflow} failed:\n{}", out.stderr);
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", out.stdout))
}

/// Builds the example plugins (native and WASM) into the directories
/// pocket.toml lists, once per test process.
pub fn example_plugins() {
    static BUILT: std::sync::Once = std::sync::Once::new();
    BUILT.call_once(|| run_script("build-plugins.sh"));
}

/// The module of the WASM backend's Rust test guest `name`
/// (`backends/wasm/tests/guests`), built once per test process.
pub fn wasm_test_guest(name: &str) -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    let release = BUILT.get_or_init(|| {
        let target_dir = root().join("target/wasm-guests");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let built = Command::new(cargo)
            .args([
                "build",
                "--quiet",
                "--release",
                "--target",
                "wasm32-unknown-unknown",
                "--manifest-path",
            ])
            .arg(root().join("backends/wasm/tests/guests/Cargo.toml"))
            .arg("--target-dir")
            .arg(&target_dir)
            .output()
            .unwrap();
        assert!(built.status.success(), "{}", String::from_utf8_lossy(&built.stderr));
        target_dir.join("wasm32-unknown-unknown/release")
    });
    release.join(format!("{name}.wasm"))
}

/// Runs `scripts/<script>`, which must succeed.
pub fn run_script(script: &str) {
    let out = Command::new("bash")
        .arg(root().join("scripts").join(script))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "scripts/{script} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The row of plugin `name` in `pocket plugin list` output, if listed.
pub fn list_row<'a>(stdout: &'a str, name: &str) -> Option<&'a str> {
    stdout.lines().find(|l| l.starts_with(&format!("{name} ")))
}

/// The row of plugin `name`, which must be listed.
pub fn listed_row<'a>(stdout: &'a str, name: &str) -> &'a str {
    list_row(stdout, name).unwrap_or_else(|| panic!("{name} is not listed:\n{stdout}"))
}
