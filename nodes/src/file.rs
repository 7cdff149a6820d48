//! `file`: reads, writes, appends, checks and lists files inside a sandbox.
//!
//! Paths are relative to `base_dir` (default: the workflow file's directory;
//! a relative `base_dir` is resolved against it, see
//! [`pocket_core::FileBase`]: a workflow sent inline has no directory, so
//! only an absolute `base_dir` serves it) and cannot leave it: not through `..`, not as absolute paths
//! (unless `allow_absolute`), not through symlinks. On Linux the kernel
//! opens every path beneath the opened `base_dir` (`openat2` with
//! `RESOLVE_BENEATH`), so there is no check-then-open window for a
//! swapped-in symlink; elsewhere the path is checked, then opened.
//! `base_dir` and `allow_absolute` draw the sandbox, so they cannot be
//! templates.
//!
//! Outputs keep the Go engine's shapes: `{path, exists, content, size,
//! modified}` for `read`; `{path, exists, size, modified}` for `write` and
//! `append`; `{path, exists, size, modified, isDir}` for `exists`; `{path,
//! exists, files: [{name, path, size, modified, isDir}]}` for `list`. A
//! missing file is `{path, exists: false}`, not a failure.

use std::fs;
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use pocket_core::{ConfigError, Execution, Invocation, Node, NodeError, NodeOutput, NodeSetup, Value};
use serde_json::json;

use crate::builtin::{Builtin, is_template_value};

pub(crate) struct File;

impl Builtin for File {
    const NAME: &'static str = "file";
    const DESCRIPTION: &'static str =
        "Reads, writes, appends, checks or lists files, confined to `base_dir` (default: the workflow's directory)";

    fn schema() -> serde_json::Value {
        json!({
            "type": "object",
            "properties": {
                "operation": {"enum": ["read", "write", "append", "exists", "list"], "default": "read", "description": "What to do with `path`"},
                "path": {"type": "string", "minLength": 1, "description": "The file or directory, relative to `base_dir` (templates allowed)"},
                "content": {"description": "write/append: the text to write (templates allowed); non-strings are written as JSON"},
                "encoding": {"enum": ["utf-8", "utf8"], "default": "utf-8", "description": "The text encoding (UTF-8 only)"},
                "base_dir": {"type": "string", "description": "The sandbox directory: absolute, or relative to the workflow file's directory (default: that directory; a workflow sent inline has none)"},
                "allow_absolute": {"type": "boolean", "default": false, "description": "Allow absolute paths, anywhere on the machine"},
                "create_dirs": {"type": "boolean", "default": false, "description": "write/append: create missing parent directories (inside the sandbox)"}
            },
            "required": ["path"],
            "additionalProperties": false
        })
    }

    fn prepare(setup: &NodeSetup<'_>) -> Result<Arc<dyn Node>, ConfigError> {
        for key in ["base_dir", "allow_absolute", "operation"] {
            if setup.config_value(key).is_some_and(is_template_value) {
                return Err(ConfigError::at(
                    format!("/{key}"),
                    format!("`{key}` cannot be a template: it is fixed before the run"),
                ));
            }
        }
        let base = match setup.config_value("base_dir").and_then(Value::as_str) {
            Some(dir) => setup.files.directory(dir),
            None => setup.files.directory("."),
        }
        .map_err(|e| ConfigError::at("/base_dir", e.to_string()))?;
        let operation = match setup.config_value("operation").and_then(Value::as_str) {
            Some("write") => Operation::Write,
            Some("append") => Operation::Append,
            Some("exists") => Operation::Exists,
            Some("list") => Operation::List,
            _ => Operation::Read,
        };
        Ok(Arc::new(FileRun {
            base,
            operation,
            allow_absolute: setup.config_value("allow_absolute").and_then(Value::as_bool) == Some(true),
            create_dirs: setup.config_value("create_dirs").and_then(Value::as_bool) == Some(true),
        }))
    }
}

