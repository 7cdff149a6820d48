//! Files a plugin may reach: the directories its `file:` and `file_write:`
//! grants name, and every open, stat, create, remove and rename beneath
//! them, each decided by one rule, [`PluginHost::file_access`]:
//!
//! - a path is made absolute from the directory it is relative to, and
//!   `.` and `..` are resolved in the text: a path that climbs above that
//!   directory is refused ([`FileError::LeadsOut`]) before anything is
//!   opened;
//! - [`Permissions`](pocket_core::Permissions) must allow the result
//!   (`Request::File`, reading or writing; a directory is asked for with a
//!   trailing `/`, so `file:/data/in/*` reaches `/data/in` itself);
//! - the kernel then resolves it beneath the directory's descriptor with
//!   `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)`: no symlink is ever
//!   followed (a symlink answers [`FileError::Io`] with `ELOOP`), so what
//!   was checked is what is opened;
//! - only regular files and directories open: a FIFO, socket or device
//!   would block a call or reach past the filesystem
//!   ([`FileError::Special`]).

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::Path;

use pocket_core::{Capability, Denied, Request, beneath};

use crate::PluginHost;

/// A directory a plugin reaches files through: one its grants name
/// (preopened for WASI guests), or one it opened beneath such a directory.
#[derive(Debug)]
pub struct GrantedDir {
    /// Its absolute path, as grants and the guest name it.
    path: String,
    dir: File,
}

impl GrantedDir {
    /// Its absolute path, as grants name it.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Its descriptor.
    pub fn file(&self) -> &File {
        &self.dir
    }

    /// Its entries (`.` and `..` left out), at most `max` of them: more are
    /// left out, said in the log. Listing needs no check of its own: opening
    /// the directory was checked.
    pub fn entries(&self, max: usize) -> Result<Vec<DirEntry>, FileError> {
        use std::os::unix::ffi::OsStrExt;
        use std::os::unix::fs::DirEntryExt;
        let failed = |error| io_error(&self.path, error);
        // The descriptor's own directory, whatever its path now is.
        let listing = std::fs::read_dir(format!("/proc/self/fd/{}", self.dir.as_raw_fd())).map_err(failed)?;
        let mut entries = Vec::new();
        for entry in listing {
            if entries.len() == max {
                tracing::warn!(path = self.path, max, "a directory listing was cut");
                break;
            }
            let entry = entry.map_err(failed)?;
            let kind = match entry.file_type() {
                Ok(kind) if kind.is_dir() => EntryKind::Dir,
                Ok(kind) if kind.is_file() => EntryKind::File,
                Ok(kind) if kind.is_symlink() => EntryKind::Symlink,
                _ => EntryKind::Other,
            };
            entries.push(DirEntry {
                name: entry.file_name().as_bytes().to_vec(),
                inode: entry.ino(),
                kind,
            });
        }
        Ok(entries)
    }
}

/// One entry of a directory listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    /// Its name's bytes.
    pub name: Vec<u8>,
    /// Its inode number.
    pub inode: u64,
    /// What it is.
    pub kind: EntryKind,
}

/// What a directory entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A directory.
    Dir,
    /// A regular file.
    File,
    /// A symlink (never followed).
    Symlink,
    /// Anything else (a FIFO, socket or device: never opened).
    Other,
}

/// Why a file could not be reached.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileError {
    /// The plugin's grants (or declarations) do not cover the path.
    #[error(transparent)]
    Denied(#[from] Denied),
    /// The path climbs out of the directory it is relative to, or is absolute.
    #[error("`{0}` leads outside the directory it is relative to")]
    LeadsOut(String),
    /// The path names something other than a regular file or directory.
    #[error("`{0}` is not a regular file or directory")]
    Special(String),
    /// The operating system refused (not found, exists, not empty, a
    /// symlink, no space...).
    #[error("{path}: {error}")]
    Io {
        /// The absolute path.
        path: String,
        /// What the system said.
        #[source]
        error: io::Error,
    },
}

