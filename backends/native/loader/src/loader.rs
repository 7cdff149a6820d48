//! [`NativeLoader`]: dynamic libraries in plugin directories become
//! [`NativePlugin`](crate::NativePlugin)s.

use std::path::Path;

use abi_stable::library::lib_header_from_path;
use abi_stable::std_types::{RErr, ROk};
use pocket_core::{Limits, LoadError, OpenedPlugin, PluginKind, PluginLoader};
use pocket_native_abi::module::{PluginDescriptor, PluginModuleRef};

use crate::error::RefusalReason;
use crate::plugin::OpenedNative;

/// The file extensions of dynamic libraries, on every platform: a plugin
/// directory shared between machines may hold all three.
const EXTENSIONS: [&str; 3] = ["so", "dylib", "dll"];

/// Loads native plugin libraries (`.so`, `.dylib`, `.dll`).
///
/// Each file is loaded through its own library header, so two plugins never
/// share a root module (abi_stable's `RootModule::load_from_*` would cache
/// the first library's module for every later one). A loaded library is never
/// unloaded: loading a new version means loading a new file.
#[derive(Debug, Clone, Copy, Default)]
pub struct NativeLoader;

impl NativeLoader {
    /// The loader.
    pub fn new() -> Self {
        NativeLoader
    }
}

impl PluginLoader for NativeLoader {
    fn kind(&self) -> PluginKind {
        PluginKind::Native
    }

    fn handles(&self, path: &Path) -> bool {
        path.extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| EXTENSIONS.iter().any(|x| e.eq_ignore_ascii_case(x)))
    }

    /// Loads the library at `path` and reads its descriptor. Native plugins
    /// are trusted code: no limit applies to the library itself; binding
    /// gives its host calls the plugin's permissions.
    fn open(&self, path: &Path, _limits: &Limits) -> Result<Box<dyn OpenedPlugin>, LoadError> {
        let descriptor = open(path).map_err(|reason| LoadError::new(path, reason))?;
        let plugin = OpenedNative::new(descriptor, path)
            .map_err(|reason| LoadError::new(path, RefusalReason::DescribeFailed(reason)))?;
        tracing::debug!(plugin = %OpenedPlugin::description(&plugin).name, file = %path.display(), "loaded native plugin");
        Ok(Box::new(plugin))
    }
}

/// Opens the library, checks its interface version and type layouts, and
/// asks it to describe itself.
fn open(path: &Path) -> Result<PluginDescriptor, RefusalReason> {
    let header = lib_header_from_path(path).map_err(|e| RefusalReason::from_library(&e))?;
    let module = header
        .init_root_module::<PluginModuleRef>()
        .map_err(|e| RefusalReason::from_library(&e))?;
    if !module.unwinds() {
        return Err(RefusalReason::AbortsOnPanic);
    }
    match module.describe()() {
        ROk(descriptor) => Ok(descriptor),
        RErr(error) => Err(RefusalReason::DescribeFailed(error.message.into_string())),
    }
}
