//! The errors of preparing a node, from the narrowest (a node type refusing
//! its config) to the whole pipeline's ([`PrepareError`]), and of loading and registering
//! plugins ([`LoadError`], [`RegistryError`]). A leaf: every layer reports
//! through these.

use std::path::{Path, PathBuf};

/// A node's configuration is unusable; found before the workflow runs.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ConfigError {
    /// JSON pointer to the offending config value (`""` for the whole config).
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl ConfigError {
    /// An error about the whole config.
    pub fn new(message: impl Into<String>) -> Self {
        ConfigError {
            path: String::new(),
            message: message.into(),
        }
    }

    /// An error about the config value at `path` (a JSON pointer such as `/conditions/0/if`).
    pub fn at(path: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// A type name that matches no registered node type.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("unknown node type `{name}`{}", .suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
pub struct UnknownType {
    /// The name asked for.
    pub name: String,
    /// The closest registered name, if one is close.
    pub suggestion: Option<String>,
}

/// A node type name that names no type, or several.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum TypeLookupError {
    /// No registered plugin provides the type.
    #[error("{0}")]
    Unknown(UnknownType),
    /// Several plugins provide a type of this bare name.
    #[error(
        "node type `{name}` is ambiguous: it is provided by {}",
        .candidates.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
    )]
    Ambiguous {
        /// The bare name asked for.
        name: String,
        /// The full names (`plugin/type`) of every type of that name.
        candidates: Vec<String>,
    },
}

/// Why a node could not be prepared.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PrepareError {
    /// No registered plugin provides the type, or several do.
    #[error("{0}")]
    Type(TypeLookupError),
    /// The type is a built-in that pocket.toml's `[builtins]` switches off.
    #[error("node type `{0}` is disabled in this deployment")]
    Disabled(String),
    /// The providing plugin's config (pocket.toml, workflow `plugins:`) is unusable.
    #[error("{0}")]
    PluginConfig(String),
    /// The config violates the type's JSON Schema.
    #[error("config at {}: {message}", if .path.is_empty() { "(root)" } else { .path.as_str() })]
    Schema {
        /// JSON pointer to the offending value (`""` for the whole config).
        path: String,
        /// What is wrong.
        message: String,
        /// The plugin whose `pocket plugin info` shows the schema.
        plugin: String,
    },
    /// The config is unusable: a broken template, or refused by the node type.
    #[error("{}", config_message(.0))]
    Config(ConfigError),
}

fn config_message(error: &ConfigError) -> String {
    if error.path.is_empty() {
        error.message.clone()
    } else {
        format!("config at {}: {}", error.path, error.message)
    }
}

impl PrepareError {
    /// What to do about it, when there is something to say.
    pub fn help(&self) -> Option<String> {
        match self {
            PrepareError::Type(TypeLookupError::Unknown(unknown)) => Some(match &unknown.suggestion {
                Some(s) => format!("did you mean `{s}`? (`pocket nodes` lists every type)"),
                None => "`pocket nodes` lists every available type; is the plugin providing it loaded?".into(),
            }),
            PrepareError::Type(TypeLookupError::Ambiguous { candidates, .. }) => Some(format!(
                "write the full name of the one you mean, e.g. `type: {}`",
                candidates.first().map_or("plugin/type", String::as_str)
            )),
            PrepareError::Disabled(_) => Some("pocket.toml's [builtins] section switches it off".into()),
            PrepareError::PluginConfig(_) => Some("fix the plugin's section in pocket.toml".into()),
            PrepareError::Schema { plugin, .. } => Some(format!("see the schema with `pocket plugin info {plugin}`")),
            PrepareError::Config(_) => None,
        }
    }

    /// The JSON pointer of the config value the error is about, if it is
    /// about one (`""`: the whole config).
    pub fn config_pointer(&self) -> Option<&str> {
        match self {
            PrepareError::Schema { path, .. } | PrepareError::Config(ConfigError { path, .. }) => Some(path),
            _ => None,
        }
    }

    /// Whether the error is about the node's `type` (rather than its config).
    pub fn is_about_type(&self) -> bool {
        matches!(self, PrepareError::Type(_) | PrepareError::Disabled(_))
    }
}

/// The most node types one plugin may provide. A plugin declaring more is
/// refused whole: a hostile manifest of 100,000 types must not stall start-up.
pub const MAX_NODE_TYPES: usize = 1_000;

/// Registration failed; the registry is unchanged.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// A plugin with this name (or alias) is already registered.
    #[error(
        "a plugin named `{0}` is already registered; give this one an alias \
         (`pocket plugin load FILE --alias NAME`, or `[plugins.aliases]` in pocket.toml)"
    )]
    DuplicatePlugin(String),
    /// A plugin offers two node types with one name, or an unusable name.
    #[error("plugin `{plugin}` has an invalid node type name `{node_type}`: {reason}")]
    InvalidTypeName {
        /// The plugin being registered.
        plugin: String,
        /// The offending name.
        node_type: String,
        /// Why it is invalid.
        reason: &'static str,
    },
    /// A plugin's name (or alias) is not a plain name.
    #[error("invalid plugin name `{name}`: {reason}")]
    InvalidPluginName {
        /// The offending name.
        name: String,
        /// Why it is invalid.
        reason: &'static str,
    },
    /// A plugin file's name (or alias) is one of Pocket's own plugins'
    /// ([`RESERVED_PLUGIN_NAMES`](crate::RESERVED_PLUGIN_NAMES)).
    #[error(
        "`{0}` is the name of a plugin built into Pocket, so no plugin file may be registered as `{0}`; \
         give the file another name (`pocket plugin load FILE --alias NAME`, or `[plugins.aliases]` in pocket.toml)"
    )]
    ReservedName(String),
    /// A plugin built into Pocket cannot be replaced or removed.
    #[error("`{0}` is built into Pocket: it cannot be replaced or unloaded")]
    BuiltIn(String),
    /// A plugin provides more than [`MAX_NODE_TYPES`] node types.
    #[error("plugin `{plugin}` declares {count} node types; at most {MAX_NODE_TYPES} are allowed")]
    TooManyTypes {
        /// The plugin being registered.
        plugin: String,
        /// How many it declares.
        count: usize,
    },
    /// No plugin with this name is registered.
    #[error("no plugin named `{name}` is registered{hint}")]
    UnknownPlugin {
        /// The name asked for.
        name: String,
        /// A "did you mean" hint, possibly empty.
        hint: String,
    },
}

/// The backend's own error behind a [`LoadError`].
pub type LoadCause = Box<dyn std::error::Error + Send + Sync>;

/// A plugin file could not be loaded: the file, and the backend's typed
/// error saying why (a text reason is a `String` cause).
#[derive(Debug, thiserror::Error)]
#[error("{}: {cause}", .path.display())]
pub struct LoadError {
    /// The file.
    pub path: PathBuf,
    /// Why, in words a plugin author can act on; downcast it to the
    /// backend's error type to inspect it.
    pub cause: LoadCause,
}

impl LoadError {
    /// An error about `path`, for `cause` (a backend error, or a message).
    pub fn new(path: &Path, cause: impl Into<LoadCause>) -> Self {
        LoadError {
            path: path.to_path_buf(),
            cause: cause.into(),
        }
    }

    /// Why, as text.
    pub fn reason(&self) -> String {
        self.cause.to_string()
    }
}
