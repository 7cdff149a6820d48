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
//! function and its grants); `/tmp` is a private tmpfs; its own directory
//! is mounted read-only; `/proc` shows only its own processes. A start-up
//! process between the host and the program waits for it and passes on
//! its exit status, and is what the host kills to stop it.
//!
//! Not yet: hiding the rest of the host's filesystem (a new root holding
//! only what the program needs and what `file:` grants name); today the
//! program sees the host's files as its user may, read-write outside its
//! own directory.

use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

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
            program: PathBuf::from("true"),
            args: Vec::new(),
            env: Vec::new(),
            memory: 1 << 30,
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
    dir: CString,
    /// For a directory under `/tmp` (which the private tmpfs hides): the
    /// directories to make in the new `/tmp` down to it, outermost first.
    under_tmp: Vec<CString>,
}

fn c_path(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a NUL byte"))
}

/// `-1` as an error.
fn check(returned: libc::c_int) -> io::Result<()> {
    if returned == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

impl Setup {
    fn new(spec: &JailSpec, confinement: Confinement) -> io::Result<Setup> {
        // SAFETY: getuid and getgid cannot fail and touch no memory.
        let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
        let under_tmp = match spec.dir.strip_prefix("/tmp") {
            Ok(rest) => {
                let mut made = PathBuf::from("/tmp");
                let mut list = Vec::new();
                for part in rest.components() {
                    made.push(part);
                    list.push(c_path(&made)?);
                }
                list
            }
            Err(_) => Vec::new(),
        };
        Ok(Setup {
            confinement,
            memory: spec.memory,
            uid_map: format!("0 {uid} 1").into_bytes(),
            gid_map: format!("0 {gid} 1").into_bytes(),
            dir: c_path(&spec.dir)?,
            under_tmp,
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
        self.mount_view()
    }

    /// The program's view of the filesystem: nothing it mounts reaches the
    /// host, a private `/tmp`, its own `/proc`, its directory read-only (and
    /// its working directory).
    fn mount_view(&self) -> io::Result<()> {
        let null = std::ptr::null();
        let dir = self.dir.as_ptr();
        // SAFETY: system calls with NUL-terminated strings that live for
        // each call (literals, `self`'s, or the local `source`) and null
        // where allowed; `stat` is a local the call fills.
        unsafe {
            check(libc::mount(
                null,
                c"/".as_ptr(),
                null,
                libc::MS_REC | libc::MS_PRIVATE,
                null.cast(),
            ))?;
            // Held across the new /tmp, which may hide its path.
            let held = libc::open(dir, libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC);
            check(held)?;
            check(libc::mount(
                c"tmpfs".as_ptr(),
                c"/tmp".as_ptr(),
                c"tmpfs".as_ptr(),
                libc::MS_NOSUID | libc::MS_NODEV,
                c"size=64m,mode=1777".as_ptr().cast(),
            ))?;
            for made in &self.under_tmp {
                if libc::mkdir(made.as_ptr(), 0o755) == -1 && *libc::__errno_location() != libc::EEXIST {
                    return Err(io::Error::last_os_error());
                }
            }
            let mut source = *b"/proc/self/fd/\0\0\0\0\0\0\0\0\0\0\0\0";
            write_decimal(&mut source[14..], held);
            check(libc::mount(
                source.as_ptr().cast(),
                dir,
                null,
                libc::MS_BIND | libc::MS_REC,
                null.cast(),
            ))?;
            libc::close(held);
            // A remount must keep the flags the mount already had (the
            // kernel locks them in a user namespace).
            let mut stat: libc::statvfs = std::mem::zeroed();
            check(libc::statvfs(dir, &raw mut stat))?;
            let mut kept = 0;
            for (st, ms) in [
                (libc::ST_NOSUID, libc::MS_NOSUID),
                (libc::ST_NODEV, libc::MS_NODEV),
                (libc::ST_NOEXEC, libc::MS_NOEXEC),
                (libc::ST_NOATIME, libc::MS_NOATIME),
                (libc::ST_RELATIME, libc::MS_RELATIME),
            ] {
                if stat.f_flag & st != 0 {
                    kept |= ms;
                }
            }
            check(libc::mount(
                null,
                dir,
                null,
                libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY | kept,
                null.cast(),
            ))?;
            // The working directory was entered before the mounts: enter the
            // read-only one.
            check(libc::chdir(dir))?;
            // Where the kernel refuses a new /proc (some containers), the
            // host's stays: the program then sees PIDs it cannot signal.
            let _ = libc::mount(
                c"proc".as_ptr(),
                c"/proc".as_ptr(),
                c"proc".as_ptr(),
                libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
                null.cast(),
            );
        }
        Ok(())
    }
}

/// Writes `n` in decimal at the start of `out` (which ends with NULs),
/// without allocating.
fn write_decimal(out: &mut [u8], n: libc::c_int) {
    let mut digits = [0u8; 12];
    let mut len = 0;
    let mut n = n.unsigned_abs();
    loop {
        digits[len] = b'0' + u8::try_from(n % 10).unwrap_or(0);
        len += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for (slot, digit) in out.iter_mut().zip(digits[..len].iter().rev()) {
        *slot = *digit;
    }
}

/// Writes `bytes` to the file `path` (a /proc file: one write).
fn write_file(path: &std::ffi::CStr, bytes: &[u8]) -> io::Result<()> {
    // SAFETY: open, write and close on a NUL-terminated path and a buffer
    // that live for the calls.
    unsafe {
        let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
        check(fd)?;
        let written = libc::write(fd, bytes.as_ptr().cast(), bytes.len());
        libc::close(fd);
        if written < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// The start-up process's part: let go of every descriptor, wait for the
/// program, and end with its status (128 + the signal that killed it).
fn wait_and_exit(pid: libc::pid_t) -> ! {
    // SAFETY: close, waitpid and _exit are async-signal-safe; `status` is a
    // local the call writes.
    unsafe {
        // Every descriptor: the pipes, and the channel over which the host
        // learns that the program started (it would wait on this process
        // otherwise).
        if libc::syscall(libc::SYS_close_range, 0u32, u32::MAX, 0u32) != 0 {
            for fd in 0..65_536 {
                libc::close(fd);
            }
        }
        let mut status = 0;
        loop {
            let waited = libc::waitpid(pid, &raw mut status, 0);
            if waited == pid {
                break;
            }
            if waited < 0 && *libc::__errno_location() != libc::EINTR {
                libc::_exit(127);
            }
        }
        if libc::WIFEXITED(status) {
            libc::_exit(libc::WEXITSTATUS(status));
        }
        libc::_exit(128 + libc::WTERMSIG(status));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(dir: &Path, script: &str) -> JailSpec {
        JailSpec {
            dir: dir.to_path_buf(),
            program: PathBuf::from("sh"),
            args: vec!["-c".into(), script.into()],
            env: vec![("GRANTED".into(), "yes".into())],
            memory: 1 << 30,
        }
    }

    fn output(dir: &Path, script: &str) -> String {
        let out = command(&spec(dir, script), confinement()).unwrap().output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
    }

    #[test]
    fn descriptors_are_written_in_decimal_without_allocating() {
        let mut out = [0u8; 6];
        write_decimal(&mut out, 1047);
        assert_eq!(&out, b"1047\0\0");
        write_decimal(&mut out, 0);
        assert_eq!(&out[..1], b"0");
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
            eprintln!("skipped: the kernel refuses namespaces here");
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