impl FileError {
    /// The operating system's error number behind it, if any.
    pub fn os_error(&self) -> Option<i32> {
        match self {
            FileError::Io { error, .. } => error.raw_os_error(),
            _ => None,
        }
    }
}

/// How to open a file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpenHow {
    /// Read from it (or list it, for a directory).
    pub read: bool,
    /// Write to it (needs a `file_write:` grant).
    pub write: bool,
    /// Create it if it is missing (a write).
    pub create: bool,
    /// Fail if it exists (with `create`).
    pub exclusive: bool,
    /// Empty it (a write).
    pub truncate: bool,
    /// Writes go to its end (a write).
    pub append: bool,
    /// It must be a directory.
    pub directory: bool,
}

impl OpenHow {
    /// Whether opening this way changes what is on disk, or may.
    pub fn writes(&self) -> bool {
        self.write || self.create || self.truncate || self.append
    }

    fn flags(&self) -> i32 {
        let mut flags = match (self.read || !self.writes(), self.writes()) {
            (true, true) => libc::O_RDWR,
            (false, true) => libc::O_WRONLY,
            _ => libc::O_RDONLY,
        };
        for (wanted, flag) in [
            (self.create, libc::O_CREAT),
            (self.exclusive, libc::O_EXCL),
            (self.truncate, libc::O_TRUNC),
            (self.append, libc::O_APPEND),
            (self.directory, libc::O_DIRECTORY),
        ] {
            if wanted {
                flags |= flag;
            }
        }
        // A FIFO must not block the open; it is refused right after.
        flags | libc::O_NONBLOCK | libc::O_NOCTTY
    }
}

/// An opened file or directory.
#[derive(Debug)]
pub enum Opened {
    /// A regular file.
    File(File),
    /// A directory, to list or to open paths beneath.
    Dir(GrantedDir),
}

impl PluginHost {
    /// The directories this plugin's file grants open onto: for each
    /// `file:`/`file_write:` pattern, the directory before its first `*`
    /// (the pattern itself when it names a directory, its parent when it
    /// names a file). For a plugin that declares, only where a grant and a
    /// declaration meet: the deeper of two directories one of which holds
    /// the other. Directories that cannot be opened are left out, said in
    /// the log.
    pub fn granted_dirs(&self) -> Vec<GrantedDir> {
        let dirs_of = |list: &[Capability]| -> Vec<String> {
            list.iter()
                .filter_map(|c| match c {
                    Capability::File { pattern, .. } => Some(directory_of(pattern)),
                    _ => None,
                })
                .collect()
        };
        let granted = dirs_of(self.permissions.granted());
        let mut paths: Vec<String> = match self.permissions.declared() {
            None => granted,
            Some(declared) => {
                let declared = dirs_of(declared);
                granted
                    .iter()
                    .flat_map(|g| declared.iter().filter_map(move |d| deeper(g, d)))
                    .collect()
            }
        };
        paths.sort();
        paths.dedup();
        paths
            .into_iter()
            .filter_map(|path| match File::open(&path) {
                Ok(dir) if dir.metadata().is_ok_and(|m| m.is_dir()) => Some(GrantedDir { path, dir }),
                Ok(_) => None,
                Err(error) => {
                    tracing::warn!(plugin = &*self.plugin, path, %error, "a granted directory cannot be opened");
                    None
                }
            })
            .collect()
    }

    /// The one rule for every file request: may the plugin reach `path`
    /// (an absolute path from [`PluginHost::path_beneath`]), to change it
    /// when `write`, as a directory when `directory`? Refusals are logged as
    /// every capability refusal is.
    pub fn file_access(&self, path: &str, write: bool, directory: bool) -> Result<(), Denied> {
        let asked = as_asked(path, directory);
        self.permissions
            .check(&self.plugin, Request::File { path: &asked, write })
    }

    /// The absolute path of `relative` beneath `dir`, `.` and `..` resolved
    /// in the text; refused when it is absolute or climbs above `dir`.
    pub fn path_beneath(&self, dir: &GrantedDir, relative: &str) -> Result<String, FileError> {
        join(&dir.path, relative).ok_or_else(|| FileError::LeadsOut(relative.to_string()))
    }

