//! Plugin packages: an archive (`.tar.gz` or `.zip`) holding a
//! `pocket-plugin.toml` manifest, the plugin file it names and, optionally,
//! a README, all at the archive's root (see docs/packages.md).

pub mod archive;
pub mod fetch;
mod manifest;

pub use manifest::{MANIFEST, Manifest};
