//! `pocket plugin package | install | remove`: plugin packages, and
//! installed versions side by side.
//!
//! An installed plugin lives in the plugin directory for its kind as
//! `NAME/VERSION/` (its manifest, its file `NAME.EXT`, its README); the
//! active version is the one the symbolic link `NAME.EXT` beside that
//! directory points to, which is what Pocket loads.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use pocket_core::{
    Admitted, Capability, OpenedPlugin, PluginBytes, PluginDescription, check_registered_name, file_plugin_name,
    validate_plugin_name,
};

use crate::commands::plugin_file::{installed_file_name, loaded_elsewhere, target_directory};
use crate::package::{MANIFEST, Manifest, archive, fetch};
use pocket_runtime::Deployment;

/// `pocket plugin package DIR [--out FILE] [--key KEY]`: checks the plugin
/// the manifest in DIR names, then writes `NAME-VERSION.tar.gz`, whose
/// manifest lists the SHA-256 of every other file; with a key, the plugin
/// file and that manifest are signed.
pub fn package(host: &Deployment, dir: &Path, out: Option<&Path>, key: Option<&Path>) -> anyhow::Result<ExitCode> {
    let manifest = Manifest::read(&dir.join(MANIFEST))?;
    let artifact = dir.join(&manifest.artifact);
    if !artifact.is_file() {
        bail!(
            "{} (the manifest's `artifact`) does not exist; build the plugin first",
            artifact.display()
        );
    }
    // The author's own build, checked before it is signed: installing the
    // package applies the signature rule.
    let own = Admitted::unverified(PluginBytes::read(&artifact)?);
    check_against(host, &manifest, &artifact, host.open_admitted(&own, &manifest.name)?)?;
    let key = key
        .map(|path| pocket_trust::SecretKey::read(path).with_context(|| format!("cannot sign with {}", path.display())))
        .transpose()?;
    if let Some(key) = &key {
        pocket_trust::sign_file(&artifact, key)?;
    }
    let staging = tempfile::tempdir()?;
    let (mut packed_manifest, files) = packed_files(&manifest, dir, &artifact)?;
    for (name, path) in &files {
        packed_manifest
            .sha256
            .insert(name.clone(), pocket_trust::digest_hex(path)?);
    }
    let manifest_file = staging.path().join(MANIFEST);
    std::fs::write(&manifest_file, packed_manifest.to_toml()?)?;
    let mut entries = vec![(MANIFEST.to_string(), manifest_file.clone())];
    if let Some(key) = &key {
        let signature = pocket_trust::sign_file(&manifest_file, key)?;
        entries.push((format!("{MANIFEST}.sig"), signature));
    }
    entries.extend(files);
    let out = out.map_or_else(
        || PathBuf::from(format!("{}-{}.tar.gz", manifest.name, manifest.version)),
        Path::to_path_buf,
    );
    archive::pack(&entries, &out)?;
    println!(
        "packaged {} plugin `{}` {} into {}",
        manifest.kind,
        manifest.name,
        manifest.version,
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// The manifest as a package holds it, and the files beside it: the plugin
/// file as `NAME.EXT` (with its signature `NAME.EXT.sig`, when it has one),
/// the README as `README.md`.
fn packed_files(
    manifest: &Manifest,
    dir: &Path,
    artifact: &Path,
) -> anyhow::Result<(Manifest, Vec<(String, PathBuf)>)> {
    let mut packed = manifest.clone();
    packed.artifact = installed_file_name(&manifest.name, artifact)
        .to_string_lossy()
        .into_owned();
    let mut files = vec![(packed.artifact.clone(), artifact.to_path_buf())];
    let signature = pocket_trust::signature_path(artifact);
    if signature.is_file() {
        files.push((format!("{}.sig", packed.artifact), signature));
    }
    if let Some(readme) = &manifest.readme {
        let path = dir.join(readme);
        if !path.is_file() {
            bail!("{} (the manifest's `readme`) does not exist", path.display());
        }
        packed.readme = Some("README.md".into());
        files.push(("README.md".into(), path));
    }
    Ok((packed, files))
}

/// Checks that `opened` (from `artifact`) is the plugin `manifest` says: its
/// kind, name, version and permissions, then binds it. What it says about itself.
fn check_against(
    host: &Deployment,
    manifest: &Manifest,
    artifact: &Path,
    opened: Box<dyn OpenedPlugin>,
) -> anyhow::Result<PluginDescription> {
    let found = opened.description().clone();
    let what = |field: &str, said: &str, is: &str| {
        anyhow::anyhow!(
            "the manifest says {field} `{said}`, but {} is {field} `{is}`",
            artifact.display()
        )
    };
    if found.kind.to_string() != manifest.kind {
        return Err(what("kind", &manifest.kind, &found.kind.to_string()));
    }
    if found.name != manifest.name {
        return Err(what("plugin", &manifest.name, &found.name));
    }
    if found.version != manifest.version {
        return Err(what("version", &manifest.version, &found.version));
    }
    let asked = Capability::parse_list(&manifest.permissions).map_err(anyhow::Error::msg)?;
    let same = |a: &[Capability], b: &[Capability]| a.iter().all(|c| b.contains(c));
    if !same(&asked, &found.permissions) || !same(&found.permissions, &asked) {
        let list = |caps: &[Capability]| caps.iter().map(Capability::to_string).collect::<Vec<_>>().join(", ");
        bail!(
            "the manifest asks for permissions [{}], but {} declares [{}]; make them the same",
            list(&asked),
            artifact.display(),
            list(&found.permissions)
        );
    }
    let policy = host.config().policy_for(&manifest.name, &found);
    opened.bind(policy)?;
    Ok(found)
}

/// `pocket plugin install SRC [--version V] [--dir D]`: SRC is a plugin
/// file, a package, or an `https://` URL of either. Everything is checked
/// in a staging directory first, through the load gate (its name, its
/// signature under pocket.toml's rule before any of its code runs); a
/// refused source leaves nothing behind, and what is installed is exactly
/// what was checked.
pub fn install(host: &Deployment, source: &str, version: Option<&str>, dir: Option<&Path>) -> anyhow::Result<ExitCode> {
    let staging = tempfile::tempdir()?;
    let local = if fetch::is_url(source) {
        let file = staging.path().join(url_file_name(source));
        fetch::download(source, &file)?;
        file
    } else {
        let file = PathBuf::from(source);
        if !file.is_file() {
            bail!("{source}: no such file");
        }
        file
    };
    let refused = || format!("{source}: refused");
    let unpacked = staging.path().join("package");
    std::fs::create_dir(&unpacked)?;
    let packaged = if archive::is_archive(&local)? {
        let names = archive::unpack(&local, &unpacked, archive::CAPS)?;
        if !names.iter().any(|n| n == MANIFEST) {
            bail!("{source}: refused: the package has no {MANIFEST} at its root");
        }
        let manifest = Manifest::read(&unpacked.join(MANIFEST))?;
        check_package(&unpacked, &names, &manifest, &host.config().plugins).with_context(refused)?;
        check_registered_name(&manifest.name).with_context(refused)?;
        Some(manifest)
    } else {
        None
    };
    let artifact = match &packaged {
        Some(manifest) => unpacked.join(&manifest.artifact),
        None => local.clone(),
    };
    let admitted = host.admit(&artifact).with_context(refused)?;
    let opened_as = packaged
        .as_ref()
        .map_or_else(|| file_plugin_name(&artifact), |m| m.name.clone());
    let opened = host.open_admitted(&admitted, &opened_as).with_context(refused)?;
    let manifest = match packaged {
        Some(manifest) => manifest,
        None => {
            let d = opened.description();
            check_registered_name(&d.name).with_context(refused)?;
            let file_name = local.file_name().context("a plugin file has a name")?;
            let mut manifest = Manifest::of(&d.name, &d.version, d.kind, &file_name.to_string_lossy());
            manifest.permissions = d.permissions.iter().map(Capability::to_string).collect();
            manifest
        }
    };
    check_against(host, &manifest, &artifact, opened).with_context(refused)?;
    if let Some(wanted) = version.filter(|v| *v != manifest.version) {
        bail!("{source}: refused: it holds version {}, not {wanted}", manifest.version);
    }
    let kind = host
        .loader_for(&artifact)
        .map(|l| l.kind())
        .context("no backend handles the plugin file")?;
    let directory = target_directory(host, kind, dir)?;
    let installed = place(host, &manifest, &admitted, &directory)?;
    println!(
        "installed {} plugin `{}` {} into {} (active)",
        manifest.kind,
        manifest.name,
        manifest.version,
        installed.display()
    );
    report_permissions(host, &manifest);
    Ok(ExitCode::SUCCESS)
}

/// Checks an unpacked package: every path its manifest names is one of
/// its files; its own signature and digests: a signed
/// manifest must verify by a trusted key (and is required when pocket.toml
/// requires signatures), and when the manifest lists digests, the package
/// holds exactly the files it lists, each with its digest.
fn check_package(
    unpacked: &Path,
    names: &[String],
    manifest: &Manifest,
    plugins: &pocket_core::PluginsConfig,
) -> anyhow::Result<()> {
    manifest.check_in_package(names)?;
    let signature = format!("{MANIFEST}.sig");
    let signed = names.contains(&signature);
    if signed {
        let key = pocket_trust::verify_file(&unpacked.join(MANIFEST), &plugins.trusted_keys)
            .context("the package's manifest signature")?;
        tracing::debug!(key, "package manifest signature verified");
        if manifest.sha256.is_empty() {
            bail!("its manifest is signed but lists no file digests, so the signature covers none of its files");
        }
    } else if plugins.require_signatures {
        bail!(
            "the package is not signed and pocket.toml's require_signatures is true; \
             package it with `pocket plugin package DIR --key KEY`"
        );
    }
    if manifest.sha256.is_empty() {
        return Ok(());
    }
    for name in names.iter().filter(|n| **n != MANIFEST && **n != signature) {
        let listed = manifest
            .sha256
            .get(name)
            .with_context(|| format!("`{name}` is in the package but not in its manifest's digests"))?;
        let actual = pocket_trust::digest_hex(&unpacked.join(name))?;
        if !listed.eq_ignore_ascii_case(&actual) {
            bail!("`{name}` does not match its digest in the manifest: it was changed after packaging");
        }
    }
    Ok(())
}

/// A file name for what `url` points to: its last path segment.
fn url_file_name(url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or_default();
    let last = path.rsplit('/').next().unwrap_or_default();
    if last.is_empty() || last.starts_with('.') || !last.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    {
        "download".into()
    } else {
        last.into()
    }
}

/// Writes the checked plugin into `directory/NAME/VERSION/` and makes it
/// the active version; the version's directory.
fn place(host: &Deployment, manifest: &Manifest, admitted: &Admitted, directory: &Path) -> anyhow::Result<PathBuf> {
    let name = &manifest.name;
    let artifact = &admitted.bytes().file().path;
    let link = directory.join(installed_file_name(name, artifact));
    if link.exists() && !link.is_symlink() {
        bail!(
            "{} holds plugin `{name}` as a plain file; `pocket plugin unload {name}` first",
            link.display()
        );
    }
    if let Some(other) = loaded_elsewhere(host, name, &link) {
        bail!(
            "a plugin named `{name}` is already loaded from {}; `pocket plugin unload {name}` first",
            other.display()
        );
    }
    let version_dir = directory.join(name).join(&manifest.version);
    if version_dir.exists() {
        bail!(
            "`{name}` {} is already installed in {}; `pocket plugin remove {name}@{}` first",
            manifest.version,
            version_dir.display(),
            manifest.version
        );
    }
    let partial = directory.join(format!(".{name}-{}.partial", manifest.version));
    let _ = std::fs::remove_dir_all(&partial);
    std::fs::create_dir_all(&partial).with_context(|| format!("cannot create {}", partial.display()))?;
    let written = write_version(manifest, admitted, &partial).and_then(|()| {
        std::fs::create_dir_all(directory.join(name))?;
        std::fs::rename(&partial, &version_dir).with_context(|| format!("cannot create {}", version_dir.display()))
    });
    if let Err(error) = written {
        let _ = std::fs::remove_dir_all(&partial);
        return Err(error);
    }
    let target = Path::new(name)
        .join(&manifest.version)
        .join(installed_file_name(name, artifact));
    if let Err(error) = activate(&link, &target) {
        let _ = std::fs::remove_dir_all(&version_dir);
        return Err(error);
    }
    Ok(version_dir)
}

/// The files of one installed version: the plugin as `NAME.EXT` (the bytes
/// that were checked) with `NAME.EXT.sig` (the signature that was verified
/// for them, if any), its README, its manifest (naming them).
fn write_version(manifest: &Manifest, admitted: &Admitted, into: &Path) -> anyhow::Result<()> {
    let artifact = &admitted.bytes().file().path;
    let (installed, files) = packed_files(manifest, pocket_core::directory_of(artifact), artifact)?;
    let write = |name: &str, bytes: &[u8]| {
        let to = into.join(name);
        std::fs::write(&to, bytes).with_context(|| format!("cannot write {}", to.display()))
    };
    write(&installed.artifact, admitted.bytes().bytes())?;
    if let Some(signature) = admitted.bytes().signature() {
        write(&format!("{}.sig", installed.artifact), signature)?;
    }
    if let Some((name, from)) = files.iter().find(|(name, _)| installed.readme.as_ref() == Some(name)) {
        std::fs::copy(from, into.join(name)).with_context(|| format!("cannot copy {}", from.display()))?;
    }
    write(MANIFEST, installed.to_toml()?.as_bytes())
}

/// Points the symbolic link `link` at `target` (relative to its
/// directory), replacing an older link in one step.
fn activate(link: &Path, target: &Path) -> anyhow::Result<()> {
    let file_name = link.file_name().unwrap_or_default().to_string_lossy();
    let fresh = pocket_core::directory_of(link).join(format!(".{file_name}.link"));
    let _ = std::fs::remove_file(&fresh);
    std::os::unix::fs::symlink(target, &fresh).with_context(|| format!("cannot create {}", fresh.display()))?;
    std::fs::rename(&fresh, link).with_context(|| format!("cannot replace {}", link.display()))
}

/// Says which capabilities the plugin asks for that pocket.toml does not grant.
fn report_permissions(host: &Deployment, manifest: &Manifest) {
    let Ok(declared) = Capability::parse_list(&manifest.permissions) else {
        return;
    };
    let permissions = host.config().permissions(&manifest.name).declared_by(&declared);
    for line in crate::commands::plugin::permission_report(&manifest.name, &permissions) {
        println!("{line}");
    }
}

/// `pocket plugin remove NAME[@VERSION]`: deletes installed versions (all,
/// or one), and the active link when it pointed at one of them.
pub fn remove(host: &Deployment, spec: &str) -> anyhow::Result<ExitCode> {
    let (name, version) = match spec.split_once('@') {
        Some((name, version)) => (name, Some(version)),
        None => (spec, None),
    };
    if let Err(reason) = validate_plugin_name(name) {
        bail!("invalid plugin name `{name}`: {reason}");
    }
    if version.is_some_and(|v| v.is_empty() || v.contains(['/', '\\']) || v.starts_with('.')) {
        bail!("invalid version in `{spec}`");
    }
    let mut removed = 0;
    for directory in &host.config().plugins.directories {
        let versions = directory.join(name);
        if !versions.is_dir() {
            continue;
        }
        let doomed = match version {
            Some(version) => versions.join(version),
            None => versions.clone(),
        };
        if !doomed.is_dir() {
            continue;
        }
        for link in active_links(directory, name) {
            let target = std::fs::read_link(&link).unwrap_or_default();
            if target.starts_with(doomed.strip_prefix(directory).unwrap_or(&doomed)) {
                std::fs::remove_file(&link).with_context(|| format!("cannot remove {}", link.display()))?;
            }
        }
        std::fs::remove_dir_all(&doomed).with_context(|| format!("cannot remove {}", doomed.display()))?;
        let _ = std::fs::remove_dir(&versions); // only when no version is left
        println!("removed {}", doomed.display());
        removed += 1;
    }
    if removed == 0 {
        bail!(
            "no installed `{spec}` in the plugin directories (`pocket plugin install` puts versions in DIR/{name}/VERSION/)"
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The symbolic links in `directory` that make a version of `name` active.
fn active_links(directory: &Path, name: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(directory) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_symlink() && pocket_core::file_plugin_name(p) == name)
        .collect()
}
