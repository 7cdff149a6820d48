//! The preview-1 `errno` values Pocket's layer answers with.

/// No error.
pub const SUCCESS: i32 = 0;
/// Permission denied (no grant covers the path; not a regular file or directory).
pub const ACCES: i32 = 2;
/// Bad file descriptor (no such descriptor).
pub const BADF: i32 = 8;
/// Bad address (a pointer outside the guest's memory).
pub const FAULT: i32 = 21;
/// A path that is not UTF-8.
pub const ILSEQ: i32 = 25;
/// Invalid argument.
pub const INVAL: i32 = 28;
/// An I/O error the system gave no better name.
pub const IO: i32 = 29;
/// Is a directory.
pub const ISDIR: i32 = 31;
/// Too many open descriptors.
pub const MFILE: i32 = 33;
/// A path longer than the layer takes.
pub const NAMETOOLONG: i32 = 37;
/// Function not supported.
pub const NOSYS: i32 = 52;
/// Not a directory.
pub const NOTDIR: i32 = 54;
/// Not supported (a clock Pocket does not offer).
pub const NOTSUP: i32 = 58;
/// Invalid seek (on stdin, stdout or stderr).
pub const SPIPE: i32 = 70;
/// Capabilities insufficient (sockets; a path leading out of its directory).
pub const NOTCAPABLE: i32 = 76;

/// The preview-1 `errno` for the host's error number `os`.
pub fn from_os(os: i32) -> i32 {
    match os {
        libc::EACCES => ACCES,
        libc::EPERM => 63,
        libc::EEXIST => 20,
        libc::ENOENT => 44,
        libc::ENOTDIR => NOTDIR,
        libc::EISDIR => ISDIR,
        libc::ENOTEMPTY => 55,
        libc::ELOOP => 32,
        libc::ENAMETOOLONG => NAMETOOLONG,
        libc::ENOSPC => 51,
        libc::EDQUOT => 19,
        libc::EFBIG => 22,
        libc::EROFS => 69,
        libc::EBUSY => 10,
        libc::EINVAL => INVAL,
        libc::EBADF => BADF,
        libc::EMFILE => MFILE,
        libc::ENFILE => 41,
        libc::EXDEV => NOTCAPABLE,
        libc::EAGAIN => 6,
        _ => IO,
    }
}
