//! The jail a process plugin's program runs in, on Linux.
//!
//! Always: a minimal environment (`PATH`, `HOME` and `TMPDIR` = `/tmp`,
//! `TZ`, `LANG`, and what the plugin's `env:` grants name), the plugin's
//! directory as its working directory, no core dumps, its address space
//! capped (`RLIMIT_AS`; cgroup v2 is not used yet), no new privileges
//! (`PR_SET_NO_NEW_PRIVS`: no setuid), killed when the host dies
//! (`PR_SET_PDEATHSIG`), and a process group of its own.
//!
//! With [`Confinement::Namespaces`] (where the kernel allows unprivileged
//! user namespaces): new user, PID, mount, IPC and network namespaces. The
//! program is PID 1 of its PID namespace, so every process it starts ends
//! with it; it has no network at all (HTTP goes through the host's `http`
//! function and its grants); it sees a new root holding only the system's
//! programs and libraries, its own directory (read-only), the directories
//! its file grants name, a private `/tmp` and its own `/proc`
//! ([`view`]). A start-up process between the host and the program waits
//! for it and passes on its exit status, and is what the host kills to stop
//! it.

use std::io;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

mod sys;
mod view;

use sys::{check, wait_and_exit, write_file};
pub use view::Granted;
use view::View;

/// What starting a plugin's program takes.
#[derive(Debug, Clone)]
pub struct JailSpec {
    /// The plugin's directory: its working directory, mounted read-only.
    pub dir: PathBuf,
    /// The program (a path, or a name for `PATH`).
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
    /// Environment variables its grants name, on top of the minimal set.
    pub env: Vec<(String, String)>,
    /// Its address space, in bytes.
    pub memory: u64,
    /// The directories its file grants name, bound into its view.
    pub granted: Vec<Granted>,
}

/// How far the kernel lets the jail go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confinement {
    /// Namespaces and everything else (see the module docs).
    Namespaces,
    /// The kernel refused namespaces: limits, environment and process
    /// group only.
    Limits,
}

impl Confinement {
    /// What it means, for `pocket plugin info` and the load log.
    pub fn describe(self) -> &'static str {
        match self {
            Confinement::Namespaces => {
                "jailed: own user, PID, mount, IPC and network namespaces (no network), private /tmp, \
                 its directory read-only, memory capped, killed with the host"
            }
            Confinement::Limits => {
                "not jailed in namespaces (the kernel refused them): minimal environment, memory capped, \
                 killed with the host, but it shares the host's network and processes"
            }
        }
    }
}

/// What this machine allows, found once by starting `true` in the full jail.
pub fn confinement() -> Confinement {
    static FOUND: OnceLock<Confinement> = OnceLock::new();
    *FOUND.get_or_init(|| {
        let Ok(dir) = std::env::current_dir() else {
            return Confinement::Limits;
        };
        let probe = JailSpec {
            dir: std::env::temp_dir().canonicalize().unwrap_or(dir),
            program: PathBuf::from("/bin/true"),
            args: Vec::new(),
            env: Vec::new(),
            memory: 1 << 30,
            granted: Vec::new(),
        };
        let started = command(&probe, Confinement::Namespaces).and_then(|mut c| c.status());
        match started {
            Ok(status) if status.success() => Confinement::Namespaces,
            outcome => {
                tracing::warn!(
                    ?outcome,
                    "process plugins run without namespaces: the kernel refused them (unprivileged user namespaces off?)"
                );
                Confinement::Limits
            }
        }
    })
}

/// The command that starts `spec`'s program under `confinement`.
pub fn command(spec: &JailSpec, confinement: Confinement) -> io::Result<Command> {
    let mut command = Command::new(&spec.program);
    command.args(&spec.args).current_dir(&spec.dir).env_clear();
    for (name, value) in minimal_environment().into_iter().chain(spec.env.iter().cloned()) {
        command.env(name, value);
    }
    let setup = Setup::new(spec, confinement)?;
    // SAFETY: `Setup::run` makes only async-signal-safe system calls
    // (prctl, setrlimit, setpgid, unshare, open, write, close, fork,
    // waitpid, _exit, mount, statvfs) on memory prepared before the fork; it
    // allocates nothing and takes no lock.
    unsafe {
        command.pre_exec(move || setup.run());
    }
    Ok(command)
}

/// The variables every plugin gets.
fn minimal_environment() -> Vec<(String, String)> {
    vec![
        ("PATH".into(), "/usr/local/bin:/usr/bin:/bin".into()),
        ("HOME".into(), "/tmp".into()),
        ("TMPDIR".into(), "/tmp".into()),
        ("TZ".into(), std::env::var("TZ").unwrap_or_else(|_| "UTC".into())),
        ("LANG".into(), "C.UTF-8".into()),
    ]
}

