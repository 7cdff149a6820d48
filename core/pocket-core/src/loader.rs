//! Plugin loaders: how files in plugin directories become [`Plugin`]s.
//!
//! Each backend (Lua, WASM, native) provides one [`PluginLoader`]; the host
//! asks each loader whether it handles a file, and loads it with the one that
//! does. A file that fails to load is reported and skipped; the others load.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::PocketConfig;
use crate::plugin::{Plugin, PluginKind};

/// A plugin file could not be loaded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}: {reason}", .path.display())]
pub struct LoadError {
    /// The file.
    pub path: PathBuf,
    /// Why, in words a plugin author can act on.
    pub reason: String,
}

impl LoadError {
    /// An error about `path`.
    pub fn new(path: &Path, reason: impl Into<String>) -> Self {
        LoadError {
            path: path.to_path_buf(),
            reason: reason.into(),
        }
    }
}

/// Loads plugins of one kind.
pub trait PluginLoader: Send + Sync {
    /// The kind of plugin this loader produces.
    fn kind(&self) -> PluginKind;

    /// Whether `path` is a file this loader handles (usually by extension).
    fn handles(&self, path: &Path) -> bool;

    /// Loads the plugin in `path`, with its permissions, limits and config
    /// taken from `config` by the plugin's name.
    fn load(&self, path: &Path, config: &PocketConfig) -> Result<Arc<dyn Plugin>, LoadError>;
}

/// The files in `directories` (not recursive), sorted for a stable load order.
/// Missing directories are skipped.
pub fn plugin_files(directories: &[PathBuf]) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in directories {
        let Ok(entries) = std::fs::read_dir(dir) else {
            tracing::debug!(dir = %dir.display(), "plugin directory not found; skipped");
            continue;
        };
        let mut found: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .collect();
        found.sort();
        files.extend(found);
    }
    files
}
