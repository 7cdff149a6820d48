//! Plugin signatures: ed25519 over the SHA-256 of a plugin file.
//!
//! A signature lives beside the file it signs, as `FILE.sig` (for
//! `json-tools.wasm`, `json-tools.wasm.sig`), in a small text format:
//!
//! ```text
//! pocket-signature v1
//! key ed25519:<public key, 64 hex digits>
//! sha256 <the file's SHA-256, 64 hex digits>
//! signature <ed25519 signature, 128 hex digits>
//! ```
//!
//! The signed message is `pocket plugin signature v1\n` followed by the 32
//! bytes of the file's SHA-256, so a signature can never be mistaken for one
//! over anything else. Verification recomputes the file's digest, checks the
//! signature with the strict ed25519 rules, and names the trusted key that
//! made it; a key that is not trusted is refused even when its signature is
//! good. Key files: a secret key is `pocket-secret-key ed25519:<64 hex
//! digits of the seed>`, a public key `ed25519:<64 hex digits>`.

#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

/// What every signed message starts with.
const DOMAIN: &[u8] = b"pocket plugin signature v1\n";
/// The first line of a signature file.
const SIGNATURE_HEADER: &str = "pocket-signature v1";
/// What a secret key file starts with.
const SECRET_PREFIX: &str = "pocket-secret-key ";
/// What a key's text starts with.
const KEY_PREFIX: &str = "ed25519:";

/// Something about a key or signature could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TrustError {
    /// The file has no signature beside it.
    #[error("it is not signed (no {} beside it)", .0.display())]
    Unsigned(PathBuf),
    /// The signature file is not in the format above.
    #[error("its signature file {} is malformed: {reason}", .path.display())]
    Malformed {
        /// The signature file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The file changed after it was signed.
    #[error("it changed after it was signed (its SHA-256 is {found}, the signature covers {signed})")]
    Changed {
        /// The digest the signature covers.
        signed: String,
        /// The file's digest now.
        found: String,
    },
    /// The signature does not verify with the key it names.
    #[error("its signature does not verify with the key it names ({0})")]
    BadSignature(String),
    /// The signature verifies, with a key that is not trusted.
    #[error("it is signed by {0}, which is not a trusted key (add it to [plugins.trusted_keys] in pocket.toml)")]
    UntrustedKey(String),
    /// A key's text is not `ed25519:<64 hex digits>`.
    #[error("`{text}` is not a public key: {reason} (expected `ed25519:` and 64 hex digits)")]
    InvalidKey {
        /// The text.
        text: String,
        /// What is wrong.
        reason: String,
    },
    /// A file could not be read or written.
    #[error("{}: {message}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        message: String,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> TrustError + '_ {
    move |e| TrustError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// A public key, which verifies signatures.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    /// Reads `ed25519:<64 hex digits>`.
    pub fn parse(text: &str) -> Result<PublicKey, TrustError> {
        let invalid = |reason: &str| TrustError::InvalidKey {
            text: text.chars().take(80).collect(),
            reason: reason.to_string(),
        };
        let hex_text = text
            .trim()
            .strip_prefix(KEY_PREFIX)
            .ok_or_else(|| invalid("no `ed25519:` prefix"))?;
        let bytes: [u8; 32] = hex::decode(hex_text)
            .map_err(|e| invalid(&e.to_string()))?
            .try_into()
            .map_err(|_| invalid("not 32 bytes"))?;
        VerifyingKey::from_bytes(&bytes)
            .map(PublicKey)
            .map_err(|_| invalid("not a point on the curve"))
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{KEY_PREFIX}{}", hex::encode(self.0.as_bytes()))
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A secret key, which signs. Never printed.
pub struct SecretKey(SigningKey);

impl SecretKey {
    /// A new random key (from the operating system's generator).
    pub fn generate() -> Result<SecretKey, TrustError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| TrustError::Io {
            path: PathBuf::from("(random source)"),
            message: e.to_string(),
        })?;
        Ok(SecretKey(SigningKey::from_bytes(&seed)))
    }

    /// Its public key.
    pub fn public(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    /// The key file's text.
    pub fn to_file_text(&self) -> String {
        format!("{SECRET_PREFIX}{KEY_PREFIX}{}\n", hex::encode(self.0.to_bytes()))
    }

    /// Reads a key file.
    pub fn read(path: &Path) -> Result<SecretKey, TrustError> {
        let text = std::fs::read_to_string(path).map_err(io(path))?;
        let invalid = |reason: &str| TrustError::Malformed {
            path: path.to_path_buf(),
            reason: reason.to_string(),
        };
        let hex_text = text
            .trim()
            .strip_prefix(SECRET_PREFIX)
            .and_then(|rest| rest.strip_prefix(KEY_PREFIX))
            .ok_or_else(|| invalid("not a secret key file (`pocket plugin keygen` writes one)"))?;
        let seed: [u8; 32] = hex::decode(hex_text)
            .map_err(|e| invalid(&e.to_string()))?
            .try_into()
            .map_err(|_| invalid("the key is not 32 bytes"))?;
        Ok(SecretKey(SigningKey::from_bytes(&seed)))
    }
}

/// The keys pocket.toml trusts, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedKeys(BTreeMap<String, PublicKey>);

impl TrustedKeys {
    /// Reads `name = "ed25519:..."` pairs.
    pub fn parse<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<TrustedKeys, (String, TrustError)> {
        pairs
            .into_iter()
            .map(|(name, text)| {
                PublicKey::parse(text)
                    .map(|key| (name.to_string(), key))
                    .map_err(|e| (name.to_string(), e))
            })
            .collect::<Result<_, _>>()
            .map(TrustedKeys)
    }

    /// The name of `key`, if trusted.
    pub fn name_of(&self, key: &PublicKey) -> Option<&str> {
        self.0.iter().find(|(_, k)| *k == key).map(|(name, _)| name.as_str())
    }

    /// Whether no key is trusted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Where the signature of `file` lives: `FILE.sig`.
pub fn signature_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".sig");
    PathBuf::from(name)
}

