//! `pocket-plugin.toml`: what a package holds.

use std::collections::BTreeMap;
use std::path::{Component, Path};

use anyhow::{Context, bail};
use pocket_core::{Capability, PluginKind, validate_plugin_name};
use serde::{Deserialize, Serialize};

/// The manifest's file name, in a project and at a package's root.
pub const MANIFEST: &str = "pocket-plugin.toml";

/// A package manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The plugin's name: the name its file declares.
    pub name: String,
    /// Its version: the version its file declares.
    pub version: String,
    /// `lua`, `wasm` or `native`: the kind its file must be.
    pub kind: String,
    /// One line about it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The plugin file, relative to the manifest.
    pub artifact: String,
    /// A README, relative to the manifest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readme: Option<String>,
    /// The capabilities the plugin asks for (pocket.toml grants them, or not).
    #[serde(default)]
    pub permissions: Vec<String>,
    /// In a package: the SHA-256 (hex) of every other file it holds, by
    /// name, so that a signature over the manifest covers them all.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sha256: BTreeMap<String, String>,
}

impl Manifest {
    /// Reads and checks the manifest at `path`.
    pub fn read(path: &Path) -> anyhow::Result<Manifest> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        let manifest: Manifest =
            toml::from_str(&text).with_context(|| format!("{}: not a valid manifest", path.display()))?;
        manifest
            .check()
            .with_context(|| format!("{}: not a valid manifest", path.display()))?;
        Ok(manifest)
    }

    /// The manifest of a plugin file described as `name` `version` of `kind`.
    pub fn of(name: &str, version: &str, kind: PluginKind, artifact: &str) -> Manifest {
        Manifest {
            name: name.into(),
            version: version.into(),
            kind: kind.to_string(),
            description: String::new(),
            artifact: artifact.into(),
            readme: None,
            permissions: Vec::new(),
            sha256: BTreeMap::new(),
        }
    }

    /// Its TOML text.
    pub fn to_toml(&self) -> anyhow::Result<String> {
        Ok(toml::to_string(self)?)
    }

    fn check(&self) -> anyhow::Result<()> {
        if let Err(reason) = validate_plugin_name(&self.name) {
            bail!("`name = {:?}`: {reason}", self.name);
        }
        check_version(&self.version)?;
        if !matches!(self.kind.as_str(), "lua" | "wasm" | "native") {
            bail!("`kind = {:?}`: must be lua, wasm or native", self.kind);
        }
        for permission in &self.permissions {
            Capability::parse(permission).map_err(|e| anyhow::anyhow!("`permissions`: {e}"))?;
        }
        for (field, path) in self.paths() {
            check_inside(field, path)?;
        }
        Ok(())
    }

    /// Every path the manifest names, with the field naming it: its
    /// artifact, its README, the files its digests list.
    fn paths(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [("artifact", self.artifact.as_str())]
            .into_iter()
            .chain(self.readme.as_deref().map(|readme| ("readme", readme)))
            .chain(self.sha256.keys().map(|name| ("sha256", name.as_str())))
    }

    /// Checks that every path the manifest names is one of `files`, the
    /// files an unpacked package holds (at its root): a package's manifest
    /// points at nothing outside it.
    pub fn check_in_package(&self, files: &[String]) -> anyhow::Result<()> {
        for (field, path) in self.paths() {
            if !files.iter().any(|file| file == path) {
                bail!("the manifest's {field} `{path}` is not a file in the package");
            }
        }
        Ok(())
    }
}

/// Refuses a manifest path that could lead outside the manifest's
/// directory: empty, absolute, or with a `..`.
fn check_inside(field: &str, path: &str) -> anyhow::Result<()> {
    let outside = Path::new(path)
        .components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir));
    if path.is_empty() || outside {
        bail!("`{field}` `{path}`: a path relative to the manifest, without `..`, is expected");
    }
    Ok(())
}

/// A version becomes a directory name: `1.2.0`, `2.0.0-beta.1+build.5`.
fn check_version(version: &str) -> anyhow::Result<()> {
    let plain = version
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+' | '_'));
    if version.is_empty() || version.len() > 64 || version.starts_with('.') || !plain {
        bail!("`version = {version:?}`: use letters, digits, `.`, `-`, `+` and `_`, not starting with `.`");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> anyhow::Result<Manifest> {
        let manifest: Manifest = toml::from_str(text)?;
        manifest.check()?;
        Ok(manifest)
    }

    #[test]
    fn a_manifest_names_a_plain_name_version_and_kind() {
        let ok = "name = 'x'\nversion = '1.0.0-rc.1'\nkind = 'lua'\nartifact = 'x.lua'\npermissions = ['log', 'http:*.example.com']\n";
        assert_eq!(parse(ok).unwrap().version, "1.0.0-rc.1");
        for bad in [
            "name = '../x'\nversion = '1'\nkind = 'lua'\nartifact = 'x.lua'\n",
            "name = 'x'\nversion = '../1'\nkind = 'lua'\nartifact = 'x.lua'\n",
            "name = 'x'\nversion = '1'\nkind = 'python'\nartifact = 'x.py'\n",
            "name = 'x'\nversion = '1'\nkind = 'lua'\nartifact = 'x.lua'\npermissions = ['root']\n",
            "name = 'x'\nversion = '1'\nkind = 'lua'\n",
            "name = 'x'\nversion = '1'\nkind = 'lua'\nartifact = '/tmp/x.lua'\n",
            "name = 'x'\nversion = '1'\nkind = 'lua'\nartifact = 'x.lua'\nreadme = '/etc/hostname'\n",
            "name = 'x'\nversion = '1'\nkind = 'lua'\nartifact = 'x.lua'\nreadme = 'docs/../../README.md'\n",
            "name = 'x'\nversion = '1'\nkind = 'lua'\nartifact = 'x.lua'\nreadme = ''\n",
            "name = 'x'\nversion = '1'\nkind = 'lua'\nartifact = 'x.lua'\n[sha256]\n'../y' = 'ab'\n",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
