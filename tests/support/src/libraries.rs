//! Builds the workspace's native plugin crates (examples and test fixtures)
//! with the cargo that runs the tests, once per test process, and finds their
//! library files from cargo's own report, so tests never depend on an earlier
//! manual build or on where the target directory is.
//!
//! Libraries are built optimised when the caller is (benchmarks), so a
//! comparison with code compiled into the caller is fair.
//!
//! Used by the native loader's tests and benchmark and the CLI's tests and
//! benchmarks.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Every cdylib crate of the workspace that tests load, by package name.
const PACKAGES: [&str; 6] = [
    "pocket-plugin-text-tools",
    "pocket-plugin-redis-cache",
    "pocket-native-fixture-crashy",
    "pocket-native-fixture-host-calls",
    "pocket-native-fixture-not-a-plugin",
    "pocket-native-fixture-old-interface",
];

/// The library file of `package` (one of [`PACKAGES`]), built if needed.
pub fn library(package: &str) -> PathBuf {
    static BUILT: OnceLock<HashMap<String, PathBuf>> = OnceLock::new();
    let built = BUILT.get_or_init(|| build(&crate::workspace_root()));
    built
        .get(&package.replace('-', "_"))
        .unwrap_or_else(|| panic!("cargo built no library for {package}"))
        .clone()
}

/// The fixture compiled with `-C panic=abort`: a library whose first panic
/// would end the process that loaded it.
pub const ABORTING: &str = "pocket-native-fixture-aborting";

/// The library file of [`ABORTING`], compiled with `-C panic=abort` (its
/// dependencies keep the workspace's `unwind`, as rustc allows), once per
/// test process.
pub fn aborting_library() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let mut command = cargo(&crate::workspace_root(), "rustc");
            command.args(["-p", ABORTING, "--lib", "--", "-C", "panic=abort"]);
            run(command)
                .remove(&ABORTING.replace('-', "_"))
                .unwrap_or_else(|| panic!("cargo built no library for {ABORTING}"))
        })
        .clone()
}

/// `cargo <subcommand>` on the workspace, reporting in JSON, without the
/// variables cargo set for the test crate that runs it (CARGO_PKG_NAME...): build
/// scripts that read them (ring's) would otherwise run again, and their
/// crates be rebuilt here and again by the next plain `cargo build`.
fn cargo(manifest_dir: &Path, subcommand: &str) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        let set_for_this_crate = ["CARGO_PKG_", "CARGO_BIN_EXE_", "CARGO_MANIFEST_"]
            .iter()
            .any(|prefix| name.starts_with(prefix))
            || [
                "CARGO_CRATE_NAME",
                "CARGO_BIN_NAME",
                "CARGO_PRIMARY_PACKAGE",
                "CARGO_TARGET_TMPDIR",
            ]
            .contains(&&*name);
        if set_for_this_crate {
            command.env_remove(&*name);
        }
    }
    command
        .arg(subcommand)
        .arg("--message-format=json-render-diagnostics")
        .arg("--manifest-path")
        .arg(manifest_dir.join("Cargo.toml"));
    command
}

fn build(manifest_dir: &Path) -> HashMap<String, PathBuf> {
    let mut command = cargo(manifest_dir, "build");
    if cfg!(debug_assertions) {
        // Tests: with the whole workspace selected, the dependencies these
        // crates share with the rest (serde, abi_stable...) get the features
        // `cargo test --workspace` gives them, so they are reused, not
        // compiled again with a smaller feature set. The aborting fixture
        // is built on its own, with its own flags.
        command.args(["--workspace", "--lib", "--exclude", ABORTING]);
    } else {
        // Benchmarks: a release build of just these crates.
        command.arg("--release");
        for package in PACKAGES {
            command.args(["-p", package]);
        }
    }
    run(command)
}

/// Runs cargo; the cdylib files it reports, by target name.
fn run(mut command: Command) -> HashMap<String, PathBuf> {
    let output = command.output().expect("cannot run cargo");
    assert!(
        output.status.success(),
        "building the native plugin crates failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut libraries = HashMap::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let is_cdylib = message["target"]["kind"]
            .as_array()
            .is_some_and(|kinds| kinds.iter().any(|k| k == "cdylib"));
        if message["reason"] != "compiler-artifact" || !is_cdylib {
            continue;
        }
        let name = message["target"]["name"].as_str().unwrap_or_default().to_string();
        let file = message["filenames"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| f.as_str())
            .map(PathBuf::from)
            .find(|f| f.extension().is_some_and(|e| e == "so" || e == "dylib" || e == "dll"));
        if let Some(file) = file {
            libraries.insert(name, file);
        }
    }
    libraries
}
