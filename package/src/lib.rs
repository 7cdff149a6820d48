//! Plugin packages and plugin directories: what `pocket plugin package |
//! install | remove | load | unload` do, without the CLI.
//!
//! A package is an archive (`.tar.gz` or `.zip`) holding a
//! `pocket-plugin.toml` manifest, the plugin file it names and, optionally,
//! a README, all at the archive's root (see docs/packages.md). An installed
//! plugin lives in the plugin directory for its kind as `NAME/VERSION/` (its
//! manifest, its file `NAME.EXT`, its README); the active version is the one
//! the symbolic link `NAME.EXT` beside that directory points to, which is
//! what Pocket loads. A plugin file can also be copied into a plugin
//! directory as it is ([`load`]).
//!
//! Everything that is installed passes the load gate first, through a
//! [`Gate`] the host provides (the signature rule on the bytes read once,
//! then the backend opening them); what is written is exactly what was
//! checked, and a refused source leaves nothing behind.
//!
//! ```no_run
//! # fn demo(gate: &dyn pocket_package::Gate) -> Result<(), pocket_package::Error> {
//! use std::path::Path;
//! // Check a plugin project and write `NAME-VERSION.tar.gz`.
//! let packaged = pocket_package::package(gate, Path::new("my-plugin"), None, None)?;
//! // Install it (a file, a package, or an https:// URL of either).
//! let installed = pocket_package::install(gate, &packaged.out.to_string_lossy(), None, None)?;
//! println!("{} {} in {}", installed.manifest.name, installed.manifest.version, installed.directory.display());
//! // Remove every installed version of it.
//! pocket_package::remove(&gate.config().plugins.directories, &installed.manifest.name)?;
//! # Ok(())
//! # }
//! ```

#![forbid(unsafe_code)]

pub mod archive;
pub mod data_file;
mod directory;
mod error;
pub mod fetch;
mod gate;
mod install;
mod load;
mod manifest;
pub mod pocket_toml;
#[cfg(test)]
mod test_gate;

pub use directory::{in_plugin_directory, installed_file_name, target_directory, write_into_place};
pub use error::Error;
pub use gate::{Gate, Origin, loaded_elsewhere, open_unregistered};
pub use install::{Installed, Packaged, install, package, remove};
pub use load::{LoadOptions, Loaded, forget_aliases, load, unload_file};
pub use manifest::{MANIFEST, Manifest, ManifestError};

/// An error and its causes on one line (`a: b: c`), as the CLI shows them.
#[cfg(test)]
pub(crate) fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(next) = cause {
        text.push_str(": ");
        text.push_str(&next.to_string());
        cause = next.source();
    }
    text
}
