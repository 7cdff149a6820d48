//! Plugin packages, and installed versions side by side: `NAME/VERSION/`
//! in a plugin directory, the active one the symbolic link `NAME.EXT`
//! beside it points to.

use std::path::{Path, PathBuf};

use pocket_core::{
    Admitted, Capability, OpenedPlugin, Permissions, PluginBytes, PluginDescription, PluginsConfig, PocketConfig,
    check_registered_name, file_plugin_name, validate_plugin_name,
};

use crate::directory::{companions, installed_file_name, target_directory};
use crate::error::{Error, io};
use crate::gate::{Gate, loaded_elsewhere};
use crate::manifest::{MANIFEST, Manifest};
use crate::{archive, fetch};

/// A package written by [`package`].
#[derive(Debug)]
pub struct Packaged {
    /// Its manifest (as in the project).
    pub manifest: Manifest,
    /// The archive.
    pub out: PathBuf,
}

/// A version installed by [`install`], now the active one.
#[derive(Debug)]
pub struct Installed {
    /// Its manifest.
    pub manifest: Manifest,
    /// Its directory, `DIR/NAME/VERSION/`.
    pub directory: PathBuf,
    /// What it declares and pocket.toml grants it (for a report), unless
    /// its permissions cannot be read.
    pub permissions: Option<Permissions>,
}

/// Checks the plugin the manifest in the project `dir` names (through the
/// gate, as the file it is), then writes `out` (by default
/// `NAME-VERSION.tar.gz`), whose manifest lists the SHA-256 of every other
/// file; with `key`, the plugin file and that manifest are signed.
pub fn package(gate: &dyn Gate, dir: &Path, out: Option<&Path>, key: Option<&Path>) -> Result<Packaged, Error> {
    let manifest = Manifest::read(&dir.join(MANIFEST))?;
    let artifact = dir.join(&manifest.artifact);
    if !artifact.is_file() {
        return Err(Error::MissingFile {
            path: artifact,
            field: "artifact",
            hint: "; build the plugin first",
        });
    }
    // The author's own build, checked before it is signed: installing the
    // package applies the signature rule.
    let own = Admitted::unverified(PluginBytes::read(&artifact)?);
    check_against(gate.config(), &manifest, &artifact, gate.open(&own, &manifest.name)?)?;
    let key = key
        .map(|path| {
            pocket_trust::SecretKey::read(path).map_err(|source| Error::SigningKey {
                path: path.to_path_buf(),
                source,
            })
        })
        .transpose()?;
    if let Some(key) = &key {
        pocket_trust::sign_file(&artifact, key)?;
    }
    let staging = staging()?;
    let (mut packed_manifest, files) = packed_files(&manifest, dir, &artifact, gate.companion_suffixes(&artifact))?;
    for (name, path) in &files {
        packed_manifest
            .sha256
            .insert(name.clone(), pocket_trust::digest_hex(path)?);
    }
    let manifest_file = staging.path().join(MANIFEST);
    std::fs::write(&manifest_file, packed_manifest.to_toml()?).map_err(io("write", &manifest_file))?;
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
    Ok(Packaged { manifest, out })
}

/// A new staging directory.
fn staging() -> Result<tempfile::TempDir, Error> {
    tempfile::tempdir().map_err(io("create a directory in", &std::env::temp_dir()))
}

/// The manifest as a package holds it, and the files beside it: the plugin
/// file as `NAME.EXT` (with its signature `NAME.EXT.sig`, when it has one,
/// and the files its backend reads beside it, `NAME` + each of `suffixes`),
/// the README as `README.md`.
fn packed_files(
    manifest: &Manifest,
    dir: &Path,
    artifact: &Path,
    suffixes: &[&str],
) -> Result<(Manifest, Vec<(String, PathBuf)>), Error> {
    let mut packed = manifest.clone();
    packed.artifact = installed_file_name(&manifest.name, artifact)
        .to_string_lossy()
        .into_owned();
    let mut files = vec![(packed.artifact.clone(), artifact.to_path_buf())];
    let signature = pocket_trust::signature_path(artifact);
    if signature.is_file() {
        files.push((format!("{}.sig", packed.artifact), signature));
    }
    files.extend(companions(&manifest.name, artifact, suffixes));
    if let Some(readme) = &manifest.readme {
        let path = dir.join(readme);
        if !path.is_file() {
            return Err(Error::MissingFile {
                path,
                field: "readme",
                hint: "",
            });
        }
        packed.readme = Some("README.md".into());
        files.push(("README.md".into(), path));
    }
    Ok((packed, files))
}

