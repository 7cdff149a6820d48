//! `pocket-plugin.toml` as a process plugin writes it: the package manifest
//! every plugin project has (name, version, kind, description,
//! permissions), plus what starting the program takes (`command`, `args`)
//! and the resources it may use.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// The manifest's file name, in the plugin's directory.
pub const MANIFEST: &str = "pocket-plugin.toml";

/// The largest manifest read.
const MAX_MANIFEST: usize = 64 * 1024;

/// A manifest could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ManifestError {
    /// It is not TOML of the expected shape.
    #[error("{MANIFEST}: {0}")]
    Invalid(String),
    /// Its `kind` is not `process`.
    #[error("{MANIFEST}: kind is `{0}`, not `process`")]
    NotProcess(String),
}

/// A process plugin's `pocket-plugin.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessManifest {
    /// The plugin's name (its directory's name must match, or an alias).
    pub name: String,
    /// Its version.
    pub version: String,
    /// One line about it.
    pub description: String,
    /// The program: a path relative to the plugin's directory (`./run`,
    /// `bin/plugin`) or a name looked up on `PATH` (`python3`, `node`).
    pub command: String,
    /// Its arguments (`["main.py"]`).
    pub args: Vec<String>,
    /// The capabilities it declares, as written.
    pub permissions: Vec<String>,
    /// What it may use.
    pub resources: Resources,
}

/// A process plugin's resources, with their defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resources {
    /// Its address space (`RLIMIT_AS`): 1 GiB unless the manifest says.
    pub memory: u64,
    /// One call's time (pocket.toml's `timeout` caps it): 30 s.
    pub call_timeout: Duration,
    /// Starting and describing itself: 10 s.
    pub start_timeout: Duration,
    /// Calls sent to the process at once (more wait their turn): 16.
    pub max_in_flight: usize,
}

impl Default for Resources {
    fn default() -> Self {
        Resources {
            memory: 1 << 30,
            call_timeout: Duration::from_secs(30),
            start_timeout: Duration::from_secs(10),
            max_in_flight: 16,
        }
    }
}

#[derive(Deserialize)]
struct File {
    name: String,
    version: String,
    kind: String,
    #[serde(default)]
    description: String,
    command: Option<String>,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    permissions: Vec<String>,
    #[serde(default)]
    resources: ResourcesFile,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ResourcesFile {
    memory: Option<String>,
    call_timeout: Option<String>,
    start_timeout: Option<String>,
    max_in_flight: Option<usize>,
}

impl ProcessManifest {
    /// Parses the text of a manifest.
    pub fn parse(text: &str) -> Result<ProcessManifest, ManifestError> {
        if text.len() > MAX_MANIFEST {
            return Err(ManifestError::Invalid(format!("larger than {MAX_MANIFEST} bytes")));
        }
        let file: File = toml::from_str(text).map_err(|e| ManifestError::Invalid(e.message().to_string()))?;
        if file.kind != "process" {
            return Err(ManifestError::NotProcess(file.kind));
        }
        let command = file
            .command
            .filter(|c| !c.trim().is_empty())
            .ok_or_else(|| ManifestError::Invalid("a process plugin needs `command` (the program to start)".into()))?;
        let defaults = Resources::default();
        let invalid = |key: &str, e: String| ManifestError::Invalid(format!("resources.{key}: {e}"));
        let resources = Resources {
            memory: match file.resources.memory {
                Some(text) => pocket_core::parse_size(&text).map_err(|e| invalid("memory", e))?,
                None => defaults.memory,
            },
            call_timeout: match file.resources.call_timeout {
                Some(text) => pocket_core::parse_duration(&text).map_err(|e| invalid("call_timeout", e))?,
                None => defaults.call_timeout,
            },
            start_timeout: match file.resources.start_timeout {
                Some(text) => pocket_core::parse_duration(&text).map_err(|e| invalid("start_timeout", e))?,
                None => defaults.start_timeout,
            },
            max_in_flight: match file.resources.max_in_flight {
                Some(0) => return Err(invalid("max_in_flight", "must be at least 1".into())),
                Some(n) => n.min(1024),
                None => defaults.max_in_flight,
            },
        };
        Ok(ProcessManifest {
            name: file.name,
            version: file.version,
            description: file.description,
            command,
            args: file.args,
            permissions: file.permissions,
            resources,
        })
    }

    /// Whether the manifest at `path` describes a process plugin (read
    /// quietly: anything else is not one).
    pub fn is_process(path: &Path) -> bool {
        std::fs::read_to_string(path).is_ok_and(|text| ProcessManifest::parse(&text).is_ok())
    }

    /// The program to start, for a plugin in `dir`: a path relative to it,
    /// or a name found on the host's `PATH` (the operator's choice of
    /// `python3`, not the jail's minimal one), left as it is when not found.
    pub fn program(&self, dir: &Path) -> PathBuf {
        if self.command.contains('/') {
            return dir.join(&self.command);
        }
        std::env::var_os("PATH")
            .iter()
            .flat_map(std::env::split_paths)
            .map(|bin| bin.join(&self.command))
            .find(|candidate| is_executable(candidate))
            .unwrap_or_else(|| PathBuf::from(&self.command))
    }
}

/// Whether `path` is a file someone may execute.
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_names_its_program_and_resources() {
        let m = ProcessManifest::parse(
            "name = \"p\"\nversion = \"1.0.0\"\nkind = \"process\"\ncommand = \"python3\"\nargs = [\"main.py\"]\n\
             permissions = [\"log\"]\n[resources]\nmemory = \"256MiB\"\ncall_timeout = \"5s\"\nmax_in_flight = 4\n",
        )
        .unwrap();
        assert_eq!(
            (m.command.as_str(), m.args.as_slice()),
            ("python3", ["main.py".to_string()].as_slice())
        );
        assert_eq!(m.resources.memory, 256 << 20);
        assert_eq!(m.resources.call_timeout, Duration::from_secs(5));
        assert_eq!(m.resources.start_timeout, Duration::from_secs(10));
        assert_eq!(m.resources.max_in_flight, 4);
        let python = m.program(Path::new("/p"));
        assert!(python.is_absolute() && python.ends_with("python3"), "{python:?}");
        let local = ProcessManifest {
            command: "./run".into(),
            ..m
        };
        assert_eq!(local.program(Path::new("/p")), PathBuf::from("/p/./run"));
    }

    #[test]
    fn what_is_not_a_usable_process_manifest_says_why() {
        let base = "name = \"p\"\nversion = \"1\"\n";
        let err = |text: &str| ProcessManifest::parse(text).unwrap_err().to_string();
        assert!(err(&format!("{base}kind = \"wasm\"\n")).contains("not `process`"));
        assert!(err(&format!("{base}kind = \"process\"\n")).contains("needs `command`"));
        assert!(
            err(&format!(
                "{base}kind = \"process\"\ncommand = \"x\"\n[resources]\ncpu = 1\n"
            ))
            .contains("cpu")
        );
        assert!(
            err(&format!(
                "{base}kind = \"process\"\ncommand = \"x\"\n[resources]\nmemory = \"lots\"\n"
            ))
            .contains("resources.memory")
        );
        assert!(err("not toml [").contains(MANIFEST));
    }
}
