//! The signature rule every plugin file passes before any of its code runs
//! (pocket.toml's `require_signatures` and `[plugins.trusted_keys]`).

use std::path::{Path, PathBuf};

use pocket_trust::{TrustError, signature_path, verify_file};

use crate::config::PluginsConfig;
use crate::loader::LoadError;

/// Checks `path`'s signature (`FILE.sig`; for an installed plugin, the one
/// beside the version its link points to). A bad signature (a changed file,
/// a forged or malformed signature, an untrusted key) is always refused; an
/// unsigned file is refused when signatures are required, and loads with a
/// warning otherwise. The name of the key that signed it, if one did.
pub fn check_signature(path: &Path, plugins: &PluginsConfig) -> Result<Option<String>, LoadError> {
    let signed = signed_file(path);
    match verify_file(&signed, &plugins.trusted_keys) {
        Ok(key) => {
            tracing::debug!(file = %path.display(), key, "signature verified");
            Ok(Some(key.to_string()))
        }
        Err(TrustError::Unsigned(_)) if !plugins.require_signatures => {
            tracing::warn!(
                file = %path.display(),
                "plugin is not signed; it loads because pocket.toml's require_signatures is false"
            );
            Ok(None)
        }
        Err(e) => Err(LoadError::new(path, SignatureRefused(e))),
    }
}

/// The file whose signature counts for `path`: `path` itself, or, for a
/// symbolic link without a signature of its own (an installed plugin's
/// active version), the file it points to.
fn signed_file(path: &Path) -> PathBuf {
    if !signature_path(path).exists()
        && path.is_symlink()
        && let Ok(target) = path.canonicalize()
    {
        return target;
    }
    path.to_path_buf()
}

/// Why a signature check refused a plugin file (the cause of its
/// [`LoadError`]).
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct SignatureRefused(pub TrustError);
