//! Every process a program starts ends with its node.
//!
//! A process group is not enough: a child that calls `setsid()` (any daemon)
//! leaves the group, and when its parent exits it is adopted by init, out of
//! reach. So the program does not run as Pocket's child but as the child of
//! a small supervisor, forked from Pocket just before the program is:
//!
//! - the supervisor is a *child subreaper* (`PR_SET_CHILD_SUBREAPER`): any
//!   descendant of the program that is orphaned, however it detached, is
//!   adopted by the supervisor instead of by init;
//! - it waits for the program to exit, or for Pocket to let go of the
//!   [`Lifeline`] (the node timed out, was cancelled or failed, or Pocket
//!   itself died: the pipe closes in every case);
//! - then it kills (SIGKILL) the program and every process left in its tree
//!   (read from `/proc/thread-self/children` until none remain) and exits the
//!   way the program did, so Pocket sees the program's own exit status.
//!
//! The supervisor is a fork of Pocket that never execs: it shares Pocket's
//! memory copy-on-write (pages Pocket writes while the program runs are
//! copied once) and lives exactly as long as the program's tree.
//!
//! The supervisor runs between `fork` and `exec` of a multi-threaded
//! process, where only async-signal-safe functions may be called: it makes
//! raw system calls only, allocates nothing and takes no lock. It leads the
//! process group Pocket sees; the program runs in a group of its own, so
//! `kill 0` in the program cannot reach the supervisor. A program that
//! deliberately kills its supervisor (by its pid) can still leave orphans
//! behind: this bounds careless and daemonizing programs, not hostile ones
//! (which, running as Pocket's user, could as well kill Pocket).

use std::io::{self, PipeReader, PipeWriter};
use std::os::fd::{AsRawFd, RawFd};
use std::time::Duration;

use libc::{c_int, pid_t};

/// How long the supervisor keeps killing a tree that will not die (a
/// process stuck in the kernel) before it gives up and exits.
const CLEANUP_LIMIT: Duration = Duration::from_secs(10);

/// Pocket's end of the pipe a supervisor watches: dropping it ends the
/// program and everything it started.
#[derive(Debug)]
pub(crate) struct Lifeline {
    _pipe: PipeWriter,
}

/// Makes `command` run under a supervisor (see the module docs); the
/// program's exit status is still the child's.
pub(crate) fn supervise(command: &mut tokio::process::Command) -> io::Result<Lifeline> {
    let (reader, writer) = io::pipe()?;
    let hook = Hook { reader };
    // SAFETY: the hook runs in the child between fork and exec. It calls
    // only async-signal-safe system calls (prctl, fork, setpgid, and those of
    // `Supervisor::run`), allocates nothing and takes no lock.
    unsafe {
        command.pre_exec(move || hook.run());
    }
    Ok(Lifeline { _pipe: writer })
}

/// The pre-exec hook; holds the pipe's read end for the supervisor.
struct Hook {
    reader: PipeReader,
}

impl Hook {
    /// In the forked child: becomes the supervisor and forks the process
    /// that goes on to exec the program.
    fn run(&self) -> io::Result<()> {
        // SAFETY: prctl with PR_SET_CHILD_SUBREAPER only sets a flag of this process.
        if unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: this child has one thread (fork copies only the caller),
        // so forking again is sound; the new process only returns to exec.
        match unsafe { libc::fork() } {
            -1 => Err(io::Error::last_os_error()),
            0 => {
                // SAFETY: setpgid(0, 0) only moves this process to a group of its own.
                unsafe { libc::setpgid(0, 0) };
                Ok(())
            }
            program => Supervisor {
                program,
                lifeline: self.reader.as_raw_fd(),
            }
            .run(),
        }
    }
}

/// The supervisor process's state.
struct Supervisor {
    program: pid_t,
    lifeline: RawFd,
}

impl Supervisor {
    fn run(&self) -> ! {
        self.close_other_descriptors();
        let status = self.wait();
        self.kill_tree(status.is_none());
        exit_like(status)
    }

    /// Closes every descriptor but the lifeline: the program's pipes (so
    /// their end of file depends on the program's tree only) and the pipe
    /// through which the standard library reports a failed exec (which it
    /// reads until every copy is closed).
    fn close_other_descriptors(&self) {
        let keep = u32::try_from(self.lifeline).unwrap_or(0);
        // SAFETY: close_range only closes descriptors of this process.
        let closed = unsafe {
            (keep == 0 || libc::syscall(libc::SYS_close_range, 0u32, keep - 1, 0u32) == 0)
                && libc::syscall(libc::SYS_close_range, keep + 1, u32::MAX, 0u32) == 0
        };
        if !closed {
            for fd in (0..4096).filter(|&fd| fd != self.lifeline) {
                // SAFETY: closing a descriptor of this process (EBADF for unused ones).
                unsafe { libc::close(fd) };
            }
        }
    }