#[derive(Clone, Copy)]
enum Operation {
    Read,
    Write,
    Append,
    Exists,
    List,
}

struct FileRun {
    base: PathBuf,
    operation: Operation,
    allow_absolute: bool,
    create_dirs: bool,
}

impl Node for FileRun {
    fn exec<'a>(&'a self, call: Invocation<'a>) -> Execution<'a> {
        let path = match call.config.get("path") {
            Some(Value::String(s)) if !s.is_empty() => s.to_string(),
            other => {
                return Execution::Ready(Err(NodeError::InvalidConfig(format!(
                    "`path` must render to a non-empty string, not {}",
                    other.map_or("nothing", Value::type_name)
                ))));
            }
        };
        let content = match call.config.get("content") {
            Some(Value::String(s)) => s.to_string(),
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_json(),
        };
        let job = Job {
            base: self.base.clone(),
            operation: self.operation,
            allow_absolute: self.allow_absolute,
            create_dirs: self.create_dirs,
            path,
            content,
        };
        Execution::pending(async move {
            tokio::task::spawn_blocking(move || job.run())
                .await
                .map_err(|e| NodeError::Crashed(format!("file operation: {e}")))?
                .map(NodeOutput::new)
        })
    }
}

/// One file operation, run on a blocking thread.
struct Job {
    base: PathBuf,
    operation: Operation,
    allow_absolute: bool,
    create_dirs: bool,
    path: String,
    content: String,
}

impl Job {
    fn run(self) -> Result<Value, NodeError> {
        let place = Place::new(&self.base, &self.path, self.allow_absolute)?;
        let target = place.shown().to_path_buf();
        let shown = Value::from(target.display().to_string());
        let io = |what: &str, e: std::io::Error| {
            if place.leads_out(&e) {
                return NodeError::PermissionDenied(format!(
                    "`{}` leads outside base_dir through a symlink",
                    self.path
                ));
            }
            NodeError::failed(format!("{what} {}: {e}", target.display()))
        };
        let missing = || Value::object([("path", shown.clone()), ("exists", Value::Bool(false))]);
        match self.operation {
            Operation::Read => match place.open(Access::Read) {
                Ok(mut file) => {
                    let mut bytes = Vec::new();
                    file.read_to_end(&mut bytes).map_err(|e| io("cannot read", e))?;
                    let content = String::from_utf8(bytes)
                        .map_err(|_| NodeError::failed(format!("{} is not UTF-8 text", target.display())))?;
                    let meta = file.metadata().map_err(|e| io("cannot stat", e))?;
                    let mut out = described(&shown, &meta);
                    out.insert("content", Value::from(content));
                    Ok(Value::from(out))
                }
                Err(e) if e.kind() == ErrorKind::NotFound => Ok(missing()),
                Err(e) => Err(io("cannot read", e)),
            },
            Operation::Write | Operation::Append => {
                if self.create_dirs {
                    place
                        .create_parents()
                        .map_err(|e| io("cannot create the directories of", e))?;
                }
                let append = matches!(self.operation, Operation::Append);
                let mut file = place.open(Access::Write { append }).map_err(|e| io("cannot open", e))?;
                file.write_all(self.content.as_bytes())
                    .map_err(|e| io("cannot write", e))?;
                let meta = file.metadata().map_err(|e| io("cannot stat", e))?;
                Ok(Value::from(described(&shown, &meta)))
            }
            Operation::Exists => match place.open(Access::Stat).and_then(|f| f.metadata()) {
                Ok(meta) => {
                    let mut out = described(&shown, &meta);
                    out.insert("isDir", Value::Bool(meta.is_dir()));
                    Ok(Value::from(out))
                }
                Err(e) if e.kind() == ErrorKind::NotFound => Ok(missing()),
                Err(e) => Err(io("cannot stat", e)),
            },
            Operation::List => {
                let entries = match place.list() {
                    Ok(entries) => entries,
                    Err(e) if e.kind() == ErrorKind::NotFound => return Ok(missing()),
                    Err(e) => return Err(io("cannot list", e)),
                };
                let mut files = Vec::new();
                for entry in entries {
                    let entry = entry.map_err(|e| io("cannot list", e))?;
                    let Ok(meta) = entry.metadata() else { continue };
                    let mut item = described(
                        &Value::from(target.join(entry.file_name()).display().to_string()),
                        &meta,
                    );
                    item.shift_remove("exists");
                    item.insert("name", Value::from(entry.file_name().to_string_lossy().into_owned()));
                    item.insert("isDir", Value::Bool(meta.is_dir()));
                    files.push(Value::from(item));
                }
                files.sort_by(|a, b| {
                    a.get("name")
                        .and_then(Value::as_str)
                        .cmp(&b.get("name").and_then(Value::as_str))
                });
                Ok(Value::object([
                    ("path", shown),
                    ("exists", Value::Bool(true)),
                    ("files", Value::from(files)),
                ]))
            }
        }
    }
}

