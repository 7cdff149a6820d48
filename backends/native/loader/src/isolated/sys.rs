//! The few system calls process isolation needs, each behind a safe
//! function: waiting on a pipe with a deadline, the child's set-up
//! (no core dumps, stdout kept for frames), and signal names.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::time::Duration;

/// Waits until `fd` can be read (or has hung up: the read says which) or
/// `timeout` passes. `Ok(false)` when the time passed first.
pub(crate) fn wait_readable(fd: BorrowedFd<'_>, timeout: Duration) -> io::Result<bool> {
    let mut poll = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let millis = libc::c_int::try_from(timeout.as_millis()).unwrap_or(libc::c_int::MAX);
    // SAFETY: `poll` points at one initialised `pollfd` that outlives the
    // call, and the count given is 1; `fd` is open for the call's length
    // (it is borrowed).
    let ready = unsafe { libc::poll(&raw mut poll, 1, millis) };
    match ready {
        n if n > 0 => Ok(true),
        0 => Ok(false),
        _ => {
            let error = io::Error::last_os_error();
            if error.kind() == io::ErrorKind::Interrupted {
                Ok(false)
            } else {
                Err(error)
            }
        }
    }
}

/// Blocks until every writer of the pipe `fd` reads from has closed it.
pub(crate) fn wait_for_hangup(fd: BorrowedFd<'_>) {
    loop {
        // No event asked for: poll returns only for a hang-up or an error.
        let mut poll = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: 0,
            revents: 0,
        };
        // SAFETY: as in `wait_readable`: one initialised `pollfd`, count 1,
        // and `fd` stays open while it is borrowed.
        let ready = unsafe { libc::poll(&raw mut poll, 1, -1) };
        if ready > 0 && poll.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0 {
            return;
        }
        if ready < 0 && io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
            return;
        }
    }
}

/// Ends this process at once, with `code`: no destructors, no `atexit`
/// handlers (another thread may be stuck in plugin code, holding locks
/// those would take).
pub(crate) fn exit_now(code: i32) -> ! {
    // SAFETY: `_exit` takes no pointers and never returns; skipping Rust's
    // clean-up is the point (see above), and nothing this process holds
    // needs it (the host owns every resource that matters).
    unsafe { libc::_exit(code) }
}

/// Turns core dumps off for this process: a crashing plugin should end
/// fast, not spend seconds writing (or filling a disk with) its memory.
pub(crate) fn disable_core_dumps() {
    let none = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `none` is an initialised `rlimit` that outlives the call;
    // lowering a limit of this process affects nothing else.
    if unsafe { libc::setrlimit(libc::RLIMIT_CORE, &raw const none) } != 0 {
        tracing::debug!(error = %io::Error::last_os_error(), "could not turn core dumps off");
    }
}

/// Keeps this process's stdout for frames: returns a new descriptor for it,
/// and points descriptor 1 at stderr, so that whatever plugin code prints
/// lands in the log instead of the middle of a frame.
pub(crate) fn take_stdout() -> io::Result<OwnedFd> {
    let stdout = io::stdout();
    io::Write::flush(&mut stdout.lock())?;
    let frames = stdout.as_fd().try_clone_to_owned()?;
    // SAFETY: descriptors 1 and 2 are open in this process (2 is inherited
    // from the host, 1 was just duplicated above); `dup2` only makes 1 a
    // copy of 2, and nothing holds 1's old pipe but `frames`.
    if unsafe { libc::dup2(libc::STDERR_FILENO, libc::STDOUT_FILENO) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(frames)
}

/// The name of signal `signal` (`SIGSEGV`), for the signals a crash sends.
pub(crate) fn signal_name(signal: i32) -> Option<&'static str> {
    Some(match signal {
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGILL => "SIGILL",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGTERM => "SIGTERM",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGSYS => "SIGSYS",
        libc::SIGPIPE => "SIGPIPE",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crash_signals_have_names() {
        assert_eq!(signal_name(libc::SIGSEGV), Some("SIGSEGV"));
        assert_eq!(signal_name(libc::SIGABRT), Some("SIGABRT"));
        assert_eq!(signal_name(12345), None);
    }
}
