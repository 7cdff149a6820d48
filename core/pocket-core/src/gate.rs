//! The load gate: the one way a plugin file becomes a plugin.
//!
//! Every path that loads a plugin file (start-up, lazy loading, hot reload,
//! the server's API, `pocket plugin load | install | check`, a cluster
//! worker's fetched plugins) goes through here, in this order, before any of
//! the plugin's code runs:
//!
//! 1. the name it will be registered under is a plain name and not one of
//!    Pocket's own plugins' ([`check_registered_name`]);
//! 2. the file and the signature that counts for it are resolved
//!    ([`PluginFile`]: for an installed plugin, the version its link
//!    points to);
//! 3. both are read once ([`PluginBytes`]) and the signature rule is
//!    applied to those bytes ([`admit`]: pocket.toml's
//!    `require_signatures` and trusted keys);
//! 4. the backend opens those same bytes ([`PluginSource`]; a native
//!    library from a private copy of them), never the file again.
//!
//! A [`PluginSource`] can only be had from an [`Admitted`] file, so no
//! backend opens anything that skipped the signature rule.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use pocket_trust::{TrustError, TrustedKeys, read_signature, signature_path, verify_digest};

use crate::config::PluginsConfig;
use crate::error::LoadError;

/// A plugin file, and the signature file that counts for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginFile {
    /// The path as given: a file in a plugin directory, or the link that
    /// makes an installed version active.
    pub path: PathBuf,
    /// Where its signature is: `PATH.sig`, or, for a symbolic link without
    /// a signature of its own (an installed plugin's active version), the
    /// `.sig` beside the file the link points to (`NAME/VERSION/NAME.EXT.sig`).
    pub signature: PathBuf,
}

impl PluginFile {
    /// Resolves `path`'s signature file (see [`PluginFile::signature`]).
    pub fn resolve(path: &Path) -> PluginFile {
        let own = signature_path(path);
        let signature = match path.canonicalize() {
            Ok(target) if path.is_symlink() && !own.exists() => signature_path(&target),
            _ => own,
        };
        PluginFile {
            path: path.to_path_buf(),
            signature,
        }
    }
}

/// A plugin file's bytes and its signature's, each read once.
#[derive(Debug)]
pub struct PluginBytes {
    file: PluginFile,
    bytes: Arc<[u8]>,
    sha256: [u8; 32],
    signature: Option<Vec<u8>>,
}

impl PluginBytes {
    /// Reads the plugin file `path` (through a link, the file it points to)
    /// and its signature ([`PluginFile::resolve`]).
    pub fn read(path: &Path) -> Result<PluginBytes, LoadError> {
        let file = PluginFile::resolve(path);
        let bytes = read_regular_file(path).map_err(|e| LoadError::new(path, format!("cannot read: {e}")))?;
        let signature = read_signature(&file.signature).map_err(|e| LoadError::new(path, e))?;
        Ok(PluginBytes {
            sha256: pocket_trust::digest_bytes(&bytes),
            bytes: bytes.into(),
            file,
            signature,
        })
    }

    /// The file and its signature's path.
    pub fn file(&self) -> &PluginFile {
        &self.file
    }

    /// The file's content.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The content's SHA-256.
    pub fn sha256(&self) -> &[u8; 32] {
        &self.sha256
    }

    /// The signature file's content, if there is one.
    pub fn signature(&self) -> Option<&[u8]> {
        self.signature.as_deref()
    }

    /// Whether these bytes are signed by a key in `trusted`: its name, or why not.
    pub fn verify<'k>(&self, trusted: &'k TrustedKeys) -> Result<&'k str, TrustError> {
        verify_digest(&self.sha256, self.signature(), &self.file.signature, trusted)
    }
}

/// Reads `path` (following links) only if it is a regular file: a FIFO or a
/// device in a plugin directory must not block or stream forever.
fn read_regular_file(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::os::unix::fs::OpenOptionsExt;
    // Non-blocking, so opening a FIFO does not wait for a writer; what was
    // opened is then checked (as the workflow file gate does).
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)?;
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0));
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// A plugin file that passed the signature rule: the bytes every later step
/// (opening it, copying it into place) uses.
#[derive(Debug)]
pub struct Admitted {
    bytes: PluginBytes,
    signer: Option<String>,
}

/// Reads `path` once and applies the signature rule to what was read: a bad
/// signature (a changed file, a forged or malformed signature, an untrusted
/// key) is always refused; an unsigned file is refused when
/// `require_signatures` is set, and admitted with a warning otherwise.
pub fn admit(path: &Path, plugins: &PluginsConfig) -> Result<Admitted, LoadError> {
    let bytes = PluginBytes::read(path)?;
    let signer = match bytes.verify(&plugins.trusted_keys) {
        Ok(key) => {
            tracing::debug!(file = %path.display(), key, "signature verified");
            Some(key.to_string())
        }
        Err(TrustError::Unsigned(_)) if !plugins.require_signatures => {
            tracing::warn!(
                file = %path.display(),
                "plugin is not signed; it loads because pocket.toml's require_signatures is false"
            );
            None
        }
        Err(e) => return Err(LoadError::new(path, SignatureRefused(e))),
    };
    Ok(Admitted { bytes, signer })
}

