//! The files a workflow's nodes may open: one gate for every node type that
//! reads a file the workflow names (a `template` node's `file`, `validate`'s
//! `schema_file`, the `lua` node's script, the `file` node's sandbox).
//!
//! A workflow's files live beneath its **base**: the directory of its
//! workflow file. There is no base when pocket.toml's `[builtins] file =
//! false` switches file access off, nor for a workflow with no file of its
//! own (one sent inline to `pocket serve`, or a node prepared on its own):
//! then every such read is refused. Paths are relative to the base and
//! cannot leave it, not through `..`, not as absolute paths, not through
//! symlinks: on Linux the kernel opens them beneath the opened base
//! (`openat2` with `RESOLVE_BENEATH`, see [`crate::beneath`]); elsewhere
//! the path is checked, then opened.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

use crate::config::BuiltinsConfig;

/// Why a workflow's nodes may open no file at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NoFiles {
    /// pocket.toml's `[builtins] file = false`.
    #[error("pocket.toml's `[builtins] file = false` switches file access off")]
    SwitchedOff,
    /// The workflow has no file, so no directory (sent inline, or a node
    /// prepared on its own).
    #[error("the workflow has no directory of its own (it was sent inline), so it may open no files")]
    NoDirectory,
}

/// A path that may not be opened, or could not be.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileRefused {
    /// The workflow may open no files.
    #[error("cannot open `{path}`: {reason}")]
    NoFiles {
        /// The path as written.
        path: String,
        /// Why not.
        reason: NoFiles,
    },
    /// An absolute path.
    #[error("`{path}` is an absolute path; paths are relative to {base}")]
    Absolute {
        /// The path as written.
        path: String,
        /// What the directory is called in messages.
        base: &'static str,
    },
    /// A path that climbs out with `..`.
    #[error("`{path}` leads outside {base}")]
    Climbs {
        /// The path as written.
        path: String,
        /// What the directory is called in messages.
        base: &'static str,
    },
    /// A path that leads out through a symlink.
    #[error("`{path}` leads outside {base} through a symlink")]
    ThroughSymlink {
        /// The path as written.
        path: String,
        /// What the directory is called in messages.
        base: &'static str,
    },
    /// Not a regular file (a directory, a FIFO, a device...).
    #[error("{} is not a regular file", .shown.display())]
    NotAFile {
        /// The file.
        shown: PathBuf,
    },
    /// The file could not be opened or read.
    #[error("cannot read {}: {source}", .shown.display())]
    Io {
        /// The file.
        shown: PathBuf,
        /// What went wrong.
        source: io::Error,
    },
}

impl FileRefused {
    /// Whether the path was refused for where it leads (as opposed to
    /// failing to open or read): a permission matter.
    pub fn is_denied(&self) -> bool {
        !matches!(self, FileRefused::Io { .. } | FileRefused::NotAFile { .. })
    }
}

/// The directory a workflow's nodes may open files beneath, or why they
/// may open none. Every node type reads a workflow's files through it
/// ([`crate::NodeSetup::read_file`]).
#[derive(Debug, Clone, Copy)]
pub struct FileBase<'a>(Result<&'a Path, NoFiles>);

impl<'a> FileBase<'a> {
    /// The base of a workflow in `workflow_dir` (`None`: it has no file)
    /// under pocket.toml's `builtins`.
    pub fn of(builtins: &BuiltinsConfig, workflow_dir: Option<&'a Path>) -> Self {
        FileBase(match workflow_dir {
            _ if !builtins.file => Err(NoFiles::SwitchedOff),
            Some(dir) => Ok(dir),
            None => Err(NoFiles::NoDirectory),
        })
    }

    /// A base that allows no files.
    pub fn none(reason: NoFiles) -> Self {
        FileBase(Err(reason))
    }

