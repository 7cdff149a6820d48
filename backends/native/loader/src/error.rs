//! Why a library is refused.

use abi_stable::library::LibraryError;

/// A native plugin library could not be loaded. The loader reports it as a
/// [`pocket_core::LoadError`] naming the file, with this as the reason.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RefusalReason {
    /// The file is not a dynamic library this platform can load (garbage,
    /// another architecture, missing dependencies...).
    #[error("not a loadable dynamic library: {0}")]
    NotALibrary(String),
    /// A dynamic library, but not a Pocket plugin: it exports no root module.
    #[error(
        "not a Pocket plugin: the library exports no plugin root module \
         (build it with pocket-native-sdk and its `export_plugin!`)"
    )]
    NotAPlugin,
    /// Built against an interface version this Pocket cannot load.
    #[error(
        "built against plugin interface {found}, but this Pocket loads interface {expected}; \
         rebuild the plugin with a matching pocket-native-sdk"
    )]
    IncompatibleInterface {
        /// The version the library was built against.
        found: String,
        /// The version this host loads.
        expected: String,
    },
    /// Built with an abi_stable version, or type layouts, that do not match
    /// this host's interface.
    #[error("incompatible plugin interface: {0}; rebuild the plugin with this Pocket's pocket-native-sdk")]
    IncompatibleLayout(String),
    /// Built with `panic = "abort"`: its first panic would end the host.
    #[error(
        "built with panic = \"abort\": a panic in any of its nodes would end the whole Pocket process \
         instead of failing one node; build it with panic = \"unwind\" (remove `panic = \"abort\"` \
         from the [profile] sections of its Cargo.toml, or of the workspace's)"
    )]
    AbortsOnPanic,
    /// The plugin's code failed (or panicked) while describing itself.
    #[error("the plugin failed while describing itself: {0}")]
    DescribeFailed(String),
}

impl RefusalReason {
    /// Reads abi_stable's error.
    pub(crate) fn from_library(error: &LibraryError) -> RefusalReason {
        match error {
            LibraryError::OpenError { err, .. } => RefusalReason::NotALibrary(err.to_string()),
            LibraryError::GetSymbolError { .. } => RefusalReason::NotAPlugin,
            LibraryError::IncompatibleVersionNumber {
                expected_version,
                actual_version,
                ..
            } => RefusalReason::IncompatibleInterface {
                found: actual_version.to_string(),
                expected: expected_version.to_string(),
            },
            LibraryError::RootModule { err, .. } => RefusalReason::DescribeFailed(err.to_string()),
            LibraryError::Many(errors) => match errors.first() {
                Some(first) => RefusalReason::from_library(first),
                None => RefusalReason::IncompatibleLayout(summary(&error.to_string())),
            },
            other => RefusalReason::IncompatibleLayout(summary(&other.to_string())),
        }
    }
}

/// The first lines of abi_stable's (very long) layout report.
fn summary(report: &str) -> String {
    const MAX_LINES: usize = 6;
    let lines: Vec<&str> = report.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let mut text = lines.iter().take(MAX_LINES).copied().collect::<Vec<_>>().join(" ");
    if lines.len() > MAX_LINES {
        text.push_str(" ...");
    }
    text
}

/// A plugin under `isolation = "process"` could not be started and described
/// in its own process. The loader reports it as a [`pocket_core::LoadError`]
/// naming the file, with this as the reason.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum IsolationError {
    /// The loader was built without a way to start plugin processes.
    #[error(
        "pocket.toml sets isolation = \"process\" for this plugin, but this host cannot start plugin \
         processes (build its NativeLoader with `isolating_with`)"
    )]
    NoChildCommand,
    /// Process isolation needs Unix (poll, signals).
    #[error("isolation = \"process\" is only available on Unix; use \"in-process\" here")]
    Unsupported,
    /// The process could not be started.
    #[error("cannot start the plugin's process: {0}")]
    Spawn(String),
    /// The process started, but refused the library.
    #[error("refused in the plugin's process: {0}")]
    Refused(String),
    /// The process died, or broke the protocol, while the plugin described itself.
    #[error("the plugin's process {0} while the plugin described itself")]
    Crashed(String),
    /// The plugin took longer than its `timeout` limit to describe itself.
    #[error("the plugin did not describe itself within its timeout limit ({0}); its process was killed")]
    TimedOut(String),
    /// The description is unusable (malformed examples or permissions).
    #[error("the plugin described itself wrongly: {0}")]
    BadDescription(String),
}
