//! The preview-1 file functions: preopened directories from the plugin's
//! `file:` and `file_write:` grants, and the files and directories opened
//! beneath them. Every path goes through pocket-host's one file rule
//! ([`PluginHost::open_file`] and its siblings: checked against the grants,
//! never leaving its directory, no symlink followed, only regular files and
//! directories); this module only moves bytes between them and the guest.
//! Reads and writes take at most [`MAX_WRITE`] bytes a call and charge the
//! call's fuel for what they move.

use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{FileExt, MetadataExt};

use pocket_host::{EntryKind, FileError, GrantedDir, OpenHow, Opened, PluginHost};
use wasmer::MemoryView;

use super::errno;
use super::memory::{
    Env, MAX_WRITE, answer, fdstat_bytes, gather, iovecs, put, put_u32, put_u64, scatter, with_memory,
};
use crate::abi::unsigned;
use crate::host_functions::{HostEnv, charge};
use crate::wasi_descriptors::{Descriptor, Descriptors};

/// The longest path a guest may pass.
const MAX_PATH: u32 = 4096;

/// The most entries one directory listing holds.
const MAX_ENTRIES: usize = 65_536;

/// `filetype` values.
const DIRECTORY: u8 = 3;
const REGULAR_FILE: u8 = 4;
const SYMBOLIC_LINK: u8 = 7;

/// `oflags`, `fdflags` and `rights` bits path_open looks at.
const O_CREAT: i32 = 1;
const O_DIRECTORY: i32 = 2;
const O_EXCL: i32 = 4;
const O_TRUNC: i32 = 8;
const FDFLAG_APPEND: i32 = 1;
const RIGHT_FD_READ: u64 = 1 << 1;
const RIGHT_FD_WRITE: u64 = 1 << 6;
const RIGHT_FD_READDIR: u64 = 1 << 14;
/// Every right preview 1 defines: what each descriptor reports (what it
/// may really do is decided per call).
pub(super) const ALL_RIGHTS: u64 = (1 << 29) - 1;

/// The guest's descriptors, opened (preopens first) on first use.
fn descriptors(data: &mut HostEnv) -> (&PluginHost, &mut Descriptors) {
    data.wasi_descriptors()
}

/// The `errno` for a refused file request.
fn errno_of(error: &FileError) -> i32 {
    match error {
        FileError::Denied(_) | FileError::Special(_) => errno::ACCES,
        FileError::LeadsOut(_) => errno::NOTCAPABLE,
        _ => error.os_error().map_or(errno::IO, errno::from_os),
    }
}

/// File `fd`: `ISDIR` for a directory, `BADF` if it is not open.
fn file_of(fds: &Descriptors, fd: i32) -> Result<&std::fs::File, i32> {
    match fds.get(fd) {
        Some(Descriptor::File(file)) => Ok(file),
        Some(Descriptor::Dir { .. }) => Err(errno::ISDIR),
        None => Err(errno::BADF),
    }
}

/// The `errno` for an I/O error.
fn io_errno(error: &std::io::Error) -> i32 {
    error.raw_os_error().map_or(errno::IO, errno::from_os)
}

/// A byte count as the guest is told it (never more than a buffer it gave).
fn count(bytes: usize) -> u32 {
    u32::try_from(bytes).unwrap_or(u32::MAX)
}

/// The path at `at`, `len` bytes of UTF-8.
fn read_path(view: &MemoryView<'_>, at: i32, len: i32) -> Result<String, i32> {
    let len = unsigned(len);
    if len > MAX_PATH {
        return Err(errno::NAMETOOLONG);
    }
    let mut bytes = vec![0u8; len as usize];
    view.read(u64::from(unsigned(at)), &mut bytes)
        .map_err(|_| errno::FAULT)?;
    String::from_utf8(bytes).map_err(|_| errno::ILSEQ)
}

