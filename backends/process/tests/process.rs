//! Process plugins driven through core's real parser, validator and runner:
//! the Python, Node and Go examples (`examples/plugins/process/py-sql`,
//! `node-hash` and `go-stats`) and a Python test
//! plugin (`tests/fixtures/attacks.py`) whose nodes attack the jail and the
//! protocol. Each attack fails one node, or is contained, and the plugin
//! answers the next call.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use pocket_core::{PluginLoader, PocketConfig, Registry, Value, testing};
use pocket_process::ProcessLoader;
use pocket_process::jail::{Confinement, confinement};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// A plugin directory `NAME` in a fresh temporary directory: `main.py`
/// from `source`, the Python SDK beside it, and a manifest with `resources`.
fn python_plugin(name: &str, source: &Path, resources: &str) -> (tempfile::TempDir, PathBuf) {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join(name);
    std::fs::create_dir(&dir).unwrap();
    std::fs::copy(source, dir.join("main.py")).unwrap();
    std::fs::copy(
        repo().join("backends/process/sdks/python/pocket_plugin.py"),
        dir.join("pocket_plugin.py"),
    )
    .unwrap();
    std::fs::write(
        dir.join("pocket-plugin.toml"),
        format!(
            "name = \"{name}\"\nversion = \"1.0.0\"\nkind = \"process\"\ncommand = \"python3\"\nargs = [\"main.py\"]\n\
             [resources]\n{resources}"
        ),
    )
    .unwrap();
    let manifest = dir.join("pocket-plugin.toml");
    (root, manifest)
}

fn config(toml: &str) -> PocketConfig {
    PocketConfig::parse(toml, Path::new("/tmp/pocket.toml")).unwrap()
}

/// The attacks plugin, loaded under `toml`.
struct Attacks {
    root: tempfile::TempDir,
    config: PocketConfig,
    registry: Registry,
}

impl Attacks {
    fn new(toml: &str, resources: &str) -> Attacks {
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/attacks.py");
        let (root, manifest) = python_plugin("py-attacks", &source, resources);
        let config = config(toml);
        let registry = Registry::new();
        let plugin = ProcessLoader::new()
            .load(&manifest, &config)
            .unwrap_or_else(|e| panic!("{e}"));
        registry.register(plugin).unwrap();
        Attacks { root, config, registry }
    }

    /// The plugin's directory.
    fn dir(&self) -> PathBuf {
        self.root.path().join("py-attacks")
    }

    /// Runs `node_type` on `input`: its output, or the error of
    /// preparing or running it.
    async fn run(&self, node_type: &str, input: &str) -> Result<Value, String> {
        let graph = testing::graph(&testing::one_node(node_type, ""), &self.registry, &self.config)
            .map_err(|e| e.to_string())?;
        testing::run_graph(&graph, input).await.map_err(|e| e.to_string())
    }