/// The SHA-256 of the file at `path`, read in chunks.
pub fn digest(path: &Path) -> Result<[u8; 32], TrustError> {
    let mut file = std::fs::File::open(path).map_err(io(path))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let read = file.read(&mut buffer).map_err(io(path))?;
        if read == 0 {
            return Ok(hasher.finalize().into());
        }
        hasher.update(&buffer[..read]);
    }
}

/// The SHA-256 of `bytes`.
pub fn digest_bytes(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// The SHA-256 of the file at `path` as 64 lower-case hex digits, as
/// signatures and package manifests write it.
pub fn digest_hex(path: &Path) -> Result<String, TrustError> {
    Ok(hex::encode(digest(path)?))
}

fn message(digest: &[u8; 32]) -> Vec<u8> {
    [DOMAIN, digest.as_slice()].concat()
}

/// Signs `file` with `key`, writing `FILE.sig`; its path.
pub fn sign_file(file: &Path, key: &SecretKey) -> Result<PathBuf, TrustError> {
    let digest = digest(file)?;
    let signature = key.0.sign(&message(&digest));
    let text = format!(
        "{SIGNATURE_HEADER}\nkey {}\nsha256 {}\nsignature {}\n",
        key.public(),
        hex::encode(digest),
        hex::encode(signature.to_bytes())
    );
    let path = signature_path(file);
    std::fs::write(&path, text).map_err(io(&path))?;
    Ok(path)
}

/// The most a signature file may hold.
pub const MAX_SIGNATURE_BYTES: u64 = 4096;

/// A signature file, read.
struct SignatureFile {
    key: PublicKey,
    digest: [u8; 32],
    signature: ed25519_dalek::Signature,
}

impl SignatureFile {
    /// Parses the signature file `path` holds as `bytes`.
    fn parse(path: &Path, bytes: &[u8]) -> Result<SignatureFile, TrustError> {
        let malformed = |reason: String| TrustError::Malformed {
            path: path.to_path_buf(),
            reason,
        };
        if bytes.len() as u64 > MAX_SIGNATURE_BYTES {
            return Err(malformed("it is larger than 4 KiB".into()));
        }
        let text = std::str::from_utf8(bytes).map_err(|_| malformed("it is not UTF-8 text".into()))?;
        let mut lines = text.lines();
        if lines.next() != Some(SIGNATURE_HEADER) {
            return Err(malformed(format!("its first line is not `{SIGNATURE_HEADER}`")));
        }
        let mut field = |name: &str| -> Result<String, TrustError> {
            lines
                .next()
                .and_then(|l| l.strip_prefix(name))
                .and_then(|l| l.strip_prefix(' '))
                .map(str::to_string)
                .ok_or_else(|| malformed(format!("no `{name}` line where it belongs")))
        };
        let key = PublicKey::parse(&field("key")?).map_err(|e| malformed(e.to_string()))?;
        let hex_field = |text: String, what: &str| hex::decode(text).map_err(|e| malformed(format!("{what}: {e}")));
        let digest: [u8; 32] = hex_field(field("sha256")?, "sha256")?
            .try_into()
            .map_err(|_| malformed("sha256: not 32 bytes".into()))?;
        let signature: [u8; 64] = hex_field(field("signature")?, "signature")?
            .try_into()
            .map_err(|_| malformed("signature: not 64 bytes".into()))?;
        Ok(SignatureFile {
            key,
            digest,
            signature: ed25519_dalek::Signature::from_bytes(&signature),
        })
    }
}

/// Reads the signature file `path`: its bytes, `None` when there is none,
/// or an error for one larger than [`MAX_SIGNATURE_BYTES`] (only that much
/// more is read) or unreadable.
pub fn read_signature(path: &Path) -> Result<Option<Vec<u8>>, TrustError> {
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(path)(e)),
    };
    let mut bytes = Vec::new();
    file.take(MAX_SIGNATURE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io(path))?;
    Ok(Some(bytes))
}