/// Everything the child's set-up needs, made before the fork.
struct Setup {
    confinement: Confinement,
    memory: u64,
    /// `0 <uid> 1` and `0 <gid> 1`: the host's user is root in the jail,
    /// and nobody else exists there.
    uid_map: Vec<u8>,
    gid_map: Vec<u8>,
    /// The filesystem it sees (in namespaces).
    view: Option<View>,
}

impl Setup {
    fn new(spec: &JailSpec, confinement: Confinement) -> io::Result<Setup> {
        // SAFETY: getuid and getgid cannot fail and touch no memory.
        let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
        let view = match confinement {
            Confinement::Namespaces => Some(View::new(&spec.dir, &spec.program, &spec.granted)?),
            Confinement::Limits => None,
        };
        Ok(Setup {
            confinement,
            memory: spec.memory,
            uid_map: format!("0 {uid} 1").into_bytes(),
            gid_map: format!("0 {gid} 1").into_bytes(),
            view,
        })
    }

    /// Runs in the forked child, before `exec`.
    fn run(&self) -> io::Result<()> {
        // SAFETY: each call below is an async-signal-safe system call on
        // values owned by `self` or on constants; see `command`.
        unsafe {
            check(libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0))?;
            check(libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))?;
            check(libc::setpgid(0, 0))?;
            let none = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            check(libc::setrlimit(libc::RLIMIT_CORE, &raw const none))?;
            let memory = libc::rlimit {
                rlim_cur: self.memory,
                rlim_max: self.memory,
            };
            check(libc::setrlimit(libc::RLIMIT_AS, &raw const memory))?;
        }
        if self.confinement == Confinement::Namespaces {
            self.enter_namespaces()?;
        }
        Ok(())
    }

    fn enter_namespaces(&self) -> io::Result<()> {
        let flags =
            libc::CLONE_NEWUSER | libc::CLONE_NEWNS | libc::CLONE_NEWPID | libc::CLONE_NEWIPC | libc::CLONE_NEWNET;
        // SAFETY: unshare takes flags only.
        check(unsafe { libc::unshare(flags) })?;
        write_file(c"/proc/self/setgroups", b"deny")?;
        write_file(c"/proc/self/uid_map", &self.uid_map)?;
        write_file(c"/proc/self/gid_map", &self.gid_map)?;
        // The program must be PID 1 of the new namespace, which only a
        // child can be: this process waits for it and passes on its status.
        // SAFETY: fork in a single-threaded child; both sides go on with
        // async-signal-safe calls only.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return Err(io::Error::last_os_error());
        }
        if pid > 0 {
            wait_and_exit(pid);
        }
        // SAFETY: as in `run`.
        check(unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) })?;
        match &self.view {
            Some(view) => view.enter(),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn spec(dir: &Path, script: &str) -> JailSpec {
        JailSpec {
            dir: dir.to_path_buf(),
            program: PathBuf::from("sh"),
            args: vec!["-c".into(), script.into()],
            env: vec![("GRANTED".into(), "yes".into())],
            memory: 1 << 30,
            granted: Vec::new(),
        }
    }

    fn output(dir: &Path, script: &str) -> String {
        let out = command(&spec(dir, script), confinement()).unwrap().output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
    }

    #[test]
    fn the_environment_is_the_minimal_set_and_the_grants() {
        let dir = tempfile::tempdir().unwrap();
        let seen = output(dir.path(), "env | sort");
        let names: Vec<&str> = seen.lines().filter_map(|l| l.split_once('=')).map(|(n, _)| n).collect();
        assert!(
            names
                .iter()
                .all(|n| ["PATH", "HOME", "TMPDIR", "TZ", "LANG", "GRANTED", "PWD", "SHLVL", "_"].contains(n)),
            "{seen}"
        );
        assert!(seen.contains("GRANTED=yes"), "{seen}");
    }

    #[test]
    fn in_namespaces_the_program_is_pid_1_without_network_and_its_directory_is_read_only() {
        if confinement() != Confinement::Namespaces {
            // A jail that silently fell back must fail, unless asked not to.
            assert!(
                std::env::var_os("POCKET_TEST_NO_NAMESPACES").is_some(),
                "the jail could not use namespaces here (set POCKET_TEST_NO_NAMESPACES=1 to skip this check)"
            );
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(output(dir.path(), "echo $$").trim(), "1");
        let wrote = output(dir.path(), "echo x > here && echo wrote || echo refused");
        assert!(wrote.contains("refused"), "{wrote}");
        assert!(!dir.path().join("here").exists());
        let tmp = output(dir.path(), "echo x > /tmp/mine && ls /tmp");
        assert_eq!(tmp.trim(), "mine", "a private /tmp");
        assert!(!Path::new("/tmp/mine").exists());
        let links = output(dir.path(), "cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' '");
        assert_eq!(links.trim(), "lo", "no interface but loopback: {links}");
        // Exit statuses pass through the start-up process.
        let status = command(&spec(dir.path(), "exit 7"), Confinement::Namespaces)
            .unwrap()
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(7));
    }
}
