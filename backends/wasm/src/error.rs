//! Why a module cannot be used as a plugin.

/// A module was refused or failed to load. The text names the offending
/// import, export or limit, so the plugin author knows what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ModuleError {
    /// The bytes are not a valid WebAssembly module (or `.wat` text).
    #[error("not a valid WebAssembly module: {0}")]
    Compile(String),
    /// The module imports something the host does not provide.
    #[error("import `{module}.{name}` is not allowed: {reason}")]
    ForbiddenImport {
        /// The import's module (`env`, `wasi_snapshot_preview1`, `pocket`...).
        module: String,
        /// The imported item.
        name: String,
        /// Why, and what the host does provide.
        reason: String,
    },
    /// A required export is missing or has the wrong type.
    #[error("export `{name}` {problem}")]
    Export {
        /// The export.
        name: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A function nests blocks deeper than the host compiles.
    #[error(
        "function {function} (counting the module's own functions from 0) nests blocks {depth} deep; \
         at most {limit} are allowed"
    )]
    TooComplex {
        /// The function's index among the module's own (not imported) functions.
        function: u32,
        /// How deep it got before it was refused.
        depth: usize,
        /// The deepest nesting allowed.
        limit: usize,
    },
    /// `pocket_abi_version` returned something other than 1.
    #[error("ABI version {found} is not supported (this host speaks version {expected})")]
    AbiVersion {
        /// What the module returned.
        found: i32,
        /// What the host speaks.
        expected: i32,
    },
    /// The module's initial linear memory is larger than the plugin's `memory` limit.
    #[error(
        "initial linear memory of {initial} bytes exceeds the memory limit of {limit} bytes \
         (raise [plugins.limits] memory in pocket.toml, or shrink the module's memory)"
    )]
    MemoryTooLarge {
        /// The module's initial memory, in bytes.
        initial: u64,
        /// The limit, in bytes.
        limit: u64,
    },
    /// Instantiating the module, or calling one of its functions at load, failed.
    #[error("{0}")]
    Instantiate(String),
    /// The manifest beside an Extism module cannot be used.
    #[error("invalid Extism manifest {}: {message}", path.display())]
    ExtismManifest {
        /// The manifest file.
        path: std::path::PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// `pocket_describe` returned no usable manifest.
    #[error("invalid manifest from pocket_describe: {0}")]
    Manifest(String),
}
