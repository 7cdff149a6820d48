//! Pocket's native backend: plugins as dynamic libraries (`.so`, `.dylib`,
//! `.dll`) built against `pocket-native-abi`, loaded through `abi_stable`.
//!
//! [`NativeLoader`] is the [`pocket_core::PluginLoader`] for those files. For
//! each file it opens the library, reads its abi_stable header, checks that the
//! library was built against a compatible interface version
//! ([`INTERFACE_VERSION`], same major version) and that the layout of every
//! type reachable from the root module matches the host's, then asks the
//! plugin to describe itself. Files that are not libraries, libraries that are
//! not Pocket plugins and plugins built against another interface are refused
//! with a [`pocket_core::LoadError`] naming the file and the
//! [`RefusalReason`]; the other plugins still load. Each library is loaded
//! through its own header, never through abi_stable's per-type root module
//! cache, so any number of plugins load side by side.
//!
//! **Calls.** Values cross the boundary as they are: [`pocket_core::Value`]
//! has a stable layout, so an input reaches the plugin and an output comes
//! back without conversion or copying (a library built against another
//! layout is refused at load by abi_stable's layout check). Node types the plugin marks
//! *blocking* run on tokio's blocking thread pool; the others run inline on
//! the runner's thread, so they must be quick. A panic inside a plugin is
//! caught inside the plugin and becomes [`pocket_core::NodeError::Crashed`]
//! (or a config error, when it happens while preparing a node); the host
//! goes on.
//!
//! **Trust.** Native code runs unsandboxed in the host process: pocket.toml's
//! permissions and limits (memory, fuel, instructions) do not apply to it,
//! only the runner's per-node `timeout`. A library's static initialisers run
//! as soon as it is opened, even if it is then refused, so only put libraries
//! you trust in plugin directories (signatures are how you decide).
//!
//! **Isolation.** A plugin whose policy says `isolation = "process"`
//! (pocket.toml's `[plugins.isolation]`) runs in processes of its own
//! instead ([`isolated`], Unix only): a segfault, an `abort()` or an
//! endless loop in it fails one node, and the host goes on. Its host calls
//! are still served, and checked, in the host.
//!
//! **Private copies.** A library is opened from a private copy of the bytes
//! pocket-core's load gate read and verified, named by their hash, never
//! from the plugin file: what runs is what was verified, and a file edited
//! or replaced while loaded never changes the code mapped from it.
//!
//! **No unloading.** abi_stable never unloads a library, and neither does this
//! crate: a library stays mapped until the process exits, even after its
//! plugin is unregistered. Reloading a plugin loads a new copy (a new path:
//! the platform loader returns the already-loaded library for a path it has
//! opened before); the registry then swaps the plugin while runs in flight
//! keep the node objects they hold, which stay valid because their code is
//! never unmapped.

mod copies;
mod error;
mod host;
mod http;
#[cfg(unix)]
pub mod isolated;
mod library;
mod loader;
mod node;
mod plugin;

pub use error::{IsolationError, RefusalReason};
#[cfg(unix)]
pub use isolated::{ChildCommand, IsolatedPlugin};
pub use loader::NativeLoader;
pub use plugin::NativePlugin;
pub use pocket_native_abi::INTERFACE_VERSION;