    /// The directory, or why there is none.
    pub fn dir(&self) -> Result<&'a Path, NoFiles> {
        self.0
    }

    /// The directory `path` names, for a node type that draws a sandbox of
    /// its own (the `file` node's `base_dir`): `path` itself when absolute,
    /// else `path` resolved against the base, which must exist.
    pub fn directory(&self, path: &str) -> Result<PathBuf, FileRefused> {
        if Path::new(path).is_absolute() && self.0 != Err(NoFiles::SwitchedOff) {
            return Ok(PathBuf::from(path));
        }
        let dir = self.0.map_err(|reason| FileRefused::NoFiles {
            path: path.to_string(),
            reason,
        })?;
        Ok(dir.join(path))
    }

    /// Reads the text of the file at `path`, relative to the base and never
    /// outside it.
    pub fn read_to_string(&self, path: &str) -> Result<String, FileRefused> {
        let dir = self.0.map_err(|reason| FileRefused::NoFiles {
            path: path.to_string(),
            reason,
        })?;
        let (mut file, shown) = open_file_beneath(dir, path, BASE)?;
        let mut text = String::new();
        file.read_to_string(&mut text)
            .map_err(|source| FileRefused::Io { shown, source })?;
        Ok(text)
    }

    /// Whether `path` names a regular file beneath the base that could be read.
    pub fn is_file(&self, path: &str) -> bool {
        self.0.is_ok_and(|dir| open_file_beneath(dir, path, BASE).is_ok())
    }
}

/// What messages call a workflow's base.
const BASE: &str = "the workflow's directory";

/// Opens the regular file `path` beneath `dir` to read it (`base` names
/// `dir` in messages), and the path to show for it. A FIFO or device is
/// refused without waiting on it.
fn open_file_beneath(dir: &Path, path: &str, base: &'static str) -> Result<(File, PathBuf), FileRefused> {
    let relative = lexically_inside(path, base)?;
    let canonical = dir.canonicalize().map_err(|source| FileRefused::Io {
        shown: dir.to_path_buf(),
        source,
    })?;
    let shown = canonical.join(&relative);
    // `.` (or `a/..`) is the directory itself, which openat2 names `.`.
    let relative = if relative.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        relative
    };
    let opened = open_beneath(&canonical, &relative, path, base);
    let file = match opened {
        Ok(file) => file,
        Err(Opened::Refused(refused)) => return Err(refused),
        Err(Opened::Io(source)) => return Err(FileRefused::Io { shown, source }),
    };
    match file.metadata() {
        Ok(meta) if meta.is_file() => Ok((file, shown)),
        Ok(_) => Err(FileRefused::NotAFile { shown }),
        Err(source) => Err(FileRefused::Io { shown, source }),
    }
}

/// Why [`open_beneath`] gave no file.
enum Opened {
    Refused(FileRefused),
    Io(io::Error),
}

#[cfg(target_os = "linux")]
fn open_beneath(dir: &Path, relative: &Path, path: &str, base: &'static str) -> Result<File, Opened> {
    if crate::beneath::available() {
        let dir = File::open(dir).map_err(Opened::Io)?;
        let flags = libc::O_RDONLY | libc::O_NONBLOCK | libc::O_NOCTTY;
        return crate::beneath::open(&dir, relative, flags, 0)
            .map(File::from)
            .map_err(|e| {
                if crate::beneath::leads_out(&e) {
                    Opened::Refused(FileRefused::ThroughSymlink {
                        path: path.to_string(),
                        base,
                    })
                } else {
                    Opened::Io(e)
                }
            });
    }
    open_checked(dir, path, base)
}

#[cfg(not(target_os = "linux"))]
fn open_beneath(dir: &Path, _relative: &Path, path: &str, base: &'static str) -> Result<File, Opened> {
    open_checked(dir, path, base)
}

/// Where `openat2` is missing: a check, then a separate open.
fn open_checked(dir: &Path, path: &str, base: &'static str) -> Result<File, Opened> {
    let target = checked_beneath(dir, path, base).map_err(Opened::Refused)?;
    File::open(target).map_err(Opened::Io)
}

