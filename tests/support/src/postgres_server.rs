//! A PostgreSQL server of a test's own: `initdb` in a temporary directory,
//! `postgres` on a free 127.0.0.1 port, stopped when dropped. Used by the
//! history store's tests and the server's.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A PostgreSQL server of our own.
pub struct Server {
    child: Child,
    port: u16,
    bin: PathBuf,
    dir: tempfile::TempDir,
}

/// The directory with `initdb` and `postgres`: `$POCKET_TEST_PG_BIN`, else
/// Debian's `/usr/lib/postgresql/<version>/bin` (newest), else `PATH`.
fn bin_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("POCKET_TEST_PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").is_file())
        .collect();
    versions.sort();
    versions.pop()
}

/// `program` from `bin`, run as the `postgres` user when we are root
/// (PostgreSQL refuses to run as root).
fn command(bin: &Path, program: &str) -> Command {
    let path = bin.join(program);
    // SAFETY: getuid has no preconditions.
    if unsafe { libc::getuid() } == 0 {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"]).arg(path);
        cmd
    } else {
        Command::new(path)
    }
}

pub use crate::free_port;

impl Server {
    /// Starts one; panics with what is missing if PostgreSQL is not installed.
    pub fn start() -> Server {
        let bin = bin_dir().expect("PostgreSQL is not installed: scripts/test.sh installs it (Debian: postgresql)");
        let dir = tempfile::tempdir().unwrap();
        // SAFETY: getuid has no preconditions.
        if unsafe { libc::getuid() } == 0 {
            let owned = Command::new("chown").arg("postgres:").arg(dir.path()).status().unwrap();
            assert!(owned.success(), "cannot hand the data directory to the postgres user");
        }
        let data = dir.path().join("data");
        let init = command(&bin, "initdb")
            .arg("-D")
            .arg(&data)
            .args(["-U", "pocket", "--auth=trust", "-E", "UTF8", "--no-sync"])
            .output()
            .unwrap();
        assert!(
            init.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&init.stderr)
        );
        let port = free_port();
        let child = Server::spawn(&bin, dir.path(), port);
        let server = Server { child, port, bin, dir };
        server.wait_ready();
        server
    }

    /// `postgres` on `port` with the data directory in `dir`.
    fn spawn(bin: &Path, dir: &Path, port: u16) -> Child {
        command(bin, "postgres")
            .arg("-D")
            .arg(dir.join("data"))
            .args([
                "-p",
                &port.to_string(),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
            ])
            .arg("-k")
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    }

    fn wait_ready(&self) {
        let started = Instant::now();
        while !self.client("pg_isready").output().unwrap().status.success() {
            assert!(started.elapsed() < Duration::from_secs(60), "PostgreSQL did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Stops the server (a fast shutdown: every connection is closed) and
    /// starts it again on the same port with the same data.
    pub fn restart(&mut self) {
        let stopped = command(&self.bin, "pg_ctl")
            .args(["stop", "-m", "fast", "-w", "-D"])
            .arg(self.dir.path().join("data"))
            .output()
            .unwrap();
        assert!(
            stopped.status.success(),
            "pg_ctl stop: {}",
            String::from_utf8_lossy(&stopped.stderr)
        );
        let _ = self.child.wait();
        self.child = Server::spawn(&self.bin, self.dir.path(), self.port);
        self.wait_ready();
    }

    /// A client program of the server's, pointed at it.
    fn client(&self, program: &str) -> Command {
        let mut cmd = Command::new(self.bin.join(program));
        cmd.args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", "pocket"]);
        cmd
    }

    /// The URL of `database` on it.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://pocket@127.0.0.1:{}/{database}", self.port)
    }

    /// A new empty database; its URL.
    pub fn database(&self, name: &str) -> String {
        let created = self.client("createdb").arg(name).output().unwrap();
        assert!(
            created.status.success(),
            "createdb: {}",
            String::from_utf8_lossy(&created.stderr)
        );
        self.url(name)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // SIGTERM: a "smart" shutdown; the child runs as another user, so
        // signal it by pid as root may.
        // SAFETY: kill(2) with the pid of a child we spawned and have not reaped.
        unsafe { libc::kill(self.child.id().cast_signed(), libc::SIGTERM) };
        let _ = self.child.wait();
    }
}