impl Admitted {
    /// `bytes` admitted without the signature rule: only for `pocket plugin
    /// package`, which checks its author's own build before signing it (a
    /// package is checked again, under the rule, where it is installed).
    pub fn unverified(bytes: PluginBytes) -> Admitted {
        Admitted { bytes, signer: None }
    }

    /// What was read.
    pub fn bytes(&self) -> &PluginBytes {
        &self.bytes
    }

    /// The name of the trusted key that signed it, if one did.
    pub fn signer(&self) -> Option<&str> {
        self.signer.as_deref()
    }

    /// The plugin's source, to be opened for the plugin registered as `name`.
    pub fn source<'a>(&'a self, name: &'a str) -> PluginSource<'a> {
        PluginSource { admitted: self, name }
    }
}

/// What a backend opens ([`PluginLoader::open`](crate::PluginLoader::open)): the admitted bytes of a
/// plugin file, and the name the plugin will be registered under.
#[derive(Debug, Clone, Copy)]
pub struct PluginSource<'a> {
    admitted: &'a Admitted,
    name: &'a str,
}

impl PluginSource<'_> {
    /// The file the bytes were read from, as given: what a description's
    /// `source` and errors name.
    pub fn path(&self) -> &Path {
        &self.admitted.bytes.file.path
    }

    /// The content to open.
    pub fn bytes(&self) -> &[u8] {
        self.admitted.bytes.bytes()
    }

    /// The content's SHA-256.
    pub fn sha256(&self) -> &[u8; 32] {
        self.admitted.bytes.sha256()
    }

    /// The name of the trusted key that signed the content, if one did.
    pub fn signer(&self) -> Option<&str> {
        self.admitted.signer()
    }

    /// The name the plugin will be registered under.
    pub fn name(&self) -> &str {
        self.name
    }
}

/// Why the signature rule refused a plugin file (the cause of its
/// [`LoadError`]).
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct SignatureRefused(pub TrustError);

#[cfg(test)]
mod tests {
    use super::*;

    fn trusting(key: &pocket_trust::SecretKey, require: bool) -> PluginsConfig {
        let text = key.public().to_string();
        let mut plugins = PluginsConfig::default();
        plugins.require_signatures = require;
        plugins.trusted_keys = TrustedKeys::parse([("alice", text.as_str())]).unwrap();
        plugins
    }

    #[test]
    fn a_fifo_in_a_plugin_directory_is_refused_without_waiting_for_a_writer() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("stuck.lua");
        let c_path = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: `c_path` is a valid NUL-terminated path that outlives the call.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
        let refused = admit(&fifo, &PluginsConfig::default()).unwrap_err();
        assert!(refused.to_string().contains("not a regular file"), "{refused}");
        std::fs::write(dir.path().join("ok.lua"), "return {}").unwrap();
        assert!(admit(&dir.path().join("ok.lua"), &PluginsConfig::default()).is_ok());
    }

    #[test]
    fn an_installed_versions_signature_is_the_one_beside_the_file_its_link_points_to() {
        let dir = tempfile::tempdir().unwrap();
        let key = pocket_trust::SecretKey::generate().unwrap();
        std::fs::create_dir_all(dir.path().join("p/1.0.0")).unwrap();
        let real = dir.path().join("p/1.0.0/p.lua");
        std::fs::write(&real, "return {}").unwrap();
        let link = dir.path().join("p.lua");
        std::os::unix::fs::symlink("p/1.0.0/p.lua", &link).unwrap();
        assert_eq!(PluginFile::resolve(&link).signature, signature_path(&real));
        assert_eq!(PluginFile::resolve(&real).signature, signature_path(&real));

        let strict = trusting(&key, true);
        let refused = admit(&link, &strict).unwrap_err();
        assert!(refused.to_string().contains("not signed"), "{refused}");
        pocket_trust::sign_file(&real, &key).unwrap();
        let admitted = admit(&link, &strict).unwrap();
        assert_eq!(admitted.signer(), Some("alice"));
        assert_eq!(admitted.bytes().bytes(), b"return {}");
        assert_eq!(admitted.source("p").path(), link);
    }

    #[test]
    fn the_rule_applies_to_the_bytes_read() {
        let dir = tempfile::tempdir().unwrap();
        let key = pocket_trust::SecretKey::generate().unwrap();
        let file = dir.path().join("p.lua");
        std::fs::write(&file, "return 1").unwrap();
        assert!(admit(&file, &trusting(&key, false)).unwrap().signer().is_none());
        assert!(admit(&file, &trusting(&key, true)).is_err());
        pocket_trust::sign_file(&file, &key).unwrap();
        let admitted = admit(&file, &trusting(&key, true)).unwrap();
        // Changing the file afterwards changes nothing about what was admitted.
        std::fs::write(&file, "return 2").unwrap();
        assert_eq!(admitted.bytes().bytes(), b"return 1");
        assert!(admitted.bytes().verify(&trusting(&key, true).trusted_keys).is_ok());
        let changed = admit(&file, &trusting(&key, false)).unwrap_err();
        assert!(changed.to_string().contains("changed after it was signed"), "{changed}");
    }

    #[test]
    fn only_regular_files_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let err = PluginBytes::read(dir.path()).unwrap_err();
        assert!(err.to_string().contains("cannot read"), "{err}");
    }
}