/// Checks that `opened` (from `artifact`) is the plugin `manifest` says: its
/// kind, name, version and permissions, then binds it. What it says about itself.
fn check_against(
    config: &PocketConfig,
    manifest: &Manifest,
    artifact: &Path,
    opened: Box<dyn OpenedPlugin>,
) -> Result<PluginDescription, Error> {
    let found = opened.description().clone();
    let mismatch = |field, said: &str, is: String| Error::Mismatch {
        field,
        said: said.to_string(),
        is,
        artifact: artifact.to_path_buf(),
    };
    if found.kind.to_string() != manifest.kind {
        return Err(mismatch("kind", &manifest.kind, found.kind.to_string()));
    }
    if found.name != manifest.name {
        return Err(mismatch("plugin", &manifest.name, found.name));
    }
    if found.version != manifest.version {
        return Err(mismatch("version", &manifest.version, found.version));
    }
    let asked = Capability::parse_list(&manifest.permissions).map_err(Error::Permission)?;
    let same = |a: &[Capability], b: &[Capability]| a.iter().all(|c| b.contains(c));
    if !same(&asked, &found.permissions) || !same(&found.permissions, &asked) {
        let list = |caps: &[Capability]| caps.iter().map(Capability::to_string).collect::<Vec<_>>().join(", ");
        return Err(Error::PermissionsDiffer {
            asked: list(&asked),
            artifact: artifact.to_path_buf(),
            declared: list(&found.permissions),
        });
    }
    let policy = config.policy_for(&manifest.name, &found);
    opened.bind(policy)?;
    Ok(found)
}

/// Installs `source` (a plugin file, a package, or an `https://` URL of
/// either) into its plugin directory (`dir`, else chosen by
/// [`target_directory`]) as `NAME/VERSION/`, and makes it the active
/// version. `version`, when given, is the version it must hold.
///
/// Everything is checked in a staging directory first, through the load
/// gate (its name, its signature under pocket.toml's rule before any of its
/// code runs); a refused source leaves nothing behind, and what is
/// installed is exactly what was checked.
pub fn install(gate: &dyn Gate, source: &str, version: Option<&str>, dir: Option<&Path>) -> Result<Installed, Error> {
    let config = gate.config();
    let staging = staging()?;
    let local = if fetch::is_url(source) {
        let file = staging.path().join(url_file_name(source));
        fetch::download(source, &file)?;
        file
    } else {
        let file = PathBuf::from(source);
        if !file.is_file() {
            return Err(Error::NoSuchFile(source.to_string()));
        }
        file
    };
    let refused = |error: Error| error.refusing(source);
    let unpacked = staging.path().join("package");
    std::fs::create_dir(&unpacked).map_err(io("create", &unpacked))?;
    let packaged = if archive::is_archive(&local)? {
        let names = archive::unpack(&local, &unpacked, archive::CAPS)?;
        if !names.iter().any(|n| n == MANIFEST) {
            return Err(Error::NoManifest(source.to_string()));
        }
        let manifest = Manifest::read(&unpacked.join(MANIFEST))?;
        check_package(&unpacked, &names, &manifest, &config.plugins).map_err(refused)?;
        check_registered_name(&manifest.name).map_err(|e| refused(e.into()))?;
        Some(manifest)
    } else {
        None
    };
    let artifact = match &packaged {
        Some(manifest) => unpacked.join(&manifest.artifact),
        None => local.clone(),
    };
    let admitted = gate.admit(&artifact).map_err(|e| refused(e.into()))?;
    let opened_as = packaged
        .as_ref()
        .map_or_else(|| file_plugin_name(&artifact), |m| m.name.clone());
    let opened = gate.open(&admitted, &opened_as).map_err(|e| refused(e.into()))?;
    let manifest = match packaged {
        Some(manifest) => manifest,
        None => {
            let d = opened.description();
            check_registered_name(&d.name).map_err(|e| refused(e.into()))?;
            let file_name = local.file_name().unwrap_or_default().to_string_lossy();
            let mut manifest = Manifest::of(&d.name, &d.version, d.kind, &file_name);
            manifest.permissions = d.permissions.iter().map(Capability::to_string).collect();
            manifest
        }
    };
    check_against(config, &manifest, &artifact, opened).map_err(refused)?;
    if let Some(wanted) = version.filter(|v| *v != manifest.version) {
        return Err(Error::OtherVersion {
            what: source.to_string(),
            holds: manifest.version,
            wanted: wanted.to_string(),
        });
    }
    let kind = gate
        .kind_of(&artifact)
        .ok_or_else(|| Error::NoBackend(artifact.clone()))?;
    let directory = target_directory(&config.plugins.directories, kind, dir, &|p| gate.kind_of(p))?;
    let link = directory.join(installed_file_name(&manifest.name, &artifact));
    if let Some(from) = loaded_elsewhere(gate, &manifest.name, &link) {
        return Err(Error::LoadedElsewhere {
            name: manifest.name,
            from,
            alias: "",
        });
    }
    let installed = place(&manifest, &admitted, &directory, gate.companion_suffixes(&artifact))?;
    let permissions = Capability::parse_list(&manifest.permissions)
        .ok()
        .map(|declared| config.permissions(&manifest.name).declared_by(&declared));
    Ok(Installed {
        manifest,
        directory: installed,
        permissions,
    })
}

