//! The scaffolding every built-in node type shares.

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use pocket_core::{ConfigError, Node, NodeDescription, NodeSetup, NodeType, Value, parse_duration};

/// A built-in node type: its name, description, schema and how it binds to a node.
pub(crate) trait Builtin: Send + Sync + 'static {
    /// The type name.
    const NAME: &'static str;
    /// One-line description.
    const DESCRIPTION: &'static str;
    /// The config's JSON Schema.
    fn schema() -> serde_json::Value;
    /// Config keys the node interprets itself instead of having them rendered.
    const RAW_KEYS: &'static [&'static str] = &[];
    /// Binds the type to one workflow node.
    fn prepare(setup: &NodeSetup<'_>) -> Result<Arc<dyn Node>, ConfigError>;
}

/// Adapts a [`Builtin`] to [`NodeType`].
pub(crate) struct BuiltinType<B> {
    description: NodeDescription,
    kind: PhantomData<fn() -> B>,
}

impl<B: Builtin> BuiltinType<B> {
    pub(crate) fn shared() -> Arc<dyn NodeType> {
        Arc::new(BuiltinType::<B> {
            description: NodeDescription {
                config_schema: Some(B::schema()),
                ..NodeDescription::new(B::NAME, B::DESCRIPTION)
            },
            kind: PhantomData,
        })
    }
}

impl<B: Builtin> NodeType for BuiltinType<B> {
    fn description(&self) -> &NodeDescription {
        &self.description
    }

    fn raw_config_keys(&self) -> &[&str] {
        B::RAW_KEYS
    }

    fn prepare(&self, setup: &NodeSetup<'_>) -> Result<Arc<dyn Node>, ConfigError> {
        B::prepare(setup)
    }
}

/// A duration written as a string (`500ms`, `2s`, `1m30s`) or a number of seconds.
pub(crate) fn duration_of(value: &Value) -> Result<Duration, String> {
    match value {
        Value::String(s) => parse_duration(s),
        Value::Number(n) => Duration::try_from_secs_f64(n.as_f64()).map_err(|e| format!("invalid duration: {e}")),
        other => Err(format!(
            "a duration must be a string like `500ms` or a number of seconds, not {}",
            other.type_name()
        )),
    }
}

/// Checks the duration under config `key` before the run, unless it is a template.
pub(crate) fn check_static_duration(setup: &NodeSetup<'_>, key: &str) -> Result<(), ConfigError> {
    match setup.config_value(key) {
        Some(written) if !is_template_value(written) => duration_of(written)
            .map(drop)
            .map_err(|e| ConfigError::at(format!("/{key}"), e)),
        _ => Ok(()),
    }
}

/// The list of strings under config `key` (an allow-list), which must be
/// fixed before the run: a template in it is a config error. `None` if unset.
pub(crate) fn static_string_list(setup: &NodeSetup<'_>, key: &str) -> Result<Option<Vec<String>>, ConfigError> {
    let Some(list) = setup.config_value(key) else {
        return Ok(None);
    };
    let items = list
        .as_array()
        .map(|a| a.iter().collect::<Vec<_>>())
        .unwrap_or_default();
    if items.iter().any(|item| is_template_value(item)) {
        return Err(ConfigError::at(
            format!("/{key}"),
            format!("`{key}` cannot hold templates: it is fixed before the run"),
        ));
    }
    Ok(Some(
        items
            .iter()
            .filter_map(|item| item.as_str())
            .map(str::to_string)
            .collect(),
    ))
}

/// How deeply an input may nest for the built-in nodes that hand it to a
/// library walking it recursively (jq, jsonpath, validate).
pub(crate) const MAX_INPUT_DEPTH: usize = 10_000;

/// Stack given to such a library per level of its input.
const STACK_PER_LEVEL: usize = 16 * 1024;

/// Runs `f`, which walks `input` recursively in a library we do not control
/// (`what` names it), on a stack with room for `input`'s depth; an input
/// nested deeper than [`MAX_INPUT_DEPTH`] is refused instead of overflowing
/// the host's stack.
pub(crate) fn with_room_for<R>(
    input: &Value,
    what: &str,
    f: impl FnOnce() -> Result<R, pocket_core::NodeError>,
) -> Result<R, pocket_core::NodeError> {
    let depth = input.depth(MAX_INPUT_DEPTH);
    if depth > MAX_INPUT_DEPTH {
        return Err(pocket_core::NodeError::InvalidInput(format!(
            "the input nests more than {MAX_INPUT_DEPTH} levels deep, the most {what} accepts"
        )));
    }
    if depth < 64 {
        return f();
    }
    stacker::grow(depth * STACK_PER_LEVEL + (1 << 20), f)
}

/// Whether a config value is a string with template syntax (known only at run time).
pub(crate) fn is_template_value(value: &Value) -> bool {
    value.as_str().is_some_and(pocket_template::is_template)
}

/// The duration under config `key` of a rendered config, or `default`.
pub(crate) fn config_duration(
    config: &Value,
    key: &str,
    default: Duration,
) -> Result<Duration, pocket_core::NodeError> {
    match config.get(key).filter(|v| !v.is_null()) {
        Some(value) => duration_of(value).map_err(|e| pocket_core::NodeError::InvalidConfig(format!("`{key}`: {e}"))),
        None => Ok(default),
    }
}

/// The byte size under config `key` of a rendered config (`16MiB`, or a
/// number of bytes), or `default`.
pub(crate) fn config_size(config: &Value, key: &str, default: u64) -> Result<u64, pocket_core::NodeError> {
    let invalid = |message: String| pocket_core::NodeError::InvalidConfig(format!("`{key}`: {message}"));
    match config.get(key).filter(|v| !v.is_null()) {
        None => Ok(default),
        Some(Value::String(size)) => pocket_core::parse_size(size).map_err(invalid),
        Some(other) => other
            .as_i64()
            .and_then(|n| u64::try_from(n).ok())
            .ok_or_else(|| invalid(format!("expected a size such as `16MiB`, not {other}"))),
    }
}

/// A duration as the Go engine prints it in outputs (`1.5s`, `250ms`).
pub(crate) fn format_elapsed(elapsed: Duration) -> String {
    format!("{elapsed:?}")
}