/// How a file is opened.
#[derive(Clone, Copy)]
enum Access {
    Read,
    Write {
        append: bool,
    },
    /// Only to read its metadata (a directory too).
    Stat,
}

/// Where an operation acts.
enum Place {
    /// A path beneath the sandbox directory, opened with the kernel
    /// refusing every step out (Linux `openat2`): no symlink swapped in
    /// after a check can lead out, since there is no separate check.
    #[cfg(target_os = "linux")]
    Beneath {
        dir: fs::File,
        relative: PathBuf,
        shown: PathBuf,
    },
    /// An absolute path (`allow_absolute`), or, where `openat2` is missing,
    /// a sandboxed path checked by [`confine`] before use.
    Checked(PathBuf),
}

impl Place {
    fn new(base: &Path, path: &str, allow_absolute: bool) -> Result<Place, NodeError> {
        if Path::new(path).is_absolute() || !beneath_available() {
            return confine(base, path, allow_absolute).map(Place::Checked);
        }
        Place::beneath(base, path)
    }

    #[cfg(target_os = "linux")]
    fn beneath(base: &Path, path: &str) -> Result<Place, NodeError> {
        let relative = pocket_core::lexically_inside(path, BASE_DIR).map_err(refused)?;
        let base = base
            .canonicalize()
            .map_err(|e| NodeError::failed(format!("base_dir {}: {e}", base.display())))?;
        let dir = fs::File::open(&base).map_err(|e| NodeError::failed(format!("base_dir {}: {e}", base.display())))?;
        Ok(Place::Beneath {
            dir,
            shown: base.join(&relative),
            relative,
        })
    }

    #[cfg(not(target_os = "linux"))]
    fn beneath(base: &Path, path: &str) -> Result<Place, NodeError> {
        confine(base, path, false).map(Place::Checked)
    }

    /// The path to report.
    fn shown(&self) -> &Path {
        match self {
            #[cfg(target_os = "linux")]
            Place::Beneath { shown, .. } => shown,
            Place::Checked(path) => path,
        }
    }

    /// Whether `error` means the path led out of the sandbox.
    fn leads_out(&self, error: &std::io::Error) -> bool {
        match self {
            #[cfg(target_os = "linux")]
            Place::Beneath { .. } => pocket_core::beneath::leads_out(error),
            Place::Checked(_) => false,
        }
    }