/// Checks an unpacked package: every path its manifest names is one of
/// its files; its own signature and digests: a signed
/// manifest must verify by a trusted key (and is required when pocket.toml
/// requires signatures), and when the manifest lists digests, the package
/// holds exactly the files it lists, each with its digest.
fn check_package(unpacked: &Path, names: &[String], manifest: &Manifest, plugins: &PluginsConfig) -> Result<(), Error> {
    manifest.check_in_package(names)?;
    let signature = format!("{MANIFEST}.sig");
    let signed = names.contains(&signature);
    if signed {
        let key = pocket_trust::verify_file(&unpacked.join(MANIFEST), &plugins.trusted_keys)
            .map_err(Error::ManifestSignature)?;
        tracing::debug!(key, "package manifest signature verified");
        if manifest.sha256.is_empty() {
            return Err(Error::SignedWithoutDigests);
        }
    } else if plugins.require_signatures {
        return Err(Error::Unsigned);
    }
    if manifest.sha256.is_empty() {
        return Ok(());
    }
    for name in names.iter().filter(|n| **n != MANIFEST && **n != signature) {
        let listed = manifest
            .sha256
            .get(name)
            .ok_or_else(|| Error::NotInDigests(name.clone()))?;
        let actual = pocket_trust::digest_hex(&unpacked.join(name))?;
        if !listed.eq_ignore_ascii_case(&actual) {
            return Err(Error::DigestMismatch(name.clone()));
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
fn place(manifest: &Manifest, admitted: &Admitted, directory: &Path, suffixes: &[&str]) -> Result<PathBuf, Error> {
    let name = &manifest.name;
    let artifact = &admitted.bytes().file().path;
    let link = directory.join(installed_file_name(name, artifact));
    if link.exists() && !link.is_symlink() {
        return Err(Error::PlainFile {
            link,
            name: name.clone(),
        });
    }
    let version_dir = directory.join(name).join(&manifest.version);
    if version_dir.exists() {
        return Err(Error::AlreadyInstalled {
            name: name.clone(),
            version: manifest.version.clone(),
            dir: version_dir,
        });
    }
    let partial = directory.join(format!(".{name}-{}.partial", manifest.version));
    let _ = std::fs::remove_dir_all(&partial);
    std::fs::create_dir_all(&partial).map_err(io("create", &partial))?;
    let written = write_version(manifest, admitted, &partial, suffixes).and_then(|()| {
        let versions = directory.join(name);
        std::fs::create_dir_all(&versions).map_err(io("create", &versions))?;
        std::fs::rename(&partial, &version_dir).map_err(io("create", &version_dir))
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
/// for them, if any) and the files its backend reads beside it (those it
/// was checked with), its README, its manifest (naming them).
fn write_version(manifest: &Manifest, admitted: &Admitted, into: &Path, suffixes: &[&str]) -> Result<(), Error> {
    let artifact = &admitted.bytes().file().path;
    let (installed, files) = packed_files(manifest, pocket_core::directory_of(artifact), artifact, suffixes)?;
    let write = |name: &str, bytes: &[u8]| {
        let to = into.join(name);
        std::fs::write(&to, bytes).map_err(io("write", &to))
    };
    write(&installed.artifact, admitted.bytes().bytes())?;
    if let Some(signature) = admitted.bytes().signature() {
        write(&format!("{}.sig", installed.artifact), signature)?;
    }
    // The rest of what a package holds beside the plugin: its companion
    // files and README.
    let signature = format!("{}.sig", installed.artifact);
    for (name, from) in files
        .iter()
        .filter(|(name, _)| *name != installed.artifact && *name != signature)
    {
        std::fs::copy(from, into.join(name)).map_err(io("copy", from))?;
    }
    write(MANIFEST, installed.to_toml()?.as_bytes())
}

/// Points the symbolic link `link` at `target` (relative to its
/// directory), replacing an older link in one step.
fn activate(link: &Path, target: &Path) -> Result<(), Error> {
    let file_name = link.file_name().unwrap_or_default().to_string_lossy();
    let fresh = pocket_core::directory_of(link).join(format!(".{file_name}.link"));
    let _ = std::fs::remove_file(&fresh);
    std::os::unix::fs::symlink(target, &fresh).map_err(io("create", &fresh))?;
    std::fs::rename(&fresh, link).map_err(io("replace", link))
}

/// Deletes installed versions of `spec` (`NAME`: all of them, or
/// `NAME@VERSION`: one) from `directories`, and the active link when it
/// pointed at one of them; the directories removed.
pub fn remove(directories: &[PathBuf], spec: &str) -> Result<Vec<PathBuf>, Error> {
    let (name, version) = match spec.split_once('@') {
        Some((name, version)) => (name, Some(version)),
        None => (spec, None),
    };
    if let Err(reason) = validate_plugin_name(name) {
        return Err(Error::InvalidName {
            name: name.to_string(),
            reason,
        });
    }
    if version.is_some_and(|v| v.is_empty() || v.contains(['/', '\\']) || v.starts_with('.')) {
        return Err(Error::InvalidVersion(spec.to_string()));
    }
    let mut removed = Vec::new();
    for directory in directories {
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
                std::fs::remove_file(&link).map_err(io("remove", &link))?;
            }
        }
        std::fs::remove_dir_all(&doomed).map_err(io("remove", &doomed))?;
        let _ = std::fs::remove_dir(&versions); // only when no version is left
        removed.push(doomed);
    }
    if removed.is_empty() {
        return Err(Error::NotInstalled {
            spec: spec.to_string(),
            name: name.to_string(),
        });
    }
    Ok(removed)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_gate::LuaGate;

    fn lua_plugin(root: &Path, file: &str, version: &str) -> PathBuf {
        let path = root.join(file);
        let text = format!(
            "return {{ name = 'hello', version = '{version}', permissions = {{ 'kv' }}, \
             nodes = {{ hi = {{ exec = function() return {{}} end }} }} }}\n"
        );
        std::fs::write(&path, text).unwrap();
        path
    }

    fn active(root: &Path) -> PathBuf {
        std::fs::read_link(root.join("plugins/hello.lua")).unwrap()
    }

    #[test]
    fn installing_versions_side_by_side_flips_the_active_one_and_removing_it_drops_the_link() {
        let root = tempfile::tempdir().unwrap();
        let root = root.path();
        let gate = LuaGate::new(root, "");
        let one = lua_plugin(root, "v1.lua", "1.0.0");
        let installed = install(&gate, &one.to_string_lossy(), None, None).unwrap();
        assert_eq!(installed.directory, root.join("plugins/hello/1.0.0"));
        assert_eq!(active(root), Path::new("hello/1.0.0/hello.lua"));
        let permissions = installed.permissions.unwrap();
        assert_eq!(permissions.missing().len(), 1, "kv is not granted");
        let manifest = Manifest::read(&root.join("plugins/hello/1.0.0").join(MANIFEST)).unwrap();
        assert_eq!(
            (manifest.artifact.as_str(), manifest.permissions.as_slice()),
            ("hello.lua", &["kv".to_string()][..])
        );

        let two = lua_plugin(root, "v2.lua", "2.0.0");
        install(&gate, &two.to_string_lossy(), Some("2.0.0"), None).unwrap();
        assert_eq!(
            active(root),
            Path::new("hello/2.0.0/hello.lua"),
            "the last installed is active"
        );
        let again = install(&gate, &two.to_string_lossy(), None, None).unwrap_err();
        assert!(matches!(again, Error::AlreadyInstalled { .. }), "{again}");
        let other = install(&gate, &two.to_string_lossy(), Some("3.0.0"), None).unwrap_err();
        assert!(other.to_string().contains("not 3.0.0"), "{other}");

        assert_eq!(
            remove(&gate.config.plugins.directories, "hello@2.0.0").unwrap().len(),
            1
        );
        assert!(
            !root.join("plugins/hello.lua").is_symlink(),
            "the removed version was active"
        );
        assert!(root.join("plugins/hello/1.0.0/hello.lua").is_file());
        remove(&gate.config.plugins.directories, "hello").unwrap();
        assert_eq!(std::fs::read_dir(root.join("plugins")).unwrap().count(), 0);
        let none = remove(&gate.config.plugins.directories, "hello").unwrap_err();
        assert!(matches!(none, Error::NotInstalled { .. }), "{none}");
        assert!(matches!(remove(&[], "../x").unwrap_err(), Error::InvalidName { .. }));
        assert!(matches!(remove(&[], "x@../1").unwrap_err(), Error::InvalidVersion(_)));
    }

    #[test]
    fn a_package_installs_what_it_holds_and_a_tampered_one_is_refused_leaving_nothing() {
        let root = tempfile::tempdir().unwrap();
        let root = root.path();
        let gate = LuaGate::new(root, "");
        let project = root.join("project");
        std::fs::create_dir(&project).unwrap();
        lua_plugin(&project, "main.lua", "1.0.0");
        std::fs::write(project.join("README.md"), "# hello").unwrap();
        std::fs::write(
            project.join(MANIFEST),
            "name = 'hello'\nversion = '1.0.0'\nkind = 'lua'\nartifact = 'main.lua'\nreadme = 'README.md'\npermissions = ['kv']\n",
        )
        .unwrap();
        let out = root.join("hello.tar.gz");
        let packaged = package(&gate, &project, Some(&out), None).unwrap();
        assert_eq!(packaged.out, out);

        // The same package with its plugin file changed after packaging.
        let unpacked = root.join("unpacked");
        std::fs::create_dir(&unpacked).unwrap();
        let names = archive::unpack(&out, &unpacked, archive::CAPS).unwrap();
        std::fs::write(unpacked.join("hello.lua"), "return {}").unwrap();
        let files: Vec<(String, PathBuf)> = names.iter().map(|n| (n.clone(), unpacked.join(n))).collect();
        let tampered = root.join("tampered.tar.gz");
        archive::pack(&files, &tampered).unwrap();
        let refused = install(&gate, &tampered.to_string_lossy(), None, None).unwrap_err();
        assert!(
            crate::chain(&refused).contains("changed after packaging"),
            "{}",
            crate::chain(&refused)
        );
        assert_eq!(std::fs::read_dir(root.join("plugins")).unwrap().count(), 0);

        install(&gate, &out.to_string_lossy(), None, None).unwrap();
        let version = root.join("plugins/hello/1.0.0");
        assert_eq!(std::fs::read_to_string(version.join("README.md")).unwrap(), "# hello");
        assert_eq!(active(root), Path::new("hello/1.0.0/hello.lua"));
    }

    #[test]
    fn a_package_whose_manifest_disagrees_with_its_plugin_is_not_written() {
        let root = tempfile::tempdir().unwrap();
        let root = root.path();
        let gate = LuaGate::new(root, "");
        lua_plugin(root, "main.lua", "1.0.0");
        std::fs::write(
            root.join(MANIFEST),
            "name = 'hello'\nversion = '1.0.1'\nkind = 'lua'\nartifact = 'main.lua'\npermissions = ['kv']\n",
        )
        .unwrap();
        let out = root.join("hello.tar.gz");
        let err = package(&gate, root, Some(&out), None).unwrap_err();
        assert!(err.to_string().contains("says version `1.0.1`"), "{err}");
        assert!(!out.exists());
    }

    #[test]
    fn a_url_names_its_download_by_its_last_plain_segment() {
        assert_eq!(url_file_name("https://x.example/a/p-1.tar.gz?sig=1"), "p-1.tar.gz");
        for odd in [
            "https://x.example/",
            "https://x.example/.hidden",
            "https://x.example/a%2Fb",
        ] {
            assert_eq!(url_file_name(odd), "download", "{odd}");
        }
    }
}
