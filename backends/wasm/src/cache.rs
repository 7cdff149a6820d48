//! [`ModuleCache`]: compiled modules on disk, so a second start loads a
//! plugin without compiling it again.
//!
//! An entry is named by its [`CacheKey`]: the BLAKE3 hash of the module's
//! bytes together with the engine's fingerprint (this crate's and wasmer's
//! versions, the compiler, whether fuel is metered, the target triple and
//! CPU features). Its file holds a header (magic, the key, the payload's
//! length and BLAKE3 hash) and then wasmer's serialized module. An entry
//! whose header does not match in every field, or whose payload hash differs,
//! is ignored and rewritten; only a verified payload reaches
//! `Module::deserialize`.

use std::io::Write;
use std::path::{Path, PathBuf};

use wasmer::{Engine, Module};

/// The environment variable naming the cache directory.
pub const CACHE_DIR_ENV: &str = "POCKET_CACHE_DIR";

const MAGIC: &[u8; 16] = b"pocket-wasm-mod1";
const HEADER_LEN: usize = MAGIC.len() + 32 + 8 + 32;

/// What a compiled module is cached under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheKey([u8; 32]);

impl CacheKey {
    /// The key of `wasm` compiled by an engine with `fingerprint`.
    pub fn new(wasm: &[u8], fingerprint: &str) -> CacheKey {
        let mut hasher = blake3::Hasher::new();
        hasher.update(&(fingerprint.len() as u64).to_le_bytes());
        hasher.update(fingerprint.as_bytes());
        hasher.update(wasm);
        CacheKey(*hasher.finalize().as_bytes())
    }

    fn file_name(&self) -> String {
        format!("{}.module", blake3::Hash::from(self.0).to_hex())
    }
}

/// A directory of compiled modules.
#[derive(Debug, Clone)]
pub struct ModuleCache {
    dir: PathBuf,
}

impl ModuleCache {
    /// `$POCKET_CACHE_DIR`, else `$XDG_CACHE_HOME/pocket/wasm`, else
    /// `~/.cache/pocket/wasm` (`~/Library/Caches/pocket/wasm` on macOS).
    pub fn default_dir() -> Option<PathBuf> {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        if let Some(dir) = var(CACHE_DIR_ENV) {
            return Some(dir);
        }
        let base = if cfg!(target_os = "macos") {
            var("HOME").map(|h| h.join("Library/Caches"))
        } else {
            var("XDG_CACHE_HOME").or_else(|| var("HOME").map(|h| h.join(".cache")))
        }?;
        Some(base.join("pocket").join("wasm"))
    }

    /// The cache in `dir`, created if missing; `None` (with a warning) if it cannot be.
    pub fn open(dir: PathBuf) -> Option<ModuleCache> {
        match std::fs::create_dir_all(&dir) {
            Ok(()) => Some(ModuleCache { dir }),
            Err(e) => {
                tracing::warn!(dir = %dir.display(), error = %e, "cannot create the WASM module cache; compiling without it");
                None
            }
        }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file an entry lives in.
    pub fn path(&self, key: &CacheKey) -> PathBuf {
        self.dir.join(key.file_name())
    }

    /// The module cached under `key`, if there is a valid entry.
    pub(crate) fn load(&self, engine: &Engine, key: &CacheKey) -> Option<Module> {
        let path = self.path(key);
        let bytes = std::fs::read(&path).ok()?;
        let Some(payload) = verified_payload(&bytes, key) else {
            tracing::warn!(file = %path.display(), "ignoring a corrupt or mismatched WASM cache entry");
            return None;
        };
        // SAFETY: `Module::deserialize` trusts its input to be an artifact
        // that wasmer itself serialized for this engine configuration. The
        // payload is accepted only when the header carries this exact key
        // (module hash, wasmer/crate versions, compiler, metering, target and
        // CPU features) and the payload's length and BLAKE3 hash match the
        // header, so it is byte for byte what `store` wrote from a module
        // compiled by an identical engine; wasmer additionally checks its own
        // format version. The cache directory must be writable only by the
        // user running Pocket (the same trust as the plugin directories): a
        // party who can write it could forge both header and payload.
        match unsafe { Module::deserialize(engine, payload.to_vec()) } {
            Ok(module) => Some(module),
            Err(e) => {
                tracing::warn!(file = %path.display(), error = %e, "ignoring an unreadable WASM cache entry");
                None
            }
        }
    }

    /// Writes `module` under `key` (atomically: a temporary file, then a
    /// rename). Failures are logged; the cache is an optimisation.
    pub(crate) fn store(&self, key: &CacheKey, module: &Module) {
        let payload = match module.serialize() {
            Ok(bytes) => bytes,
            Err(e) => {
                tracing::warn!(error = %e, "cannot serialize a compiled WASM module; not cached");
                return;
            }
        };
        let path = self.path(key);
        let write = || -> std::io::Result<()> {
            let mut file = tempfile::NamedTempFile::new_in(&self.dir)?;
            file.write_all(MAGIC)?;
            file.write_all(&key.0)?;
            file.write_all(&(payload.len() as u64).to_le_bytes())?;
            file.write_all(blake3::hash(&payload).as_bytes())?;
            file.write_all(&payload)?;
            file.persist(&path).map_err(|e| e.error)?;
            Ok(())
        };
        match write() {
            Ok(()) => tracing::debug!(file = %path.display(), "cached compiled WASM module"),
            Err(e) => tracing::warn!(file = %path.display(), error = %e, "cannot write the WASM module cache"),
        }
    }
}

/// The payload of a cache file, if its header matches `key` and its hash.
fn verified_payload<'a>(bytes: &'a [u8], key: &CacheKey) -> Option<&'a [u8]> {
    let (header, payload) = bytes.split_at_checked(HEADER_LEN)?;
    let (magic, rest) = header.split_at(MAGIC.len());
    let (stored_key, rest) = rest.split_at(32);
    let (length, hash) = rest.split_at(8);
    let length = u64::from_le_bytes(length.try_into().ok()?);
    let valid = magic == MAGIC
        && stored_key == key.0
        && length == payload.len() as u64
        && hash == blake3::hash(payload).as_bytes();
    valid.then_some(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(key: &CacheKey, payload: &[u8]) -> Vec<u8> {
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&key.0);
        bytes.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        bytes.extend_from_slice(blake3::hash(payload).as_bytes());
        bytes.extend_from_slice(payload);
        bytes
    }

    #[test]
    fn keys_change_with_module_and_engine() {
        let a = CacheKey::new(b"module", "engine 1");
        assert_ne!(a, CacheKey::new(b"module!", "engine 1"));
        assert_ne!(a, CacheKey::new(b"module", "engine 2"));
        assert_eq!(a, CacheKey::new(b"module", "engine 1"));
    }

    #[test]
    fn only_a_matching_untouched_entry_is_trusted() {
        let key = CacheKey::new(b"m", "e");
        let good = entry(&key, b"payload");
        assert_eq!(verified_payload(&good, &key), Some(&b"payload"[..]));
        assert_eq!(verified_payload(&good, &CacheKey::new(b"other", "e")), None);
        let mut flipped = good.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert_eq!(verified_payload(&flipped, &key), None);
        assert_eq!(verified_payload(&good[..good.len() - 1], &key), None);
        assert_eq!(verified_payload(&good[..10], &key), None);
        assert_eq!(verified_payload(b"", &key), None);
    }
}