/// Runs `f` on the directory `fd` and the path at `at`.
fn on_path(
    env: &mut Env<'_>,
    fd: i32,
    at: i32,
    len: i32,
    f: impl FnOnce(&PluginHost, &GrantedDir, &str) -> Result<(), FileError>,
) -> i32 {
    with_memory(env, |view, data| {
        let path = match read_path(view, at, len) {
            Ok(path) => path,
            Err(code) => return code,
        };
        let (host, fds) = descriptors(data);
        match fds.get(fd) {
            Some(Descriptor::Dir { dir, .. }) => f(host, dir, &path).map_or_else(|e| errno_of(&e), |()| errno::SUCCESS),
            Some(Descriptor::File(_)) => errno::NOTDIR,
            None => errno::BADF,
        }
    })
}

pub(super) fn fd_prestat_get(mut env: Env<'_>, fd: i32, at: i32) -> i32 {
    with_memory(&mut env, |view, data| match descriptors(data).1.get(fd) {
        Some(Descriptor::Dir { dir, preopen: true, .. }) => {
            // struct prestat: tag u8 (0: a directory), name length u32 at 4.
            let len = u32::try_from(dir.path().len()).unwrap_or(u32::MAX);
            answer(put(view, at, 0, &[0u8; 4]) && put_u32(view, at.wrapping_add(4), len))
        }
        _ => errno::BADF,
    })
}

pub(super) fn fd_prestat_dir_name(mut env: Env<'_>, fd: i32, at: i32, len: i32) -> i32 {
    with_memory(&mut env, |view, data| match descriptors(data).1.get(fd) {
        Some(Descriptor::Dir { dir, preopen: true, .. }) => {
            let name = dir.path().as_bytes();
            if (unsigned(len) as usize) < name.len() {
                return errno::NAMETOOLONG;
            }
            answer(put(view, at, 0, name))
        }
        _ => errno::BADF,
    })
}

/// Opens a path beneath directory `fd` (see the module docs for the rule).
#[expect(clippy::too_many_arguments, reason = "preview 1's own signature")]
pub(super) fn path_open(
    mut env: Env<'_>,
    fd: i32,
    _lookup: i32,
    path_at: i32,
    path_len: i32,
    oflags: i32,
    rights: i64,
    _inheriting: i64,
    fdflags: i32,
    fd_at: i32,
) -> i32 {
    let rights = rights.cast_unsigned();
    let how = OpenHow {
        read: rights & (RIGHT_FD_READ | RIGHT_FD_READDIR) != 0,
        write: rights & RIGHT_FD_WRITE != 0,
        create: oflags & O_CREAT != 0,
        exclusive: oflags & O_EXCL != 0,
        truncate: oflags & O_TRUNC != 0,
        append: fdflags & FDFLAG_APPEND != 0,
        directory: oflags & O_DIRECTORY != 0,
    };
    with_memory(&mut env, |view, data| {
        let path = match read_path(view, path_at, path_len) {
            Ok(path) => path,
            Err(code) => return code,
        };
        let (host, fds) = descriptors(data);
        let opened = match fds.get(fd) {
            Some(Descriptor::Dir { dir, .. }) => host.open_file(dir, &path, how),
            Some(Descriptor::File(_)) => return errno::NOTDIR,
            None => return errno::BADF,
        };
        let descriptor = match opened {
            Ok(Opened::File(file)) => Descriptor::File(file),
            Ok(Opened::Dir(dir)) => Descriptor::Dir {
                dir,
                preopen: false,
                entries: Vec::new(),
            },
            Err(error) => return errno_of(&error),
        };
        match fds.insert(descriptor) {
            Some(new) => answer(put_u32(view, fd_at, new.cast_unsigned())),
            None => errno::MFILE,
        }
    })
}

