//! `native-text`: fast string nodes as a native Pocket plugin (a `cdylib`
//! built against `pocket-native-sdk`). Every node reads a string field of its
//! input (`field`, default `text`) and returns the input with that field
//! replaced, so nodes chain: `text-trim` -> `text-lower` -> `text-replace`.
//!
//! The plugin is named `native-text` (not `text-tools`) so that it can be
//! loaded beside the Lua example plugin of that name.
//!
//! The node functions are public so that benchmarks can call them directly
//! and compare with a call through the plugin boundary.

use pocket_native_sdk::{Call, Error, NodeType, Output, Plugin, Value};

/// The plugin's description and node types.
pub fn plugin() -> Plugin {
    Plugin::new("native-text", env!("CARGO_PKG_VERSION"))
        .description("Fast string nodes: case, trim, reverse, replace, length, contains")
        .author("Pocket examples")
        .node(
            NodeType::new("text-upper", "Upper-cases input[field]", upper)
                .config_schema(field_schema(&[]))
                .example(text("straße"), Value::empty_object(), text("STRASSE")),
        )
        .node(NodeType::new("text-lower", "Lower-cases input[field]", lower).config_schema(field_schema(&[])))
        .node(NodeType::new("text-trim", "Trims whitespace around input[field]", trim).config_schema(field_schema(&[])))
        .node(
            NodeType::new("text-reverse", "Reverses input[field], character by character", reverse)
                .config_schema(field_schema(&[])),
        )
        .node(
            NodeType::new(
                "text-replace",
                "Replaces every `from` in input[field] with `to`",
                replace,
            )
            .config_schema(field_schema(&[("from", "string"), ("to", "string")]))
            .example(text("a-b-c"), replacing("-", "+"), text("a+b+c"))
            .failing_example(text("abc"), replacing("", "x"), "`from` must not be empty"),
        )
        .node(
            NodeType::new(
                "text-length",
                "Adds `length`: the number of characters in input[field]",
                length,
            )
            .config_schema(field_schema(&[])),
        )
        .node(
            NodeType::new(
                "text-contains",
                "Action `match` when input[field] contains `pattern`, else `no_match`",
                contains,
            )
            .config_schema(field_schema(&[("pattern", "string")])),
        )
}

pocket_native_sdk::export_plugin!(plugin);

/// `{"text": text}`, an example input or output.
fn text(text: &str) -> Value {
    Value::object([("text", Value::from(text))])
}

/// `{"from": from, "to": to}`, an example config of `text-replace`.
fn replacing(from: &str, to: &str) -> Value {
    Value::object([("from", Value::from(from)), ("to", Value::from(to))])
}

/// `text-upper`.
pub fn upper(call: Call) -> Result<Output, Error> {
    map_text(call, |text, _| Ok(text.to_uppercase()))
}

/// `text-lower`.
pub fn lower(call: Call) -> Result<Output, Error> {
    map_text(call, |text, _| Ok(text.to_lowercase()))
}

/// `text-trim`.
pub fn trim(call: Call) -> Result<Output, Error> {
    map_text(call, |text, _| Ok(text.trim().to_string()))
}

/// `text-reverse`.
pub fn reverse(call: Call) -> Result<Output, Error> {
    map_text(call, |text, _| Ok(text.chars().rev().collect()))
}

/// `text-replace`.
pub fn replace(call: Call) -> Result<Output, Error> {
    map_text(call, |text, config| {
        let from = required(config, "from")?;
        if from.is_empty() {
            return Err(Error::invalid_config("`from` must not be empty"));
        }
        Ok(text.replace(from, config.get("to").and_then(Value::as_str).unwrap_or("")))
    })
}

/// `text-length`.
pub fn length(call: Call) -> Result<Output, Error> {
    let count = text_of(&call)?.chars().count();
    Ok(Output::new(with_field(call.input, "length", Value::from(count))))
}

/// `text-contains`.
pub fn contains(call: Call) -> Result<Output, Error> {
    let found = text_of(&call)?.contains(required(&call.config, "pattern")?);
    Ok(Output::new(call.input).with_action(if found { "match" } else { "no_match" }))
}

/// The config schema: `field` plus the given required string keys.
fn field_schema(required_keys: &[(&str, &str)]) -> Value {
    let mut properties = vec![(
        "field",
        Value::object([
            ("type", Value::from("string")),
            ("default", Value::from("text")),
            ("description", Value::from("The input field holding the text")),
        ]),
    )];
    properties.extend(
        required_keys
            .iter()
            .map(|(key, kind)| (*key, Value::object([("type", Value::from(*kind))]))),
    );
    let required: Vec<Value> = required_keys
        .iter()
        .filter(|(key, _)| *key != "to")
        .map(|(key, _)| Value::from(*key))
        .collect();
    Value::object([
        ("type", Value::from("object")),
        ("properties", Value::object(properties)),
        ("required", Value::array(required)),
    ])
}

/// The config's `field`, `text` when unset.
fn field_name(config: &Value) -> &str {
    config.get("field").and_then(Value::as_str).unwrap_or("text")
}

fn text_of<'a>(call: &'a Call<'_>) -> Result<&'a str, Error> {
    let field = field_name(&call.config);
    call.input
        .get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| Error::invalid_input(format!("input.{field} must be a string")))
}

fn required<'a>(config: &'a Value, key: &str) -> Result<&'a str, Error> {
    config
        .get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| Error::invalid_config(format!("`{key}` must be a string")))
}

/// Replaces input[field] with `f` of its text.
fn map_text(call: Call, f: impl FnOnce(&str, &Value) -> Result<String, Error>) -> Result<Output, Error> {
    let result = f(text_of(&call)?, &call.config)?;
    let field = field_name(&call.config).to_string();
    Ok(Output::new(with_field(call.input, &field, Value::from(result))))
}

/// `input` (an object) with `key` set to `value`.
fn with_field(input: Value, key: &str, value: Value) -> Value {
    match input {
        Value::Object(mut object) => {
            object.make_mut().insert(key.to_string(), value);
            Value::Object(object)
        }
        _ => Value::object([(key, value)]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(input: &str, config: &str) -> Call<'static> {
        Call::detached(Value::from_json(input).unwrap(), Value::from_json(config).unwrap())
    }

    #[test]
    fn nodes_replace_the_configured_field() {
        let out = upper(call(r#"{"name":"ada","n":1}"#, r#"{"field":"name"}"#)).unwrap();
        assert_eq!(out.value.to_json(), r#"{"name":"ADA","n":1}"#);
        let out = replace(call(r#"{"text":"a-b-c"}"#, r#"{"from":"-","to":"+"}"#)).unwrap();
        assert_eq!(out.value.to_json(), r#"{"text":"a+b+c"}"#);
    }

    #[test]
    fn contains_routes_by_action() {
        let out = contains(call(r#"{"text":"hello"}"#, r#"{"pattern":"ell"}"#)).unwrap();
        assert_eq!(out.action.as_deref(), Some("match"));
        let out = contains(call(r#"{"text":"hello"}"#, r#"{"pattern":"x"}"#)).unwrap();
        assert_eq!(out.action.as_deref(), Some("no_match"));
    }

    #[test]
    fn a_missing_field_is_an_input_error() {
        let error = length(call(r#"{"other":1}"#, "{}")).unwrap_err();
        assert_eq!(error.to_string(), "input.text must be a string");
    }
}
