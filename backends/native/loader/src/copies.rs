//! [`PrivateCopies`]: where native libraries are opened from. The platform
//! loader needs a file, so the bytes the load gate admitted are written to a
//! private directory (created on first use, readable by this user only) and
//! opened there: the library loaded is exactly what was verified, whatever
//! happens to the plugin file meanwhile. Copies are named by their content's
//! hash, so a new version of a file always gets a fresh mapping (the
//! platform loader returns the library it has open for a path it has opened
//! before), and the same content is written once.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use pocket_core::{LoadError, PluginSource};

/// A directory of private library copies, shared by clones of a loader.
#[derive(Debug, Default)]
pub(crate) struct PrivateCopies {
    dir: Mutex<Option<Arc<tempfile::TempDir>>>,
}

/// A library written into [`PrivateCopies`]; the directory lives while any
/// of these does (a plugin in its own processes starts new ones from it).
#[derive(Debug, Clone)]
pub(crate) struct Staged {
    /// The copy.
    pub path: PathBuf,
    _dir: Arc<tempfile::TempDir>,
}

impl PrivateCopies {
    /// Writes `source`'s bytes into the private directory as
    /// `SHA256/NAME.EXT` (the name it is registered under, so a plugin's own
    /// process knows it by that name); the copy.
    pub(crate) fn stage(&self, source: &PluginSource<'_>) -> Result<Staged, LoadError> {
        let path = source.path();
        let fail = |what: &str, e: std::io::Error| LoadError::new(path, format!("cannot {what} for loading: {e}"));
        let dir = self.dir().map_err(|e| fail("create a private directory", e))?;
        let version = dir.path().join(hex::encode(source.sha256()));
        let mut file_name = std::ffi::OsString::from(source.name());
        if let Some(extension) = path.extension() {
            file_name.push(".");
            file_name.push(extension);
        }
        let copy = version.join(file_name);
        if !copy.is_file() {
            write_whole(&version, &copy, source.bytes()).map_err(|e| fail("copy the library", e))?;
        }
        Ok(Staged { path: copy, _dir: dir })
    }

    fn dir(&self) -> std::io::Result<Arc<tempfile::TempDir>> {
        let mut dir = self.dir.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(dir) = &*dir {
            return Ok(dir.clone());
        }
        // tempfile creates it readable, writable and listable by its owner only.
        let created = Arc::new(tempfile::Builder::new().prefix("pocket-native-").tempdir()?);
        *dir = Some(created.clone());
        Ok(created)
    }
}

/// Writes `bytes` to `copy` in `dir` through a temporary file renamed into
/// place, so a concurrent load of the same content never opens half a file.
fn write_whole(dir: &Path, copy: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut partial = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut partial, bytes)?;
    partial.persist(copy).map_err(|e| e.error)?;
    Ok(())
}