    /// Before reading `path` without knowing what it is: allowed as a file
    /// or as a directory (quietly), else refused (logged). What it turns
    /// out to be is checked once it is open ([`Self::file_access`]), so a
    /// path the plugin may not reach is never told apart from a missing one.
    fn may_read_either(&self, path: &str) -> Result<(), Denied> {
        let quiet = |directory| {
            let asked = as_asked(path, directory);
            self.permissions
                .refusal(Request::File {
                    path: &asked,
                    write: false,
                })
                .is_none()
        };
        if quiet(false) || quiet(true) {
            Ok(())
        } else {
            self.file_access(path, false, false)
        }
    }

    /// The granted directories a process plugin's jail binds in whole, and
    /// whether each is writable: those whose grants reach the directory
    /// itself (`file:/data/in` or `file:/data/in/*`). A pattern naming some
    /// files of a directory (`file:/data/*.csv`) binds nothing: a mount
    /// cannot pick files out, and the whole directory would be more than
    /// granted.
    pub fn whole_dirs(&self) -> Vec<(String, bool)> {
        self.granted_dirs()
            .into_iter()
            .filter_map(|dir| {
                let asked = as_asked(&dir.path, true);
                let may = |write| {
                    self.permissions
                        .refusal(Request::File { path: &asked, write })
                        .is_none()
                };
                may(false).then(|| (dir.path.clone(), may(true)))
            })
            .collect()
    }

    /// Opens `relative` beneath `dir` (see the module docs for the rule).
    pub fn open_file(&self, dir: &GrantedDir, relative: &str, how: OpenHow) -> Result<Opened, FileError> {
        let path = self.path_beneath(dir, relative)?;
        if how.writes() || how.directory {
            self.file_access(&path, how.writes(), how.directory)?;
        } else {
            self.may_read_either(&path)?;
        }
        let fd = beneath::open_strict(&dir.dir, Path::new(&kernel_path(relative)), how.flags(), 0o666)
            .map_err(|error| io_error(&path, error))?;
        let file = File::from(fd);
        let kind = file.metadata().map_err(|error| io_error(&path, error))?.file_type();
        if !kind.is_file() && !kind.is_dir() {
            return Err(FileError::Special(path));
        }
        self.file_access(&path, how.writes(), kind.is_dir())?;
        Ok(if kind.is_dir() {
            Opened::Dir(GrantedDir { path, dir: file })
        } else {
            Opened::File(file)
        })
    }

    /// What `relative` beneath `dir` is, without following it if it is a
    /// symlink (reading it needs a grant that covers it).
    pub fn file_metadata(&self, dir: &GrantedDir, relative: &str) -> Result<std::fs::Metadata, FileError> {
        let path = self.path_beneath(dir, relative)?;
        self.may_read_either(&path)?;
        let fd = beneath::open_strict(
            &dir.dir,
            Path::new(&kernel_path(relative)),
            libc::O_PATH | libc::O_NOFOLLOW,
            0,
        )
        .map_err(|error| io_error(&path, error))?;
        let metadata = File::from(fd).metadata().map_err(|error| io_error(&path, error))?;
        self.file_access(&path, false, metadata.is_dir())?;
        Ok(metadata)
    }

    /// Creates the directory `relative` beneath `dir` (a write).
    pub fn make_dir(&self, dir: &GrantedDir, relative: &str) -> Result<(), FileError> {
        let (parent, name, path) = self.parent_of(dir, relative, true)?;
        beneath::make_dir_strict(&parent, Path::new(name)).map_err(|error| io_error(&path, error))
    }

    /// Removes the file (or, with `directory`, the empty directory)
    /// `relative` beneath `dir` (a write). A symlink is removed, never followed.
    pub fn remove(&self, dir: &GrantedDir, relative: &str, directory: bool) -> Result<(), FileError> {
        let (parent, name, path) = self.parent_of(dir, relative, directory)?;
        beneath::remove(&parent, Path::new(name), directory).map_err(|error| io_error(&path, error))
    }

