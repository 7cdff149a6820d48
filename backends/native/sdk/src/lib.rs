//! The SDK Pocket's native plugins are written with.
//!
//! A native plugin is a Rust `cdylib` that depends on this crate, builds a
//! [`Plugin`] from ordinary Rust functions over [`Value`]s, and exports it:
//!
//! ```ignore
//! use pocket_native_sdk::{Call, Error, NodeType, Output, Plugin, Value};
//!
//! fn shout(call: Call) -> Result<Output, Error> {
//!     let text = call.input.get("text").and_then(Value::as_str).unwrap_or_default();
//!     Ok(Value::from(text.to_uppercase()).into())
//! }
//!
//! fn plugin() -> Plugin {
//!     Plugin::new("shouter", env!("CARGO_PKG_VERSION"))
//!         .node(NodeType::new("shout", "Upper-cases input.text", shout))
//! }
//!
//! pocket_native_sdk::export_plugin!(plugin);
//! ```
//!
//! Pocket's loader (the `pocket-native` crate) finds the library in a plugin
//! directory and loads it through `abi_stable`, which checks that the library
//! was built against a compatible [`INTERFACE_VERSION`] and that every type
//! crossing the boundary has the layout the host expects.
//!
//! **What crosses the boundary** is defined by the `pocket-native-abi`
//! crate (re-exported here as [`abi`]), which this one builds on: the root
//! module, the plugin and node type descriptors, and the node types and
//! prepared nodes as `#[sabi_trait]` objects. This crate turns a [`Plugin`]
//! into them. Values cross as [`Value`] itself (no JSON text), so a call
//! costs a few small copies, not parsing.
//!
//! **Panics.** Every call into the plugin (describe, prepare, exec) runs
//! inside `catch_unwind`; a panic becomes an error of kind
//! [`abi::RErrorKind::Panicked`], which the host reports as a node error.
//! A panic never unwinds across the boundary (that would abort the host).
//! Plugins must be built with `panic = "unwind"` (the default) for this to work.
//!
//! **Threads.** Node bodies are plain synchronous functions and must be
//! `Send + Sync`: the host calls them from several threads at once. Mark a
//! node type [`NodeType::blocking`] when its calls wait on I/O; the host then
//! runs them on its blocking thread pool.
//!
//! Each call's [`Call::host`] offers Pocket's host calls (log, kv, config,
//! env, http), checked against the plugin's grant in pocket.toml as Lua's
//! and WASM's are. This crate does not load libraries (that is the host's job).

mod author;
mod error;
mod host;

pub use author::{Call, Exec, NodeType, Output, Plugin, Setup};
pub use error::Error;
pub use host::{CallOutput, HostApi, HttpRequest, HttpResponse, Level};
/// The stable ABI this SDK builds plugins against.
pub use pocket_native_abi as abi;
pub use pocket_native_abi::INTERFACE_VERSION;
pub use pocket_value::{Map, Number, Str, Value};

/// The name of the static through which a library exports its root module:
/// abi_stable's `ROOT_MODULE_LOADER_NAME`, spelled out because
/// `#[export_name]` needs a literal (a test checks that they agree).
#[doc(hidden)]
#[macro_export]
macro_rules! __root_module_loader_name {
    () => {
        "_1as_0lib_1header_0root_bmodule_bloader"
    };
}

/// Exports a plugin from a `cdylib` crate: `export_plugin!(plugin)` where
/// `plugin` is a `fn() -> Plugin`. Use it once per library. The function runs
/// once each time Pocket loads the library; a panic in it refuses the load.
#[macro_export]
macro_rules! export_plugin {
    ($plugin:path) => {
        #[doc(hidden)]
        #[unsafe(export_name = $crate::__root_module_loader_name!())]
        pub static __POCKET_NATIVE_ROOT_MODULE: $crate::__private::LibHeader = {
            extern "C" fn describe() -> $crate::__private::RResult<$crate::abi::PluginDescriptor, $crate::abi::RError> {
                $crate::__private::describe($plugin)
            }
            fn root_module() -> $crate::abi::PluginModuleRef {
                // Evaluated in the plugin's crate: its panic strategy is the
                // one the library is linked with.
                $crate::__private::root_module(describe, cfg!(panic = "unwind"))
            }
            extern "C" fn erased_root_module() -> $crate::__private::RootModuleResult {
                $crate::__private::__call_root_module_loader(root_module)
            }
            // SAFETY: `erased_root_module` returns the module built by
            // `root_module`, which is a `PluginModuleRef`, the type named here.
            unsafe {
                $crate::__private::LibHeader::from_constructor::<$crate::abi::PluginModuleRef>(
                    erased_root_module,
                    $crate::__private::CheckTypeLayout::Yes,
                )
            }
        };
    };
}

/// What [`export_plugin!`] expands to needs; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use abi_stable::library::{__call_root_module_loader, CheckTypeLayout, LibHeader, RootModuleResult};
    pub use abi_stable::std_types::RResult;

    use crate::abi::{PluginDescriptor, PluginModule, PluginModuleRef, RError};
    pub use crate::author::describe;

    /// The root module around a plugin's `describe` function, saying
    /// whether the plugin unwinds on panic.
    pub fn root_module(
        describe: extern "C" fn() -> RResult<PluginDescriptor, RError>,
        unwinds: bool,
    ) -> PluginModuleRef {
        use abi_stable::prefix_type::PrefixTypeTrait;
        PluginModule { describe, unwinds }.leak_into_prefix()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_export_name_is_abi_stables_root_module_loader_name() {
        assert_eq!(
            __root_module_loader_name!(),
            abi_stable::library::ROOT_MODULE_LOADER_NAME
        );
    }
}
