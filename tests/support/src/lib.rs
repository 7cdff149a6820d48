//! Helpers shared by Pocket's tests and benchmarks (a dev-dependency only,
//! never published): the workspace's native plugin libraries, built on
//! demand ([`libraries`]), and servers of a test's own on free 127.0.0.1
//! ports, stopped when dropped ([`redis_server`], [`postgres_server`],
//! [`nats_server`]).
//!
//! It depends on no workspace crate, so that using it never gives a test a
//! second copy of one (pocket-core...) built with other features.

pub mod libraries;
pub mod nats_server;
pub mod postgres_server;
pub mod redis_server;

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The workspace's root directory (this crate is `tests/support` in it).
pub fn workspace_root() -> PathBuf {
    let support = Path::new(env!("CARGO_MANIFEST_DIR"));
    support
        .ancestors()
        .nth(2)
        .expect("tests/support lies two levels below the workspace root")
        .to_path_buf()
}

/// A port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("no free port")
        .port()
}

/// Waits until something accepts connections on 127.0.0.1:`port`; panics
/// naming `what` if nothing does within `within`.
pub fn wait_for_port(port: u16, within: Duration, what: &str) {
    wait_until(within, &format!("{what} to start on port {port}"), || {
        TcpStream::connect(("127.0.0.1", port)).ok()
    });
}

/// Checks `check` every 20 ms until it gives a value, and returns it; panics
/// saying it waited for `what` if `within` passes first (a watchdog against
/// a hang, not a measure of speed: give it ample time).
pub fn wait_until<T>(within: Duration, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(found) = check() {
            return found;
        }
        assert!(started.elapsed() < within, "waited {within:?} for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits for `child` to exit and returns what it printed; kills it and
/// panics if it is still running after `within`.
pub fn wait_for_exit(mut child: std::process::Child, within: Duration) -> std::process::Output {
    let exited = wait_until(within, "the process to exit", || match child.try_wait() {
        Ok(None) => None,
        other => Some(other),
    });
    if exited.is_err() {
        let _ = child.kill();
    }
    child.wait_with_output().expect("the child's output")
}
