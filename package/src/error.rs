//! The errors of packaging, installing, loading and removing plugins.

use std::path::PathBuf;

use pocket_core::{LoadError, RegistryError};
use pocket_trust::TrustError;

use crate::archive::ArchiveError;
use crate::data_file::DataFileError;
use crate::fetch::FetchError;
use crate::manifest::ManifestError;
use crate::pocket_toml::PocketTomlError;

/// Why a plugin could not be packaged, installed, loaded or removed. Each
/// says what failed, on which file, package or plugin, and what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The source was refused (the cause says why); nothing was installed.
    #[error("{what}: refused")]
    Refused {
        /// The file or URL given.
        what: String,
        /// Why.
        source: Box<Error>,
    },
    /// The plugin failed the load gate.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The name is one a plugin cannot be registered under.
    #[error(transparent)]
    Name(#[from] RegistryError),
    /// A manifest is missing or invalid.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// An archive could not be read or written.
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    /// A download failed.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// pocket.toml could not be edited.
    #[error(transparent)]
    PocketToml(#[from] PocketTomlError),
    /// A data file could not be read.
    #[error(transparent)]
    DataFile(#[from] DataFileError),
    /// Signing, verifying or hashing failed.
    #[error(transparent)]
    Trust(#[from] TrustError),
    /// A file could not be read, written, created, copied or removed.
    #[error("cannot {action} {}", .path.display())]
    Io {
        /// `read`, `write`, `create`, `copy`, `remove`, `replace`.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The key to sign with could not be read.
    #[error("cannot sign with {}", .path.display())]
    SigningKey {
        /// The key file.
        path: PathBuf,
        /// Why.
        source: TrustError,
    },
    /// A package's manifest signature does not verify.
    #[error("the package's manifest signature")]
    ManifestSignature(#[source] TrustError),
    /// No such plugin file.
    #[error("{0}: no such file")]
    NoSuchFile(String),
    /// A file the manifest names is missing from the project.
    #[error("{} (the manifest's `{field}`) does not exist{hint}", .path.display())]
    MissingFile {
        /// The file.
        path: PathBuf,
        /// The field naming it.
        field: &'static str,
        /// What to do, if anything.
        hint: &'static str,
    },
    /// A package without a manifest.
    #[error("{0}: refused: the package has no {manifest} at its root", manifest = crate::MANIFEST)]
    NoManifest(String),
    /// The manifest says one thing, the plugin file another.
    #[error("the manifest says {field} `{said}`, but {} is {field} `{is}`", .artifact.display())]
    Mismatch {
        /// `kind`, `plugin`, `version`.
        field: &'static str,
        /// What the manifest says.
        said: String,
        /// What the file is.
        is: String,
        /// The plugin file.
        artifact: PathBuf,
    },
    /// The manifest's and the plugin's permissions differ.
    #[error(
        "the manifest asks for permissions [{asked}], but {} declares [{declared}]; make them the same",
        .artifact.display()
    )]
    PermissionsDiffer {
        /// What the manifest asks for.
        asked: String,
        /// The plugin file.
        artifact: PathBuf,
        /// What it declares.
        declared: String,
    },
    /// A permission is not a capability.
    #[error("{0}")]
    Permission(String),
    /// A signed manifest that covers no file.
    #[error("its manifest is signed but lists no file digests, so the signature covers none of its files")]
    SignedWithoutDigests,
    /// An unsigned package where signatures are required.
    #[error(
        "the package is not signed and pocket.toml's require_signatures is true; \
         package it with `pocket plugin package DIR --key KEY`"
    )]
    Unsigned,
    /// A file the manifest's digests do not list.
    #[error("`{0}` is in the package but not in its manifest's digests")]
    NotInDigests(String),
    /// A file that changed after packaging.
    #[error("`{0}` does not match its digest in the manifest: it was changed after packaging")]
    DigestMismatch(String),
    /// Another version than the one asked for.
    #[error("{what}: refused: it holds version {holds}, not {wanted}")]
    OtherVersion {
        /// The file or URL given.
        what: String,
        /// The version it holds.
        holds: String,
        /// The version asked for.
        wanted: String,
    },
    /// No backend handles the file.
    #[error("{}: no backend handles the plugin file", .0.display())]
    NoBackend(PathBuf),
    /// `--dir` names a directory Pocket does not load plugins from.
    #[error(
        "{} is not one of pocket.toml's plugin directories ({directories}); add it to `[plugins] directories`, \
         or Pocket would never load what is copied there",
        .dir.display()
    )]
    NotAPluginDirectory {
        /// The directory given.
        dir: PathBuf,
        /// pocket.toml's plugin directories.
        directories: String,
    },
    /// pocket.toml lists no plugin directory.
    #[error("pocket.toml lists no plugin directories; add one to `[plugins] directories`")]
    NoPluginDirectories,
    /// The active link's place holds a plain plugin file.
    #[error("{} holds plugin `{name}` as a plain file; `pocket plugin unload {name}` first", .link.display())]
    PlainFile {
        /// The file.
        link: PathBuf,
        /// The plugin.
        name: String,
    },
    /// A plugin of that name is loaded from another file.
    #[error("a plugin named `{name}` is already loaded from {}; `pocket plugin unload {name}` first{alias}", .from.display())]
    LoadedElsewhere {
        /// The plugin.
        name: String,
        /// Where it is loaded from.
        from: PathBuf,
        /// `, or load this one beside it with `--alias NAME`` when that is a way out.
        alias: &'static str,
    },
    /// That version is installed already.
    #[error("`{name}` {version} is already installed in {}; `pocket plugin remove {name}@{version}` first", .dir.display())]
    AlreadyInstalled {
        /// The plugin.
        name: String,
        /// Its version.
        version: String,
        /// Its directory.
        dir: PathBuf,
    },
    /// The file to load into exists.
    #[error(
        "{} already exists; unload the plugin it holds first, or load this one with `--alias NAME`",
        .0.display()
    )]
    TargetExists(PathBuf),
    /// The name is an alias of another plugin in pocket.toml.
    #[error(
        "pocket.toml's [plugins.aliases] makes `{name}` an alias of plugin `{declared}`; load this one with --alias"
    )]
    AliasOfAnother {
        /// The name.
        name: String,
        /// The plugin pocket.toml makes it stand for.
        declared: String,
    },
    /// `--alias` or `--config` without a pocket.toml to record it in.
    #[error("--alias and --config are recorded in pocket.toml, and there is none; create one")]
    NoPocketToml,
    /// A config file that pocket.toml cannot hold.
    #[error("{}: cannot store it in pocket.toml", .file.display())]
    ConfigNotStorable {
        /// The config file.
        file: PathBuf,
        /// Why.
        source: PocketTomlError,
    },
    /// `NAME@VERSION` with an invalid name.
    #[error("invalid plugin name `{name}`: {reason}")]
    InvalidName {
        /// The name.
        name: String,
        /// The rule it breaks.
        reason: &'static str,
    },
    /// `NAME@VERSION` with an invalid version.
    #[error("invalid version in `{0}`")]
    InvalidVersion(String),
    /// Nothing installed matches.
    #[error(
        "no installed `{spec}` in the plugin directories (`pocket plugin install` puts versions in DIR/{name}/VERSION/)"
    )]
    NotInstalled {
        /// What was asked for.
        spec: String,
        /// The plugin.
        name: String,
    },
}

/// An [`Error::Io`] maker for `map_err`.
pub(crate) fn io<'a>(action: &'static str, path: &'a std::path::Path) -> impl FnOnce(std::io::Error) -> Error + 'a {
    move |source| Error::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

impl Error {
    /// This error, as the reason `what` (a file or URL) was refused.
    pub(crate) fn refusing(self, what: &str) -> Error {
        Error::Refused {
            what: what.to_string(),
            source: Box::new(self),
        }
    }
}
