//! Scale-out on NATS JetStream with the real binary: a nats-server with
//! JetStream per test on a free port, `pocket worker` processes, and
//! `pocket run --cluster` / `pocket serve --cluster` as the scheduler.

mod failures;
mod limits;
mod plugins;
mod runs;
mod server;

pub use pocket_test_support::nats_server::Nats;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A `pocket` process whose stdout and stderr (at `POCKET_LOG=info`) are
/// kept; killed when dropped.
pub struct Process {
    child: Child,
    out: Arc<Mutex<String>>,
    log: Arc<Mutex<String>>,
}

impl Process {
    /// Starts `pocket ARGS` in `dir` (its pocket.toml applies).
    pub fn start(dir: &Path, args: &[&str]) -> Process {
        let mut child = super::pocket()
            .current_dir(dir)
            .env("POCKET_LOG", "info")
            .env("NO_COLOR", "1")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = keep(child.stdout.take().unwrap());
        let log = keep(child.stderr.take().unwrap());
        Process { child, out, log }
    }

    /// A worker for the cluster at `url` (attempts unacknowledged for 2 s
    /// go to another worker), once it is ready.
    pub fn worker(dir: &Path, url: &str, extra: &[&str]) -> Process {
        let mut args = vec!["worker", "--cluster", url, "--ack-wait", "2s"];
        args.extend_from_slice(extra);
        let worker = Process::start(dir, &args);
        worker.wait_for(|log| log.contains("worker ready"), "the worker to be ready");
        worker
    }

    /// `pocket run WORKFLOW --input INPUT --cluster URL EXTRA` in `dir`.
    pub fn run(dir: &Path, workflow: &str, input: &str, url: &str, extra: &[&str]) -> Process {
        let mut args = vec!["run", workflow, "--input", input, "--cluster", url];
        args.extend_from_slice(extra);
        Process::start(dir, &args)
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Waits (at most 60 s) until `done` holds for the log.
    pub fn wait_for(&self, done: impl Fn(&str) -> bool, what: &str) {
        let started = Instant::now();
        while !done(&self.log()) {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "timed out waiting for {what}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the process to exit (at most 120 s): its exit code and stdout.
    pub fn finish(&mut self) -> (i32, String) {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // Let the reader threads drain the pipes.
                std::thread::sleep(Duration::from_millis(100));
                return (status.code().unwrap_or(-1), self.out.lock().unwrap().clone());
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "still running:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for a `pocket run` to succeed: the JSON it printed.
    pub fn output(&mut self) -> serde_json::Value {
        let (code, out) = self.finish();
        assert_eq!(code, 0, "the run failed:\n{}", self.log());
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}):\n{out}"))
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// SIGKILL, and wait.
    pub fn kill_9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill_9();
    }
}

/// Collects what `stream` says, line by line, on a thread.
fn keep(stream: impl std::io::Read + Send + 'static) -> Arc<Mutex<String>> {
    let kept = Arc::new(Mutex::new(String::new()));
    let writer = kept.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            let mut text = writer.lock().unwrap();
            text.push_str(&line);
            text.push('\n');
        }
    });
    kept
}

/// The lines of `logs` where a worker said `what` about `node`.
pub fn said(logs: &[String], what: &str, node: &str) -> usize {
    let node = format!("node=\"{node}\"");
    logs.iter()
        .flat_map(|log| log.lines())
        .filter(|line| line.contains(what) && line.contains(&node))
        .count()
}

/// How many results of `node` were kept (duplicates dropped do not count).
pub fn executions(logs: &[String], node: &str) -> usize {
    said(logs, "executed", node) - said(logs, "result dropped", node)
}

/// A directory with a pocket.toml whose plugin directory is `plugins`.
pub fn site(toml_extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("plugins")).unwrap();
    std::fs::write(
        dir.path().join("pocket.toml"),
        format!("[plugins]\ndirectories = [\"plugins\"]\n{toml_extra}"),
    )
    .unwrap();
    dir
}
