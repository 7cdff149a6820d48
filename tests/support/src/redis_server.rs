//! A throwaway `redis-server` (the Debian package) on 127.0.0.1 at a free
//! port, stopped when dropped. Used by the native loader's tests and the
//! CLI's tests.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::{free_port, wait_for_port};

/// A running redis-server.
pub struct RedisServer {
    /// The port it listens on.
    pub port: u16,
    child: Child,
}

impl RedisServer {
    /// Starts a server with no persistence, optionally requiring `password`.
    pub fn start(password: Option<&str>) -> RedisServer {
        let port = free_port();
        let mut command = Command::new("redis-server");
        command
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(password) = password {
            command.args(["--requirepass", password]);
        }
        let child = command
            .spawn()
            .expect("cannot start redis-server: install it (apt-get install -y redis-server)");
        let server = RedisServer { port, child };
        wait_for_port(port, Duration::from_secs(10), "redis-server");
        server
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