    /// Runs `node_type`, then `echo`, which must work.
    async fn attack(&self, node_type: &str, input: &str) -> Result<Value, String> {
        let out = self.run(node_type, input).await;
        assert_eq!(
            self.run("echo", r#"{"still": "here"}"#).await,
            Ok(testing::json(r#"{"still": "here"}"#)),
            "the plugin answers after `{node_type}`"
        );
        out
    }
}

/// Whether the jail uses namespaces here. Where the kernel refuses them the
/// namespace checks are skipped only when POCKET_TEST_NO_NAMESPACES is set:
/// a jail that silently fell back must fail the tests.
fn namespaces() -> bool {
    let here = confinement() == Confinement::Namespaces;
    if !here {
        assert!(
            std::env::var_os("POCKET_TEST_NO_NAMESPACES").is_some(),
            "the jail could not use namespaces here (set POCKET_TEST_NO_NAMESPACES=1 to skip their checks)"
        );
        eprintln!("the kernel refuses namespaces here: the namespace checks are skipped");
    }
    here
}

/// The example process plugin `name` (its SDK copied in once per test
/// process by scripts/build-process-plugins.sh), loaded under `config`.
fn example(name: &str, config: &PocketConfig) -> std::sync::Arc<dyn pocket_core::Plugin> {
    static READY: std::sync::Once = std::sync::Once::new();
    READY.call_once(|| {
        let ran = std::process::Command::new("bash")
            .arg(repo().join("scripts/build-process-plugins.sh"))
            .status()
            .unwrap();
        assert!(ran.success(), "scripts/build-process-plugins.sh failed");
    });
    let manifest = repo()
        .join("examples/plugins/process")
        .join(name)
        .join("pocket-plugin.toml");
    ProcessLoader::new()
        .load(&manifest, config)
        .unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_node_example_hashes_and_compresses_with_nodes_own_libraries() {
    let config = config("");
    let registry = Registry::new();
    registry.register(example("node-hash", &config)).unwrap();
    let run = |node: &str, config_yaml: &str, input: &str| {
        let graph = testing::graph(&testing::one_node(node, config_yaml), &registry, &config);
        let input = input.to_string();
        async move {
            let graph = graph.map_err(|e| e.to_string())?;
            testing::run_graph(&graph, &input).await.map_err(|e| e.to_string())
        }
    };
    assert_eq!(
        run("node-hash/hash", "", r#""abc""#).await.unwrap(),
        testing::json(
            r#"{"algorithm": "sha256", "hex": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}"#
        )
    );
    let gzipped = run("node-hash/gzip", "", &format!("\"{}\"", "a".repeat(1000)))
        .await
        .unwrap();
    assert_eq!(gzipped.get("bytes"), Some(&Value::from(1000u64)));
    let err = run("node-hash/hash", "", "7").await.unwrap_err();
    assert!(err.contains("invalid input: expected a string"), "{err}");
    let err = run("node-hash/hash", "{algorithm: rot13}", r#""x""#).await.unwrap_err();
    assert!(err.contains("unknown hash `rot13`"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_go_example_summarises_numbers_and_recovers_from_a_bad_input() {
    let config = config("");
    let registry = Registry::new();
    registry.register(example("go-stats", &config)).unwrap();
    let graph = testing::graph(&testing::one_node("go-stats/summary", ""), &registry, &config).unwrap();
    let err = testing::run_graph(&graph, r#""x""#).await.unwrap_err().to_string();
    assert!(
        err.contains("invalid input: expected a non-empty list of numbers"),
        "{err}"
    );
    assert_eq!(
        testing::run_graph(&graph, "[3, 1, 2]").await.unwrap(),
        testing::json(r#"{"count": 3, "mean": 2, "median": 2, "stddev": 0.816, "min": 1, "max": 3}"#)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_example_runs_sql_over_its_input_and_counts_in_kv() {
    let config = config("[plugins.permissions]\npy-sql = [\"log\", \"kv\"]\n");
    let plugin = example("py-sql", &config);
    assert_eq!(plugin.description().nodes.len(), 3);
    assert_eq!(plugin.description().nodes[0].examples.len(), 2, "its examples are read");
    let registry = Registry::new();
    registry.register(plugin).unwrap();
    let rows = r#"[{"city": "Oslo", "n": 3}, {"city": "Rome", "n": 5}, {"city": "Oslo", "n": 4}]"#;
    let yaml = testing::one_node(
        "py-sql/query",
        "{sql: 'SELECT city, SUM(n) AS total FROM rows GROUP BY city ORDER BY total DESC'}",
    );
    let graph = testing::graph(&yaml, &registry, &config).unwrap();
    assert_eq!(
        testing::run_graph(&graph, rows).await.unwrap(),
        testing::json(r#"[{"city": "Oslo", "total": 7}, {"city": "Rome", "total": 5}]"#)
    );
    // The config is checked when the workflow is validated (`prepare`).
    let bad = testing::one_node("py-sql/query", "{sql: 'DROP TABLE rows'}");
    let err = testing::graph(&bad, &registry, &config).err().unwrap().to_string();
    assert!(err.contains("must be a SELECT"), "{err}");
    // Several calls at once, each answered by its id.
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let graph = graph.clone();
            tokio::spawn(async move { testing::run_graph(&graph, &format!(r#"[{{"city": "c{i}", "n": {i}}}]"#)).await })
        })
        .collect();
    for (i, task) in tasks.into_iter().enumerate() {
        let out = task.await.unwrap().unwrap();
        assert_eq!(out, testing::json(&format!(r#"[{{"city": "c{i}", "total": {i}}}]"#)));
    }
    // kv through the host, per run; the action the node chose.
    let yaml = "name: t\nstart: a\nnodes:\n  - {name: a, type: py-sql/tally}\n  - {name: b, type: py-sql/tally}\n\
                connections:\n  - {from: a, to: b, action: first}\n";
    let graph = testing::graph(yaml, &registry, &config).unwrap();
    assert_eq!(
        testing::run_graph(&graph, "null").await.unwrap(),
        testing::json(r#"{"calls": 2}"#)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_environment_holds_the_minimal_set_and_the_granted_variables_only() {
    // Cargo sets CARGO_PKG_NAME for the tests it runs.
    let attacks = Attacks::new("[plugins.permissions]\npy-attacks = [\"env:CARGO_PKG_NAME\"]\n", "");
    let env = attacks.attack("env", "null").await.unwrap();
    // The host's variables stay out (the program's own launcher, such as a
    // pyenv shim, may add its own; the jail's unit test checks the exact
    // set with `sh`): cargo's CARGO_MANIFEST_DIR is not granted.
    assert!(std::env::var_os("CARGO_MANIFEST_DIR").is_some());
    assert_eq!(env.get("CARGO_MANIFEST_DIR"), None, "{env:?}");
    assert_eq!(env.get("HOME"), Some(&Value::from("/tmp")));
    assert_eq!(env.get("TMPDIR"), Some(&Value::from("/tmp")));
    assert_eq!(env.get("CARGO_PKG_NAME"), Some(&Value::from("pocket-process")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_has_no_network_and_cannot_write_its_own_directory() {
    if !namespaces() {
        return;
    }
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let attacks = Attacks::new("", "");
    let out = attacks.attack("connect", &port.to_string()).await.unwrap();
    assert!(out.as_str().unwrap().starts_with("refused"), "{out:?}");
    let out = attacks.attack("write", r#""main.py""#).await.unwrap();
    assert!(out.as_str().unwrap().contains("Read-only file system"), "{out:?}");
    // The host's files are not there: beside its directory, nor at the top.
    let beside = attacks.dir().parent().unwrap().join("secret");
    std::fs::write(&beside, "secret").unwrap();
    let out = attacks
        .attack("read", &format!("\"{}\"", beside.display()))
        .await
        .unwrap();
    assert!(out.as_str().unwrap().contains("No such file"), "{out:?}");
    // A write there lands in its own private /tmp (where the path's
    // directories were made for its own), never in the host's file.
    attacks
        .attack("write", &format!("\"{}\"", beside.display()))
        .await
        .unwrap();
    assert_eq!(std::fs::read_to_string(&beside).unwrap(), "secret");
    // Of /etc only what programs read: no shadow file, whoever runs Pocket.
    let out = attacks.attack("read", r#""/etc/shadow""#).await.unwrap();
    assert!(out.as_str().unwrap().contains("No such file"), "{out:?}");
    let top = attacks.attack("list", r#""/""#).await.unwrap();
    for entry in top.as_array().unwrap().iter() {
        let name = entry.as_str().unwrap();
        assert!(
            [
                "usr", "etc", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "dev", "tmp", "proc", "root", "work"
            ]
            .contains(&name),
            "the host's /{name} is visible: {top:?}"
        );
    }
    // Its /tmp is its own.
    let marker = format!("/tmp/pocket-jail-{}", std::process::id());
    assert_eq!(
        attacks.attack("write", &format!("\"{marker}\"")).await.unwrap(),
        Value::from("wrote")
    );
    assert!(!Path::new(&marker).exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_grants_bind_their_directories_read_only_or_writable_and_nothing_beside() {
    if !namespaces() {
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let (input, output) = (data.path().join("in"), data.path().join("out"));
    std::fs::create_dir(&input).unwrap();
    std::fs::create_dir(&output).unwrap();
    std::fs::write(input.join("a.txt"), "alpha").unwrap();
    std::fs::write(data.path().join("secret"), "secret").unwrap();
    let toml = format!(
        "[plugins.permissions]\npy-attacks = [\"file:{}\", \"file_write:{}\"]\n",
        input.display(),
        output.display()
    );
    let attacks = Attacks::new(&toml, "");
    let quoted = |path: &Path| format!("\"{}\"", path.display());
    let read = attacks.attack("read", &quoted(&input.join("a.txt"))).await.unwrap();
    assert_eq!(read, Value::from("read: alpha"));
    let refused = attacks.attack("write", &quoted(&input.join("new"))).await.unwrap();
    assert!(
        refused.as_str().unwrap().contains("Read-only file system"),
        "{refused:?}"
    );
    let wrote = attacks.attack("write", &quoted(&output.join("new"))).await.unwrap();
    assert_eq!(wrote, Value::from("wrote"));
    assert_eq!(std::fs::read_to_string(output.join("new")).unwrap(), "x");
    let beside = attacks
        .attack("read", &quoted(&data.path().join("secret")))
        .await
        .unwrap();
    assert!(beside.as_str().unwrap().contains("No such file"), "{beside:?}");
}

/// Whether a process whose command line contains `needle` runs on the host.
fn running(needle: &str) -> bool {
    std::fs::read_dir("/proc").unwrap().filter_map(Result::ok).any(|entry| {
        std::fs::read(entry.path().join("cmdline"))
            .is_ok_and(|line| String::from_utf8_lossy(&line).replace('\0', " ").contains(needle))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_plugin_starts_ends_with_it_and_a_call_past_its_time_is_stopped() {
    let attacks = Attacks::new("", "call_timeout = \"1s\"\n");
    let seconds = format!("{}.{}", 900 + std::process::id() % 100, std::process::id());
    attacks.run("daemon", &format!("\"{seconds}\"")).await.unwrap();
    assert!(running(&format!("sleep {seconds}")), "the daemon runs");
    let started = Instant::now();
    let err = attacks.attack("sleep", "30").await.unwrap_err();
    assert!(
        err.contains("timeout limit exceeded") && err.contains("restarted"),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(20));
    let until = Instant::now() + Duration::from_secs(5);
    while running(&format!("sleep {seconds}")) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    if namespaces() {
        assert!(
            !running(&format!("sleep {seconds}")),
            "the daemon ended with its plugin"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_past_the_cap_fails_the_node_only() {
    let attacks = Attacks::new("", "memory = \"512MiB\"\n");
    let err = attacks.attack("hog", &(4u64 << 30).to_string()).await.unwrap_err();
    assert!(err.contains("MemoryError"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_and_oversized_frames_are_refused_and_the_process_restarted() {
    let attacks = Attacks::new("", "");
    // "garbage!" read as a length, then as JSON: not the protocol.
    let err = attacks
        .attack("garbage", r#""0800000067617262616765212121""#)
        .await
        .unwrap_err();
    assert!(err.contains("broke the protocol"), "{err}");
    // A frame announcing 1 GiB: refused before anything is read into memory.
    let err = attacks.attack("garbage", r#""00000040""#).await.unwrap_err();
    assert!(
        err.contains("broke the protocol") && err.contains("over the limit"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stderr_flood_is_bounded_and_an_ungranted_host_call_is_refused() {
    let attacks = Attacks::new(
        "[plugins.permissions]\npy-attacks = [\"log\"]\n[plugins.limits.py-attacks]\nlog_bytes = \"4KiB\"\n",
        "",
    );
    assert_eq!(attacks.attack("stderr", "2000").await.unwrap(), Value::from("flooded"));
    let err = attacks.attack("kv", "null").await.unwrap_err();
    assert!(err.contains("permission denied: kv"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_fails_one_node_and_a_plugin_that_keeps_crashing_is_marked_failed() {
    let attacks = Attacks::new("", "");
    let err = attacks.attack("die", "3").await.unwrap_err();
    assert!(err.contains("exited with code 3"), "{err}");
    let mut last = String::new();
    for _ in 0..6 {
        last = attacks.run("die", "4").await.unwrap_err();
    }
    assert!(last.contains("marked failed"), "{last}");
}