    /// Renames `from` beneath `from_dir` to `to` beneath `to_dir` (a write
    /// of both paths).
    pub fn rename(&self, from_dir: &GrantedDir, from: &str, to_dir: &GrantedDir, to: &str) -> Result<(), FileError> {
        let (from_parent, from_name, path) = self.parent_of(from_dir, from, false)?;
        let (to_parent, to_name, _) = self.parent_of(to_dir, to, false)?;
        beneath::rename(&from_parent, Path::new(from_name), &to_parent, Path::new(to_name))
            .map_err(|error| io_error(&path, error))
    }

    /// For a change to `relative` beneath `dir`: the directory holding it
    /// (opened beneath `dir`), its last component and its absolute path,
    /// once the change is allowed.
    fn parent_of<'a>(
        &self,
        dir: &GrantedDir,
        relative: &'a str,
        directory: bool,
    ) -> Result<(OwnedFd, &'a str, String), FileError> {
        let path = self.path_beneath(dir, relative)?;
        self.file_access(&path, true, directory)?;
        let trimmed = relative.trim_end_matches('/');
        let (parent, name) = trimmed.rsplit_once('/').unwrap_or((".", trimmed));
        if matches!(name, "" | "." | "..") {
            return Err(FileError::LeadsOut(relative.to_string()));
        }
        let fd = beneath::open_strict(
            &dir.dir,
            Path::new(&kernel_path(parent)),
            libc::O_PATH | libc::O_DIRECTORY,
            0,
        )
        .map_err(|error| io_error(&path, error))?;
        Ok((fd, name, path))
    }
}

impl AsFd for GrantedDir {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.dir.as_fd()
    }
}

fn io_error(path: &str, error: io::Error) -> FileError {
    if beneath::leads_out(&error) {
        FileError::LeadsOut(path.to_string())
    } else {
        FileError::Io {
            path: path.to_string(),
            error,
        }
    }
}

/// `relative` as the kernel is given it: empty means `.`.
fn kernel_path(relative: &str) -> &str {
    if relative.is_empty() { "." } else { relative }
}

/// `path` as a permission is asked for it: a directory with a trailing `/`.
fn as_asked(path: &str, directory: bool) -> std::borrow::Cow<'_, str> {
    if directory && !path.ends_with('/') {
        format!("{path}/").into()
    } else {
        path.into()
    }
}

/// `relative` joined to the absolute directory `base`, with `.` and `..`
/// resolved in the text; `None` when it is absolute, climbs above `base`
/// or has a NUL.
pub(crate) fn join(base: &str, relative: &str) -> Option<String> {
    if relative.starts_with('/') || relative.contains('\0') {
        return None;
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in relative.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            part => parts.push(part),
        }
    }
    let base = base.trim_end_matches('/');
    if parts.is_empty() {
        return Some(if base.is_empty() { "/".into() } else { base.into() });
    }
    Some(format!("{base}/{}", parts.join("/")))
}

/// The directory a file pattern opens onto (see [`PluginHost::granted_dirs`]).
fn directory_of(pattern: &str) -> String {
    let literal = pattern.split('*').next().unwrap_or_default();
    if literal.len() < pattern.len() || !Path::new(literal).is_dir() {
        // Up to the last `/` before the first `*` (or the file's parent).
        match literal.rfind('/') {
            Some(0) | None => "/".into(),
            Some(at) => literal[..at].into(),
        }
    } else {
        let trimmed = literal.trim_end_matches('/');
        if trimmed.is_empty() { "/".into() } else { trimmed.into() }
    }
}

/// Of two directories one of which holds the other, the deeper one.
fn deeper(a: &str, b: &str) -> Option<String> {
    let holds = |outer: &str, inner: &str| {
        outer == "/" || inner == outer || inner.strip_prefix(outer).is_some_and(|rest| rest.starts_with('/'))
    };
    if holds(a, b) {
        Some(b.to_string())
    } else if holds(b, a) {
        Some(a.to_string())
    } else {
        None
    }
}

#[cfg(test)]
mod tests;
