//! `pocket plugin keygen | sign | verify`: plugin signatures (see the
//! pocket-trust crate for the formats).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use pocket_trust::{SecretKey, TrustError, sign_file};

use pocket_core::{PluginBytes, PocketConfig};

/// `pocket plugin keygen [--out PATH]`: writes `PATH.key` (the secret key,
/// readable by its owner only) and `PATH.pub`, and prints the pocket.toml
/// line that trusts it.
pub fn keygen(out: &Path) -> anyhow::Result<ExitCode> {
    let secret_path = with_extension(out, "key");
    let public_path = with_extension(out, "pub");
    for path in [&secret_path, &public_path] {
        if path.exists() {
            bail!("{} already exists; choose another --out", path.display());
        }
    }
    let key = SecretKey::generate()?;
    write_private(&secret_path, &key.to_file_text())?;
    std::fs::write(&public_path, format!("{}\n", key.public()))
        .with_context(|| format!("cannot write {}", public_path.display()))?;
    let name = out
        .file_name()
        .map_or("my-key".into(), |n| n.to_string_lossy().into_owned());
    println!("secret key: {} (keep it secret)", secret_path.display());
    println!("public key: {}", public_path.display());
    println!(
        "\nto trust it, add to pocket.toml:\n[plugins.trusted_keys]\n{name} = \"{}\"",
        key.public()
    );
    Ok(ExitCode::SUCCESS)
}

/// `PATH.ext`, appended (a key named `team.v2` keeps its dot).
fn with_extension(path: &Path, extension: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(extension);
    PathBuf::from(name)
}

/// Creates `path` with `text`, readable and writable by its owner only.
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::File::options()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// `pocket plugin sign FILE --key KEY`: writes `FILE.sig`.
pub fn sign(file: &Path, key: &Path) -> anyhow::Result<ExitCode> {
    if !file.is_file() {
        bail!("{}: no such file", file.display());
    }
    let key = SecretKey::read(key)?;
    let signature = sign_file(file, &key)?;
    println!(
        "signed {} with {}: {}",
        file.display(),
        key.public(),
        signature.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `pocket plugin verify FILE`: whether its signature is valid and by which
/// trusted key; exit 1 when not. The signature is found as every load finds
/// it (for an installed plugin's link, beside the version it points to).
pub fn verify(config: &PocketConfig, file: &Path) -> anyhow::Result<ExitCode> {
    if !file.is_file() {
        bail!("{}: no such file", file.display());
    }
    let read = PluginBytes::read(file)?;
    match read.verify(&config.plugins.trusted_keys) {
        Ok(key) => {
            println!("valid: {} is signed by trusted key `{key}`", file.display());
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            println!("invalid: {}: {error}", file.display());
            if matches!(error, TrustError::UntrustedKey(_)) && config.plugins.trusted_keys.is_empty() {
                println!("  pocket.toml trusts no key yet: `pocket plugin keygen` prints the line that trusts one");
            }
            Ok(ExitCode::FAILURE)
        }
    }
}