/// `path` with `.` and `..` resolved as text, or why it may not be used
/// beneath a directory (`base` names it in messages): it climbs out with
/// `..`, or is not relative.
pub fn lexically_inside(path: &str, base: &'static str) -> Result<PathBuf, FileRefused> {
    let mut relative = PathBuf::new();
    for component in Path::new(path).components() {
        match component {
            Component::Normal(part) => relative.push(part),
            Component::CurDir => {}
            Component::ParentDir => {
                if !relative.pop() {
                    return Err(FileRefused::Climbs {
                        path: path.to_string(),
                        base,
                    });
                }
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(FileRefused::Absolute {
                    path: path.to_string(),
                    base,
                });
            }
        }
    }
    Ok(relative)
}

/// Where relative `path` leads inside `dir` (`base` names it in messages),
/// or why it may not be used: it climbs out with `..`, is absolute, or
/// reaches outside through a symlink. For where the kernel has no
/// `openat2`: a check, then a separate open, which a symlink swapped in
/// between can still defeat.
pub fn checked_beneath(dir: &Path, path: &str, base: &'static str) -> Result<PathBuf, FileRefused> {
    let relative = lexically_inside(path, base)?;
    let dir = dir.canonicalize().map_err(|source| FileRefused::Io {
        shown: dir.to_path_buf(),
        source,
    })?;
    let target = dir.join(relative);
    // The deepest part of the path that exists (possibly as a dangling
    // symlink) must resolve inside the directory.
    let mut probe = target.as_path();
    loop {
        if probe.symlink_metadata().is_ok() {
            if !probe.canonicalize().is_ok_and(|real| real.starts_with(&dir)) {
                return Err(FileRefused::ThroughSymlink {
                    path: path.to_string(),
                    base,
                });
            }
            break;
        }
        match probe.parent() {
            Some(parent) if parent.starts_with(&dir) => probe = parent,
            _ => break,
        }
    }
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base_in(dir: &Path) -> FileBase<'_> {
        FileBase::of(&BuiltinsConfig::default(), Some(dir))
    }

    #[test]
    fn files_beneath_the_base_are_read_and_every_way_out_is_refused() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("wf");
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("sub/t.txt"), "inside").unwrap();
        std::fs::write(root.path().join("secret"), "outside").unwrap();
        std::os::unix::fs::symlink(root.path().join("secret"), dir.join("link")).unwrap();
        let base = base_in(&dir);
        assert_eq!(base.read_to_string("sub/../sub/t.txt").unwrap(), "inside");
        assert!(base.is_file("sub/t.txt") && !base.is_file("sub") && !base.is_file("link"));
        let secret = root.path().join("secret").display().to_string();
        for (path, expected) in [
            ("../secret", "leads outside the workflow's directory"),
            ("sub/../../secret", "leads outside"),
            (secret.as_str(), "is an absolute path"),
            ("link", "through a symlink"),
            ("sub", "not a regular file"),
        ] {
            let refused = base.read_to_string(path).unwrap_err().to_string();
            assert!(refused.contains(expected), "{path}: {refused}");
        }
    }

    #[test]
    fn without_a_directory_or_with_files_switched_off_nothing_is_read() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("t.txt"), "x").unwrap();
        let off = BuiltinsConfig {
            file: false,
            ..BuiltinsConfig::default()
        };
        let refused = FileBase::of(&off, Some(dir.path()))
            .read_to_string("t.txt")
            .unwrap_err();
        assert!(refused.to_string().contains("[builtins] file = false"), "{refused}");
        let inline = FileBase::of(&BuiltinsConfig::default(), None);
        assert!(
            inline
                .read_to_string("t.txt")
                .unwrap_err()
                .to_string()
                .contains("sent inline")
        );
        assert!(inline.directory("data").is_err() && !inline.is_file("t.txt"));
        assert_eq!(inline.directory("/srv/data").unwrap(), Path::new("/srv/data"));
    }
}
