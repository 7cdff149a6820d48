//! Opening one plugin library: its interface version, type layouts and
//! panic strategy checked, its description asked for. Used by the loader in
//! the host and by a plugin's own process alike.

use std::path::Path;

use abi_stable::library::lib_header_from_path;
use abi_stable::std_types::{RErr, ROk};
use pocket_native_abi::{PluginDescriptor, PluginModuleRef};

use crate::error::RefusalReason;

/// Whether a library built with `panic = "abort"` may load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Panics {
    /// In the host process: its first panic would end the host, so it is refused.
    MustUnwind,
    /// In a plugin's own process: a panic ends that process only.
    MayAbort,
}

/// Opens the library, checks its interface version and type layouts (and
/// its panic strategy, under `panics`), and asks it to describe itself.
pub(crate) fn open(path: &Path, panics: Panics) -> Result<PluginDescriptor, RefusalReason> {
    let header = lib_header_from_path(path).map_err(|e| RefusalReason::from_library(&e))?;
    let module = header
        .init_root_module::<PluginModuleRef>()
        .map_err(|e| RefusalReason::from_library(&e))?;
    if panics == Panics::MustUnwind && !module.unwinds() {
        return Err(RefusalReason::AbortsOnPanic);
    }
    match module.describe()() {
        ROk(descriptor) => Ok(descriptor),
        RErr(error) => Err(RefusalReason::DescribeFailed(error.message.into_string())),
    }
}