/// Reads file `fd` into the buffers at `iovs` (at `offset`, for `fd_pread`).
pub(super) fn read_file(
    env: &mut Env<'_>,
    fd: i32,
    iovs: i32,
    iovs_len: i32,
    offset: Option<u64>,
    read_at: i32,
) -> i32 {
    let mut moved = 0;
    let code = with_memory(env, |view, data| {
        let file = match file_of(descriptors(data).1, fd) {
            Ok(file) => file,
            Err(code) => return code,
        };
        let buffers = match iovecs(view, iovs, iovs_len) {
            Ok(buffers) => buffers,
            Err(code) => return code,
        };
        let room = buffers
            .iter()
            .map(|&(_, len)| len as usize)
            .sum::<usize>()
            .min(MAX_WRITE);
        let mut bytes = vec![0u8; room];
        let read = match offset {
            Some(offset) => file.read_at(&mut bytes, offset),
            None => (&*file).read(&mut bytes),
        };
        let read = match read {
            Ok(read) => read,
            Err(error) => return io_errno(&error),
        };
        moved = read;
        answer(scatter(view, &buffers, &bytes[..read]) && put_u32(view, read_at, count(read)))
    });
    charge(env, moved);
    code
}

/// Writes the buffers at `iovs` to file `fd` (at `offset`, for `fd_pwrite`).
pub(super) fn write_file(
    env: &mut Env<'_>,
    fd: i32,
    iovs: i32,
    iovs_len: i32,
    offset: Option<u64>,
    written_at: i32,
) -> i32 {
    let mut moved = 0;
    let code = with_memory(env, |view, data| {
        let bytes = match gather(view, iovs, iovs_len) {
            Ok(bytes) => bytes,
            Err(code) => return code,
        };
        let file = match file_of(descriptors(data).1, fd) {
            Ok(file) => file,
            Err(code) => return code,
        };
        let written = match offset {
            Some(offset) => file.write_at(&bytes, offset),
            None => (&*file).write(&bytes),
        };
        match written {
            Ok(written) => {
                moved = written;
                answer(put_u32(view, written_at, count(written)))
            }
            Err(error) => io_errno(&error),
        }
    });
    charge(env, moved);
    code
}

/// Moves file `fd`'s position (`whence`: 0 from the start, 1 from here, 2
/// from the end) and writes the new one at `at`.
pub(super) fn seek_file(env: &mut Env<'_>, fd: i32, offset: i64, whence: i32, at: i32) -> i32 {
    with_memory(env, |view, data| {
        let file = match file_of(descriptors(data).1, fd) {
            Ok(file) => file,
            Err(code) => return code,
        };
        let to = match whence {
            0 => match u64::try_from(offset) {
                Ok(offset) => SeekFrom::Start(offset),
                Err(_) => return errno::INVAL,
            },
            1 => SeekFrom::Current(offset),
            2 => SeekFrom::End(offset),
            _ => return errno::INVAL,
        };
        match (&*file).seek(to) {
            Ok(position) => answer(put_u64(view, at, position)),
            Err(error) => io_errno(&error),
        }
    })
}

/// Closes descriptor `fd`.
pub(super) fn close(env: &mut Env<'_>, fd: i32) -> i32 {
    if descriptors(env.data_mut()).1.close(fd) {
        errno::SUCCESS
    } else {
        errno::BADF
    }
}

/// `fd_fdstat_get` of a file or directory.
pub(super) fn fdstat(env: &mut Env<'_>, fd: i32, at: i32) -> i32 {
    with_memory(env, |view, data| {
        let filetype = match descriptors(data).1.get(fd) {
            Some(Descriptor::Dir { .. }) => DIRECTORY,
            Some(Descriptor::File(_)) => REGULAR_FILE,
            None => return errno::BADF,
        };
        answer(put(view, at, 0, &fdstat_bytes(filetype, ALL_RIGHTS, ALL_RIGHTS)))
    })
}