    fn open(&self, access: Access) -> std::io::Result<fs::File> {
        match self {
            #[cfg(target_os = "linux")]
            Place::Beneath { dir, relative, .. } => {
                let flags = match access {
                    Access::Read => libc::O_RDONLY,
                    Access::Write { append: true } => libc::O_WRONLY | libc::O_CREAT | libc::O_APPEND,
                    Access::Write { append: false } => libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC,
                    Access::Stat => libc::O_PATH,
                };
                pocket_core::beneath::open(dir, relative, flags, 0o666).map(fs::File::from)
            }
            Place::Checked(path) => match access {
                Access::Read | Access::Stat => fs::File::open(path),
                Access::Write { append } => fs::OpenOptions::new()
                    .write(true)
                    .create(true)
                    .append(append)
                    .truncate(!append)
                    .open(path),
            },
        }
    }

    fn list(&self) -> std::io::Result<fs::ReadDir> {
        match self {
            #[cfg(target_os = "linux")]
            Place::Beneath { dir, relative, .. } => {
                let fd = pocket_core::beneath::open(dir, relative, libc::O_RDONLY | libc::O_DIRECTORY, 0)?;
                // The descriptor's /proc entry opens the very directory it
                // holds (nothing is resolved by name again).
                fs::read_dir(format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&fd)))
            }
            Place::Checked(path) => fs::read_dir(path),
        }
    }

    /// Creates the missing directories above the path, each beneath the
    /// sandbox directory.
    fn create_parents(&self) -> std::io::Result<()> {
        match self {
            #[cfg(target_os = "linux")]
            Place::Beneath { dir, relative, .. } => {
                let Some(parent) = relative.parent() else { return Ok(()) };
                let mut made = PathBuf::new();
                for component in parent.components() {
                    let holder = if made.as_os_str().is_empty() {
                        pocket_core::beneath::open(dir, Path::new("."), libc::O_PATH | libc::O_DIRECTORY, 0)?
                    } else {
                        pocket_core::beneath::open(dir, &made, libc::O_PATH | libc::O_DIRECTORY, 0)?
                    };
                    pocket_core::beneath::make_dir(&holder, Path::new(component.as_os_str()))?;
                    made.push(component);
                }
                Ok(())
            }
            Place::Checked(path) => match path.parent() {
                Some(parent) => fs::create_dir_all(parent),
                None => Ok(()),
            },
        }
    }
}

/// `{path, exists: true, size, modified}` of an existing file.
fn described(path: &Value, meta: &fs::Metadata) -> pocket_core::Map {
    let modified = meta
        .modified()
        .map(|t| Value::from(humantime::format_rfc3339_seconds(t).to_string()))
        .unwrap_or_default();
    [
        ("path".to_string(), path.clone()),
        ("exists".to_string(), Value::Bool(true)),
        ("size".to_string(), Value::from(meta.len())),
        ("modified".to_string(), modified),
    ]
    .into_iter()
    .collect()
}

/// Whether paths can be opened beneath a directory by the kernel.
fn beneath_available() -> bool {
    #[cfg(target_os = "linux")]
    return pocket_core::beneath::available();
    #[cfg(not(target_os = "linux"))]
    return false;
}

/// Where `path` leads inside `base`, or why it may not be used: it climbs
/// out with `..`, is absolute without `allow_absolute`, or reaches outside
/// through a symlink. Used for absolute paths, and where the kernel has no
/// `openat2`: a check, then a separate open.
fn confine(base: &Path, path: &str, allow_absolute: bool) -> Result<PathBuf, NodeError> {
    if Path::new(path).is_absolute() {
        return if allow_absolute {
            Ok(PathBuf::from(path))
        } else {
            Err(NodeError::PermissionDenied(format!(
                "`{path}` is an absolute path; paths are relative to base_dir unless `allow_absolute: true`"
            )))
        };
    }
    pocket_core::checked_beneath(base, path, BASE_DIR).map_err(refused)
}

/// What messages call the sandbox.
const BASE_DIR: &str = "base_dir";

/// A path refused by the sandbox, as a node error.
fn refused(refused: pocket_core::FileRefused) -> NodeError {
    if refused.is_denied() {
        NodeError::PermissionDenied(refused.to_string())
    } else {
        NodeError::failed(refused.to_string())
    }
}
