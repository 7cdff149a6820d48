//! `pocket-plugin.toml`: what a package holds.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use pocket_core::{Capability, PluginKind, validate_plugin_name};
use serde::{Deserialize, Serialize};

/// A manifest could not be read, is not valid, or names a file its package
/// does not hold.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ManifestError {
    /// The file could not be read.
    #[error("cannot read {}", .path.display())]
    Read {
        /// The manifest.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not TOML of a manifest's shape.
    #[error("{}: not a valid manifest", .path.display())]
    Parse {
        /// The manifest.
        path: PathBuf,
        /// Where and why.
        source: Box<toml::de::Error>,
    },
    /// A field's value is refused (the cause says which, and why).
    #[error("{}: not a valid manifest", .path.display())]
    Invalid {
        /// The manifest.
        path: PathBuf,
        /// The field refused.
        source: Box<ManifestError>,
    },
    /// `name` is not a plugin name.
    #[error("`name = {name:?}`: {reason}")]
    Name {
        /// The name given.
        name: String,
        /// The rule it breaks.
        reason: &'static str,
    },
    /// `version` cannot be a directory name.
    #[error("`version = {0:?}`: use letters, digits, `.`, `-`, `+` and `_`, not starting with `.`")]
    Version(String),
    /// `kind` is not a kind of plugin.
    #[error("`kind = {0:?}`: must be lua, wasm or native")]
    Kind(String),
    /// A permission is not a capability.
    #[error("`permissions`: {0}")]
    Permission(String),
    /// A path could lead outside the manifest's directory.
    #[error("`{field}` `{path}`: a path relative to the manifest, without `..`, is expected")]
    Outside {
        /// The field naming it.
        field: &'static str,
        /// The path.
        path: String,
    },
    /// A path names no file of the package.
    #[error("the manifest's {field} `{path}` is not a file in the package")]
    NotInPackage {
        /// The field naming it.
        field: &'static str,
        /// The path.
        path: String,
    },
    /// The manifest could not be written as TOML.
    #[error("cannot write the manifest as TOML")]
    Write(#[source] Box<toml::ser::Error>),
}

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
    pub fn read(path: &Path) -> Result<Manifest, ManifestError> {
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let manifest: Manifest = toml::from_str(&text).map_err(|source| ManifestError::Parse {
            path: path.to_path_buf(),
            source: Box::new(source),
        })?;
        manifest.check().map_err(|source| ManifestError::Invalid {
            path: path.to_path_buf(),
            source: Box::new(source),
        })?;
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
    pub fn to_toml(&self) -> Result<String, ManifestError> {
        toml::to_string(self).map_err(|e| ManifestError::Write(Box::new(e)))
    }

    fn check(&self) -> Result<(), ManifestError> {
        if let Err(reason) = validate_plugin_name(&self.name) {
            return Err(ManifestError::Name {
                name: self.name.clone(),
                reason,
            });
        }
        check_version(&self.version)?;
        if !matches!(self.kind.as_str(), "lua" | "wasm" | "native") {
            return Err(ManifestError::Kind(self.kind.clone()));
        }
        for permission in &self.permissions {
            Capability::parse(permission).map_err(|e| ManifestError::Permission(e.clone()))?;
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
    pub fn check_in_package(&self, files: &[String]) -> Result<(), ManifestError> {
        for (field, path) in self.paths() {
            if !files.iter().any(|file| file == path) {
                return Err(ManifestError::NotInPackage {
                    field,
                    path: path.to_string(),
                });
            }
        }
        Ok(())
    }
}

/// Refuses a manifest path that could lead outside the manifest's
/// directory: empty, absolute, or with a `..`.
fn check_inside(field: &'static str, path: &str) -> Result<(), ManifestError> {
    let outside = Path::new(path)
        .components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir));
    if path.is_empty() || outside {
        return Err(ManifestError::Outside {
            field,
            path: path.to_string(),
        });
    }
    Ok(())
}

/// A version becomes a directory name: `1.2.0`, `2.0.0-beta.1+build.5`.
fn check_version(version: &str) -> Result<(), ManifestError> {
    let plain = version
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+' | '_'));
    if version.is_empty() || version.len() > 64 || version.starts_with('.') || !plain {
        return Err(ManifestError::Version(version.to_string()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Manifest, Box<dyn std::error::Error>> {
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