    /// Waits for the program to exit (its status) or for the lifeline to
    /// close (`None`), reaping adopted orphans on the way.
    fn wait(&self) -> Option<c_int> {
        // SAFETY: pidfd_open on our own unreaped child; -1 when the kernel lacks it.
        let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, self.program, 0u32) };
        let pidfd = c_int::try_from(pidfd).unwrap_or(-1);
        loop {
            loop {
                let mut status = 0;
                // SAFETY: waitpid with a valid pointer to a local.
                let pid = unsafe { libc::waitpid(-1, &raw mut status, libc::WNOHANG) };
                if pid == self.program {
                    return Some(status);
                }
                if pid <= 0 {
                    break;
                }
            }
            let mut fds = [
                libc::pollfd {
                    fd: self.lifeline,
                    events: libc::POLLIN,
                    revents: 0,
                },
                libc::pollfd {
                    fd: pidfd,
                    events: libc::POLLIN,
                    revents: 0,
                },
            ];
            // Without a pidfd, look at the program every 10 ms.
            let (count, timeout) = if pidfd >= 0 { (2, 1_000) } else { (1, 10) };
            // SAFETY: poll over `count` initialized entries of a local array.
            let ready = unsafe { libc::poll(fds.as_mut_ptr(), count, timeout) };
            if ready > 0 && fds[0].revents != 0 {
                return None;
            }
        }
    }

    /// Kills the program (when `alive`, with its group) and every process
    /// left under the supervisor, and reaps them all.
    fn kill_tree(&self, alive: bool) {
        if alive {
            // SAFETY: the program is our unreaped child, so its pid and group
            // id cannot have been reused.
            unsafe {
                libc::kill(-self.program, libc::SIGKILL);
                libc::kill(self.program, libc::SIGKILL);
            }
        }
        let rounds = CLEANUP_LIMIT.as_millis();
        for _ in 0..rounds {
            kill_children();
            if reap_all() {
                return;
            }
            // SAFETY: poll with no descriptors sleeps for 1 ms.
            unsafe { libc::poll(std::ptr::null_mut(), 0, 1) };
        }
    }
}

/// Sends SIGKILL to every child of this process, as listed by
/// `/proc/thread-self/children` (unreaped children: their pids are not reused).
fn kill_children() {
    let mut buf = [0u8; 4096];
    // SAFETY: open with a NUL-terminated path literal.
    let fd = unsafe { libc::open(c"/proc/thread-self/children".as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return;
    }
    // SAFETY: reads at most `buf.len()` bytes into a local buffer, then closes the descriptor it opened.
    let read = unsafe {
        let read = libc::read(fd, buf.as_mut_ptr().cast(), buf.len());
        libc::close(fd);
        read
    };
    let text = &buf[..usize::try_from(read).unwrap_or(0)];
    for pid in text.split(u8::is_ascii_whitespace).filter_map(parse_pid) {
        // SAFETY: sending a signal to our own child.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
}

/// A decimal pid, without allocating.
fn parse_pid(digits: &[u8]) -> Option<pid_t> {
    if digits.is_empty() || digits.len() > 9 {
        return None;
    }
    digits.iter().try_fold(0, |pid: pid_t, &d| {
        d.is_ascii_digit().then(|| pid * 10 + pid_t::from(d - b'0'))
    })
}

/// Reaps every child that has exited; whether none is left.
fn reap_all() -> bool {
    loop {
        let mut status = 0;
        // SAFETY: waitpid with a valid pointer to a local.
        match unsafe { libc::waitpid(-1, &raw mut status, libc::WNOHANG) } {
            0 => return false,
            -1 => return true,
            _ => {}
        }
    }
}

/// Ends the supervisor the way the program ended: the same exit code, or
/// the same signal (without a core dump).
fn exit_like(status: Option<c_int>) -> ! {
    // SAFETY: _exit, setrlimit, signal, kill and getpid are async-signal-safe
    // and touch only this process.
    unsafe {
        match status {
            Some(s) if libc::WIFEXITED(s) => libc::_exit(libc::WEXITSTATUS(s)),
            Some(s) if libc::WIFSIGNALED(s) => {
                let signal = libc::WTERMSIG(s);
                let no_core = libc::rlimit {
                    rlim_cur: 0,
                    rlim_max: 0,
                };
                libc::setrlimit(libc::RLIMIT_CORE, &raw const no_core);
                libc::signal(signal, libc::SIG_DFL);
                libc::kill(libc::getpid(), signal);
                libc::_exit(128 + signal)
            }
            _ => libc::_exit(125),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_pid;

    #[test]
    fn pids_parse_without_allocating() {
        assert_eq!(parse_pid(b"4242"), Some(4242));
        assert_eq!(parse_pid(b"12x"), None);
        assert_eq!(parse_pid(b""), None);
        assert_eq!(parse_pid(b"99999999999"), None);
    }
}
