//! What a scheduler says about each plugin a workflow needs ([`Artifact`]):
//! its kind, its file's digest and its signature's, computed once per file
//! version ([`Digests`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::SystemTime;

use pocket_core::PluginKind;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::ClusterError;

/// One plugin a workflow needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Artifact {
    /// Its kind (`builtin`, `lua`, `wasm`, `native`): which workers take its nodes.
    pub kind: String,
    /// Its file's name, for the copy a worker loads; none for built-in plugins.
    pub file: Option<String>,
    /// The SHA-256 of the file, hex; the object's name in the plugin store.
    pub sha256: Option<String>,
    /// The SHA-256 (hex) of the signature file that travels with it, if
    /// one does; the signature's object is [`signature_object`] of it, so a
    /// file signed after it was first published (or signed again) brings
    /// its signature along, whatever the store holds already.
    pub signature: Option<String>,
}

/// The name of the plugin store's object holding the signature file whose
/// SHA-256 is `digest` (hex).
pub(crate) fn signature_object(digest: &str) -> String {
    format!("sig-{digest}")
}

/// Plugin files' digests, computed again only when a file's size or
/// modification time changes (a scheduler describes its plugins for every run).
#[derive(Default)]
pub(crate) struct Digests {
    known: Mutex<HashMap<PathBuf, (SystemTime, u64, String)>>,
}

impl Digests {
    pub(crate) fn artifact(&self, plugin: &str, kind: PluginKind, path: &Path) -> Result<Artifact, ClusterError> {
        let unreadable = |e: std::io::Error| ClusterError::Artifact {
            plugin: plugin.to_string(),
            message: format!("cannot read {}: {e}", path.display()),
        };
        let meta = std::fs::metadata(path).map_err(unreadable)?;
        let stamp = (meta.modified().map_err(unreadable)?, meta.len());
        let cached = {
            let known = self.known.lock().unwrap_or_else(PoisonError::into_inner);
            known
                .get(path)
                .filter(|(modified, len, _)| (*modified, *len) == stamp)
                .map(|(_, _, digest)| digest.clone())
        };
        let sha256 = match cached {
            Some(digest) => digest,
            None => {
                let digest = file_digest(path).map_err(unreadable)?;
                let mut known = self.known.lock().unwrap_or_else(PoisonError::into_inner);
                known.insert(path.to_path_buf(), (stamp.0, stamp.1, digest.clone()));
                digest
            }
        };
        let signature = read_signature(plugin, path)?.map(|bytes| hex::encode(Sha256::digest(bytes)));
        Ok(Artifact {
            kind: kind.to_string(),
            file: path.file_name().map(|n| n.to_string_lossy().into_owned()),
            sha256: Some(sha256),
            signature,
        })
    }
}

/// The signature file that counts for the plugin file `path`, as every
/// load finds it (for an installed plugin, beside the version its link
/// points to), if there is one.
pub(crate) fn read_signature(plugin: &str, path: &Path) -> Result<Option<Vec<u8>>, ClusterError> {
    let file = pocket_core::PluginFile::resolve(path);
    pocket_trust::read_signature(&file.signature).map_err(|e| ClusterError::Artifact {
        plugin: plugin.to_string(),
        message: e.to_string(),
    })
}

/// The hex SHA-256 of a file's contents.
pub fn file_digest(path: &Path) -> std::io::Result<String> {
    Ok(hex::encode(Sha256::digest(std::fs::read(path)?)))
}