/// `fd_filestat_get` of a file or directory.
pub(super) fn filestat(env: &mut Env<'_>, fd: i32, at: i32) -> i32 {
    with_memory(env, |view, data| {
        let metadata = match descriptors(data).1.get(fd) {
            Some(Descriptor::Dir { dir, .. }) => dir.file().metadata(),
            Some(Descriptor::File(file)) => file.metadata(),
            None => return errno::BADF,
        };
        match metadata {
            Ok(metadata) => answer(put(view, at, 0, &filestat_bytes(&metadata))),
            Err(error) => io_errno(&error),
        }
    })
}

/// `struct filestat` of `metadata`: dev, ino, filetype u8 at 16, nlink,
/// size, atim, mtim, ctim.
fn filestat_bytes(metadata: &std::fs::Metadata) -> [u8; 64] {
    let kind = metadata.file_type();
    let filetype = if kind.is_dir() {
        DIRECTORY
    } else if kind.is_file() {
        REGULAR_FILE
    } else if kind.is_symlink() {
        SYMBOLIC_LINK
    } else {
        0
    };
    let time = |seconds: i64, nanos: i64| {
        u64::try_from(seconds)
            .unwrap_or_default()
            .saturating_mul(1_000_000_000)
            .saturating_add(u64::try_from(nanos).unwrap_or_default())
    };
    let mut stat = [0u8; 64];
    stat[0..8].copy_from_slice(&metadata.dev().to_le_bytes());
    stat[8..16].copy_from_slice(&metadata.ino().to_le_bytes());
    stat[16] = filetype;
    stat[24..32].copy_from_slice(&metadata.nlink().to_le_bytes());
    stat[32..40].copy_from_slice(&metadata.size().to_le_bytes());
    stat[40..48].copy_from_slice(&time(metadata.atime(), metadata.atime_nsec()).to_le_bytes());
    stat[48..56].copy_from_slice(&time(metadata.mtime(), metadata.mtime_nsec()).to_le_bytes());
    stat[56..64].copy_from_slice(&time(metadata.ctime(), metadata.ctime_nsec()).to_le_bytes());
    stat
}

/// Sets file `fd`'s size.
pub(super) fn fd_filestat_set_size(mut env: Env<'_>, fd: i32, size: i64) -> i32 {
    match descriptors(env.data_mut()).1.get(fd) {
        Some(Descriptor::File(file)) => match u64::try_from(size).map(|size| file.set_len(size)) {
            Ok(Ok(())) => errno::SUCCESS,
            Ok(Err(error)) => io_errno(&error),
            Err(_) => errno::INVAL,
        },
        Some(Descriptor::Dir { .. }) => errno::ISDIR,
        None => errno::BADF,
    }
}

/// `fd_sync` and `fd_datasync`: a file's data (and metadata) to disk.
pub(super) fn sync(env: &mut Env<'_>, fd: i32, data_only: bool) -> i32 {
    match descriptors(env.data_mut()).1.get(fd) {
        Some(Descriptor::File(file)) => {
            let synced = if data_only { file.sync_data() } else { file.sync_all() };
            synced.map_or_else(|e| io_errno(&e), |()| errno::SUCCESS)
        }
        Some(Descriptor::Dir { .. }) => errno::SUCCESS,
        None => errno::BADF,
    }
}

/// Whether `fd` is one of the guest's files or directories.
pub(super) fn is_open(env: &mut Env<'_>, fd: i32) -> bool {
    descriptors(env.data_mut()).1.get(fd).is_some()
}