/// Verifies that `signature` (the bytes of the signature file `path`, or
/// `None` when there is none) signs content whose SHA-256 is `digest`: the
/// name of the trusted key that signed it, or why not.
pub fn verify_digest<'k>(
    digest: &[u8; 32],
    signature: Option<&[u8]>,
    path: &Path,
    trusted: &'k TrustedKeys,
) -> Result<&'k str, TrustError> {
    let bytes = signature.ok_or_else(|| TrustError::Unsigned(path.to_path_buf()))?;
    let signed = SignatureFile::parse(path, bytes)?;
    if *digest != signed.digest {
        return Err(TrustError::Changed {
            signed: hex::encode(signed.digest),
            found: hex::encode(digest),
        });
    }
    signed
        .key
        .0
        .verify_strict(&message(digest), &signed.signature)
        .map_err(|_| TrustError::BadSignature(signed.key.to_string()))?;
    trusted
        .name_of(&signed.key)
        .ok_or_else(|| TrustError::UntrustedKey(signed.key.to_string()))
}

/// Verifies `file` against its `FILE.sig`: the name of the trusted key that
/// signed it, or why not. (A plugin file is verified by pocket-core's load
/// gate instead, which reads it once and verifies the bytes it loads.)
pub fn verify_file<'k>(file: &Path, trusted: &'k TrustedKeys) -> Result<&'k str, TrustError> {
    let path = signature_path(file);
    let signature = read_signature(&path)?;
    let Some(signature) = signature else {
        return Err(TrustError::Unsigned(path));
    };
    verify_digest(&digest(file)?, Some(&signature), &path, trusted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (tempfile::TempDir, PathBuf, SecretKey, TrustedKeys) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("plugin.lua");
        std::fs::write(&file, "return {}").unwrap();
        let key = SecretKey::generate().unwrap();
        let text = key.public().to_string();
        let trusted = TrustedKeys::parse([("alice", text.as_str())]).unwrap();
        (dir, file, key, trusted)
    }

    #[test]
    fn a_signed_file_verifies_by_the_trusted_key_that_signed_it() {
        let (_dir, file, key, trusted) = setup();
        assert_eq!(
            verify_file(&file, &trusted),
            Err(TrustError::Unsigned(signature_path(&file)))
        );
        sign_file(&file, &key).unwrap();
        assert_eq!(verify_file(&file, &trusted), Ok("alice"));
    }

    #[test]
    fn a_changed_file_a_forged_signature_and_an_unknown_key_are_refused() {
        let (_dir, file, key, trusted) = setup();
        sign_file(&file, &key).unwrap();
        std::fs::write(&file, "return { evil = true }").unwrap();
        assert!(matches!(verify_file(&file, &trusted), Err(TrustError::Changed { .. })));

        // The attacker re-hashes the file into the signature: the signature no longer verifies.
        let sig = signature_path(&file);
        let text = std::fs::read_to_string(&sig).unwrap();
        let new_digest = hex::encode(digest(&file).unwrap());
        let forged: Vec<String> = text
            .lines()
            .map(|l| {
                if l.starts_with("sha256 ") {
                    format!("sha256 {new_digest}")
                } else {
                    l.to_string()
                }
            })
            .collect();
        std::fs::write(&sig, forged.join("\n")).unwrap();
        assert!(matches!(verify_file(&file, &trusted), Err(TrustError::BadSignature(_))));

        // A good signature by a key nobody trusts.
        let stranger = SecretKey::generate().unwrap();
        sign_file(&file, &stranger).unwrap();
        assert!(matches!(verify_file(&file, &trusted), Err(TrustError::UntrustedKey(_))));
        assert!(matches!(
            verify_file(&file, &TrustedKeys::default()),
            Err(TrustError::UntrustedKey(_))
        ));
    }

    #[test]
    fn a_signature_is_read_whole_only_up_to_its_limit() {
        let (dir, file, key, trusted) = setup();
        let signature = signature_path(&file);
        assert_eq!(read_signature(&signature), Ok(None));
        sign_file(&file, &key).unwrap();
        let read = read_signature(&signature).unwrap().unwrap();
        let digest = digest_bytes(&std::fs::read(&file).unwrap());
        assert_eq!(verify_digest(&digest, Some(&read), &signature, &trusted), Ok("alice"));
        assert_eq!(
            verify_digest(&digest, None, &signature, &trusted),
            Err(TrustError::Unsigned(signature.clone()))
        );
        let huge = dir.path().join("huge.sig");
        std::fs::write(&huge, vec![b'x'; 1 << 20]).unwrap();
        let read = read_signature(&huge).unwrap().unwrap();
        assert_eq!(read.len() as u64, MAX_SIGNATURE_BYTES + 1);
        assert!(matches!(
            verify_digest(&digest, Some(&read), &huge, &trusted),
            Err(TrustError::Malformed { .. })
        ));
    }

    #[test]
    fn keys_and_signature_files_are_checked_when_read() {
        let (dir, file, key, trusted) = setup();
        let key_file = dir.path().join("k.key");
        std::fs::write(&key_file, key.to_file_text()).unwrap();
        assert_eq!(SecretKey::read(&key_file).unwrap().public(), key.public());
        assert_eq!(PublicKey::parse(&key.public().to_string()).unwrap(), key.public());
        for bad in ["", "ed25519:zz", "ed25519:00", "rsa:00"] {
            assert!(PublicKey::parse(bad).is_err(), "{bad}");
        }
        std::fs::write(signature_path(&file), "garbage").unwrap();
        assert!(matches!(
            verify_file(&file, &trusted),
            Err(TrustError::Malformed { .. })
        ));
        std::fs::write(signature_path(&file), "x".repeat(10_000)).unwrap();
        assert!(matches!(
            verify_file(&file, &trusted),
            Err(TrustError::Malformed { .. })
        ));
    }
}
