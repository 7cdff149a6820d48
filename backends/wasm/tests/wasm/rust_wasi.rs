//! A Rust plugin on `wasm32-wasip1` (`examples/plugins/wasm/rust/wasi-files`,
//! built by `scripts/build-plugins.sh`): Rust's standard library reaches
//! files through the WASI layer's preopened directories, only where the
//! plugin's `file:` and `file_write:` grants say, and every way around them
//! (climbing out, absolute paths, symlinks, FIFOs, descriptor floods) is
//! refused while the plugin goes on working.

use std::path::{Path, PathBuf};

use pocket_core::{PocketConfig, Registry, Value, testing};

use crate::common::{config, example, json, registry_of, run_graph};

/// `examples/plugins/wasm/wasi-files.wasm`, built once per test process.
fn wasi_files() -> PathBuf {
    example("build-plugins.sh", "wasi-files.wasm")
}

/// A directory `in` holding `a.txt` (and `sub/b.txt`), an empty `out`, and
/// beside them a `secret` file no grant names; and the plugin under
/// `file:in` and `file_write:out`.
struct Setup {
    root: tempfile::TempDir,
    config: PocketConfig,
    registry: Registry,
}

impl Setup {
    fn new() -> Setup {
        let root = tempfile::tempdir().unwrap();
        let base = root.path();
        std::fs::create_dir_all(base.join("in/sub")).unwrap();
        std::fs::create_dir(base.join("out")).unwrap();
        std::fs::write(base.join("in/a.txt"), "alpha beta alpha\n").unwrap();
        std::fs::write(base.join("in/sub/b.txt"), "b").unwrap();
        std::fs::write(base.join("secret"), "secret").unwrap();
        let base = base.to_str().unwrap();
        let config = config(&format!(
            "[plugins.permissions]\nwasi-files = [\"log\", \"file:{base}/in\", \"file_write:{base}/out\"]\n"
        ));
        let registry = registry_of(&config, &[&wasi_files()]);
        Setup { root, config, registry }
    }

    fn path(&self, relative: &str) -> String {
        format!("{}/{relative}", self.root.path().to_str().unwrap())
    }

    /// Runs `node_type` with `config` on `input`; then `top-words`, which
    /// must still work.
    async fn run(&self, node_type: &str, config: &str, input: &str) -> Result<Value, String> {
        let yaml = testing::one_node(&format!("wasi-files/{node_type}"), config);
        let graph = testing::graph(&yaml, &self.registry, &self.config).unwrap_or_else(|e| panic!("{e}"));
        let out = run_graph(&graph, input).await.map_err(|e| e.to_string());
        let after = testing::graph(
            &testing::one_node("wasi-files/top-words", ""),
            &self.registry,
            &self.config,
        )
        .unwrap();
        assert_eq!(
            run_graph(&after, r#""more more""#).await.unwrap(),
            json(r#"[{"word": "more", "count": 2}]"#),
            "the plugin goes on after `{node_type}` {config}"
        );
        out
    }

    async fn read(&self, relative: &str) -> Result<Value, String> {
        self.run("read-text", &format!("{{path: '{}'}}", self.path(relative)), "null")
            .await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_std_reads_lists_and_writes_where_its_grants_say() {
    let s = Setup::new();
    let read = s.read("in/a.txt").await.unwrap();
    assert_eq!(read.get("text").unwrap(), &json(r#""alpha beta alpha\n""#));
    assert_eq!(
        s.read("in/sub/../sub/b.txt").await.unwrap().get("text").unwrap(),
        &json(r#""b""#)
    );
    let listed = s
        .run("list-dir", &format!("{{path: '{}'}}", s.path("in")), "null")
        .await
        .unwrap();
    assert_eq!(
        listed.get("entries").unwrap(),
        &json(r#"[{"name": "a.txt", "kind": "file"}, {"name": "sub", "kind": "dir"}]"#)
    );
    let wrote = s
        .run(
            "write-text",
            &format!("{{path: '{}'}}", s.path("out/r.txt")),
            r#""report""#,
        )
        .await;
    assert_eq!(wrote.unwrap().get("bytes"), Some(&json("6")));
    assert_eq!(std::fs::read_to_string(s.path("out/r.txt")).unwrap(), "report");
    // The environment holds nothing no `env:` grant names.
    let env = s.run("env-var", "{name: PATH}", "null").await.unwrap();
    assert_eq!(env.get("value"), Some(&Value::Null));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_grant_writes_nothing() {
    let s = Setup::new();
    let err = s
        .run("write-text", &format!("{{path: '{}'}}", s.path("in/a.txt")), r#""x""#)
        .await
        .unwrap_err();
    assert!(err.contains("Permission denied"), "{err}");
    assert_eq!(
        std::fs::read_to_string(s.path("in/a.txt")).unwrap(),
        "alpha beta alpha\n"
    );
    let err = s
        .run("write-text", &format!("{{path: '{}'}}", s.path("in/new.txt")), r#""x""#)
        .await
        .unwrap_err();
    assert!(err.contains("Permission denied"), "{err}");
    assert!(!Path::new(&s.path("in/new.txt")).exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paths_around_the_grants_are_refused_and_the_plugin_goes_on() {
    let s = Setup::new();
    // Outside every granted directory: no preopen holds it.
    for path in [s.path("secret"), "/etc/passwd".to_string()] {
        let err = s
            .run("read-text", &format!("{{path: '{path}'}}"), "null")
            .await
            .unwrap_err();
        assert!(err.contains("No such file or directory"), "{err}");
    }
    // Climbing out of a granted one.
    let err = s.read("in/../secret").await.unwrap_err();
    assert!(err.contains("Capabilities insufficient"), "{err}");
    let err = s.read("in/sub/../../secret").await.unwrap_err();
    assert!(err.contains("Capabilities insufficient"), "{err}");
    // A symlink is never followed, whether it leads out or not.
    std::os::unix::fs::symlink(s.path("secret"), s.path("in/leak")).unwrap();
    std::os::unix::fs::symlink("a.txt", s.path("in/alias")).unwrap();
    for link in ["in/leak", "in/alias"] {
        let err = s.read(link).await.unwrap_err();
        assert!(err.contains("Symbolic link loop"), "{link}: {err}");
    }
    // A FIFO would block the call forever: refused at once.
    let made = std::process::Command::new("mkfifo")
        .arg(s.path("in/pipe"))
        .status()
        .unwrap();
    assert!(made.success());
    let err = s.read("in/pipe").await.unwrap_err();
    assert!(err.contains("Permission denied"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_that_opens_descriptors_without_closing_them_is_capped() {
    // The fixture opens its first preopened directory over and over and
    // exits with the errno that stops it: EMFILE (33), not the host's own
    // descriptors running out.
    let dir = tempfile::tempdir().unwrap();
    let toml = format!(
        "[plugins.permissions]\nwasi-guest = [\"file:{}\"]\n",
        dir.path().to_str().unwrap()
    );
    let config = config(&toml);
    let registry = crate::common::registry(&config, &["wasi-guest.wat"]);
    let graph = testing::graph(&testing::one_node("descriptors", ""), &registry, &config).unwrap();
    for _ in 0..3 {
        let err = run_graph(&graph, "{}").await.unwrap_err().to_string();
        assert!(err.contains("exited with code 33"), "{err}");
    }
    let ok = testing::graph(&testing::one_node("ok", ""), &registry, &config).unwrap();
    assert_eq!(run_graph(&ok, "{}").await.unwrap(), json(r#""ok""#));
}
