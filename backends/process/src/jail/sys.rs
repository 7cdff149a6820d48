//! The small helpers the jail's system calls share: paths as C strings,
//! return values as errors, numbers written without allocating, a /proc
//! file written, and the start-up process's wait (all usable in a forked
//! child before `exec`).

use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// `path` as a C string.
pub(super) fn c_path(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a NUL byte"))
}

/// `-1` as an error.
pub(super) fn check(returned: libc::c_int) -> io::Result<()> {
    if returned == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Writes `n` in decimal at the start of `out` (which ends with NULs),
/// without allocating.
pub(super) fn write_decimal(out: &mut [u8], n: libc::c_int) {
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
pub(super) fn write_file(path: &std::ffi::CStr, bytes: &[u8]) -> io::Result<()> {
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
pub(super) fn wait_and_exit(pid: libc::pid_t) -> ! {
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

    #[test]
    fn descriptors_are_written_in_decimal_without_allocating() {
        let mut out = [0u8; 6];
        write_decimal(&mut out, 1047);
        assert_eq!(&out, b"1047\0\0");
        write_decimal(&mut out, 0);
        assert_eq!(&out[..1], b"0");
    }
}
