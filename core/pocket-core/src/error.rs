//! The errors of preparing a node, from the narrowest (a node type refusing
//! its config) to the whole pipeline's ([`PrepareError`]).

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
