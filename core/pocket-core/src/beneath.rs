//! Opening paths beneath a directory without ever leaving it, on Linux:
//! `openat2` with `RESOLVE_BENEATH` resolves the whole path, symlinks
//! included, in one call and refuses any step out of the directory, so
//! nothing can swap a symlink in between a check and the open.
//!
//! The building block of [`crate::FileBase`] (the files a workflow's nodes
//! may read) and of the `file` node's sandbox.

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::OnceLock;

/// The kernel's `struct open_how` (linux/openat2.h): three 64-bit fields.
#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

/// Whether the kernel has `openat2` (Linux 5.6 and later, and not blocked
/// by a seccomp filter).
pub fn available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| match File::open("/") {
        Ok(root) => open(&root, Path::new("."), libc::O_PATH, 0).is_ok(),
        Err(_) => false,
    })
}

/// Opens `relative` beneath the directory `dir` with open(2) `flags` (and
/// `mode` for a created file). A path that leads out, through `..` or a
/// symlink, fails with `EXDEV`.
pub fn open(dir: &File, relative: &Path, flags: i32, mode: u32) -> io::Result<OwnedFd> {
    open_resolving(dir, relative, flags, mode, 0)
}

/// As [`open`], following no symlink at all: one anywhere on the path fails
/// with `ELOOP` (with `O_PATH | O_NOFOLLOW`, a last component that is a
/// symlink opens as the link itself). What an untrusted plugin names is
/// opened this way, so the path that was checked is the path that opens.
pub fn open_strict(dir: &File, relative: &Path, flags: i32, mode: u32) -> io::Result<OwnedFd> {
    open_resolving(dir, relative, flags, mode, libc::RESOLVE_NO_SYMLINKS)
}

fn open_resolving(dir: &File, relative: &Path, flags: i32, mode: u32, resolve: u64) -> io::Result<OwnedFd> {
    let path = c_path(relative)?;
    let how = OpenHow {
        flags: u64::from((flags | libc::O_CLOEXEC).cast_unsigned()),
        // The kernel refuses a mode for anything but a file it may create.
        mode: if flags & libc::O_CREAT != 0 { u64::from(mode) } else { 0 },
        resolve: libc::RESOLVE_BENEATH | libc::RESOLVE_NO_MAGICLINKS | resolve,
    };
    // SAFETY: `path` is a NUL-terminated string and `how` has the layout of
    // the kernel's `struct open_how`, both alive for the call; the size
    // passed is `how`'s own.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            dir.as_raw_fd(),
            path.as_ptr(),
            &raw const how,
            std::mem::size_of::<OpenHow>(),
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    let fd = i32::try_from(fd).map_err(|_| io::Error::other("openat2 returned an impossible descriptor"))?;
    // SAFETY: the kernel just returned this descriptor; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Creates the directory `name` (one path component) inside `parent`.
/// An existing entry of that name is left alone.
pub fn make_dir(parent: &OwnedFd, name: &Path) -> io::Result<()> {
    let name = c_path(name)?;
    // SAFETY: `parent` is an open directory descriptor and `name` a
    // NUL-terminated string, both alive for the call.
    let made = unsafe { libc::mkdirat(parent.as_raw_fd(), name.as_ptr(), 0o777) };
    if made == 0 {
        return Ok(());
    }
    let error = io::Error::last_os_error();
    if error.kind() == io::ErrorKind::AlreadyExists {
        Ok(())
    } else {
        Err(error)
    }
}

/// Creates the directory `name` (one path component) inside `parent`; an
/// existing entry of that name is an error (`EEXIST`).
pub fn make_dir_strict(parent: &OwnedFd, name: &Path) -> io::Result<()> {
    let name = c_path(name)?;
    // SAFETY: `parent` is an open directory descriptor and `name` a
    // NUL-terminated string, both alive for the call.
    check(unsafe { libc::mkdirat(parent.as_raw_fd(), name.as_ptr(), 0o777) })
}

/// Removes the entry `name` (one path component) of `parent`: a file (or
/// symlink, never followed), or with `directory` an empty directory.
pub fn remove(parent: &OwnedFd, name: &Path, directory: bool) -> io::Result<()> {
    let name = c_path(name)?;
    let flags = if directory { libc::AT_REMOVEDIR } else { 0 };
    // SAFETY: `parent` is an open directory descriptor and `name` a
    // NUL-terminated string, both alive for the call.
    check(unsafe { libc::unlinkat(parent.as_raw_fd(), name.as_ptr(), flags) })
}

/// Renames the entry `from` of `from_parent` to `to` in `to_parent` (each
/// one path component).
pub fn rename(from_parent: &OwnedFd, from: &Path, to_parent: &OwnedFd, to: &Path) -> io::Result<()> {
    let (from, to) = (c_path(from)?, c_path(to)?);
    // SAFETY: both parents are open directory descriptors and both names
    // NUL-terminated strings, all alive for the call.
    check(unsafe {
        libc::renameat(
            from_parent.as_raw_fd(),
            from.as_ptr(),
            to_parent.as_raw_fd(),
            to.as_ptr(),
        )
    })
}

fn c_path(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a path with a NUL byte"))
}

/// A system call's `0` or `-1` as a result.
fn check(returned: i32) -> io::Result<()> {
    if returned == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Whether `error` is openat2 refusing a path that leads out of its directory.
pub fn leads_out(error: &io::Error) -> bool {
    error.raw_os_error() == Some(libc::EXDEV)
}