/// Lists directory `fd` from entry `cookie` into the `len` bytes at `at`:
/// one 24-byte `dirent` (next cookie, inode, name length, type) and the
/// name per entry, the last one cut where the buffer ends (the guest asks
/// again with a larger one). A listing is taken when it starts (cookie 0).
pub(super) fn fd_readdir(mut env: Env<'_>, fd: i32, at: i32, len: i32, cookie: i64, used_at: i32) -> i32 {
    let mut moved = 0;
    let code = with_memory(&mut env, |view, data| {
        let (_, fds) = descriptors(data);
        let Some(Descriptor::Dir { dir, entries, .. }) = fds.get_mut(fd) else {
            return if fds.get(fd).is_some() {
                errno::NOTDIR
            } else {
                errno::BADF
            };
        };
        if cookie == 0 {
            match dir.entries(MAX_ENTRIES) {
                Ok(listed) => *entries = listed,
                Err(error) => return errno_of(&error),
            }
        }
        let room = unsigned(len) as usize;
        let mut out = Vec::with_capacity(room.min(64 * 1024));
        let start = usize::try_from(cookie).unwrap_or(usize::MAX);
        for (i, entry) in entries.iter().enumerate().skip(start) {
            if out.len() >= room {
                break;
            }
            let mut dirent = [0u8; 24];
            dirent[0..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
            dirent[8..16].copy_from_slice(&entry.inode.to_le_bytes());
            dirent[16..20].copy_from_slice(&u32::try_from(entry.name.len()).unwrap_or(u32::MAX).to_le_bytes());
            dirent[20] = match entry.kind {
                EntryKind::Dir => DIRECTORY,
                EntryKind::File => REGULAR_FILE,
                EntryKind::Symlink => SYMBOLIC_LINK,
                _ => 0,
            };
            out.extend_from_slice(&dirent);
            out.extend_from_slice(&entry.name);
        }
        out.truncate(room);
        moved = out.len();
        answer(put(view, at, 0, &out) && put_u32(view, used_at, count(out.len())))
    });
    charge(&mut env, moved);
    code
}

pub(super) fn path_filestat_get(mut env: Env<'_>, fd: i32, _lookup: i32, path_at: i32, path_len: i32, at: i32) -> i32 {
    let mut stat = None;
    let code = on_path(&mut env, fd, path_at, path_len, |host, dir, path| {
        stat = Some(filestat_bytes(&host.file_metadata(dir, path)?));
        Ok(())
    });
    match stat {
        Some(stat) if code == errno::SUCCESS => with_memory(&mut env, |view, _| answer(put(view, at, 0, &stat))),
        _ => code,
    }
}

pub(super) fn path_create_directory(mut env: Env<'_>, fd: i32, at: i32, len: i32) -> i32 {
    on_path(&mut env, fd, at, len, |host, dir, path| host.make_dir(dir, path))
}

pub(super) fn path_unlink_file(mut env: Env<'_>, fd: i32, at: i32, len: i32) -> i32 {
    on_path(&mut env, fd, at, len, |host, dir, path| host.remove(dir, path, false))
}

pub(super) fn path_remove_directory(mut env: Env<'_>, fd: i32, at: i32, len: i32) -> i32 {
    on_path(&mut env, fd, at, len, |host, dir, path| host.remove(dir, path, true))
}

pub(super) fn path_rename(mut env: Env<'_>, fd: i32, at: i32, len: i32, new_fd: i32, new_at: i32, new_len: i32) -> i32 {
    let new_path = match with_memory_path(&mut env, new_at, new_len) {
        Ok(path) => path,
        Err(code) => return code,
    };
    with_memory(&mut env, |view, data| {
        let path = match read_path(view, at, len) {
            Ok(path) => path,
            Err(code) => return code,
        };
        let (host, fds) = descriptors(data);
        match (fds.dir(fd), fds.dir(new_fd)) {
            (Some(from), Some(to)) => host
                .rename(from, &path, to, &new_path)
                .map_or_else(|e| errno_of(&e), |()| errno::SUCCESS),
            _ if fds.get(fd).is_some() && fds.get(new_fd).is_some() => errno::NOTDIR,
            _ => errno::BADF,
        }
    })
}

/// The path at `at` on its own.
fn with_memory_path(env: &mut Env<'_>, at: i32, len: i32) -> Result<String, i32> {
    let mut path = Err(errno::FAULT);
    with_memory(env, |view, _| {
        path = read_path(view, at, len);
        errno::SUCCESS
    });
    path
}
