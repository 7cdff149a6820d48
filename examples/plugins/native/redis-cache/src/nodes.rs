//! The node types: `redis-get`, `redis-set`, `redis-del`.

use pocket_native_sdk::{Call, Error, NodeType, Output, Plugin, Setup, Value};

use crate::connection::{Pool, Settings};

/// The plugin's description and node types.
pub fn plugin() -> Plugin {
    Plugin::new("redis-cache", env!("CARGO_PKG_VERSION"))
        .description("Get, set and delete Redis keys (cache-aside)")
        .author("Pocket examples")
        // Its `password` key looks secret: pocket.toml grants it, or it never arrives.
        .permissions(["config:password"])
        .node(
            NodeType::prepared(
                "redis-get",
                "Reads `key`: action `found` with the value, or `not_found` with the input",
                |setup| prepare(setup, get),
            )
            .config_schema(schema("")),
        )
        .node(
            NodeType::prepared(
                "redis-set",
                "Stores `value` (default: the input) under `key`",
                |setup| prepare(setup, set),
            )
            .config_schema(schema(r#","value":{},"ttl":{"type":"integer","minimum":1}"#)),
        )
        .node(
            NodeType::prepared("redis-del", "Deletes `key`; outputs {key, deleted}", |setup| {
                prepare(setup, del)
            })
            .config_schema(schema("")),
        )
}

type Body = fn(&Pool, Call<'_>) -> Result<Output, Error>;

/// Reads the connection settings once per workflow node; the body then
/// shares one pool of connections across that node's calls.
fn prepare(setup: &Setup, body: Body) -> Result<impl Fn(Call<'_>) -> Result<Output, Error> + use<>, Error> {
    let pool = Pool::new(Settings::from_config(&setup.plugin_config)?);
    Ok(move |call: Call<'_>| body(&pool, call))
}

/// `redis-get`.
fn get(pool: &Pool, call: Call) -> Result<Output, Error> {
    let key = key(&call.config)?;
    let stored: Option<String> = pool.query(redis::cmd("GET").arg(key))?;
    Ok(match stored {
        Some(text) => Output::new(decode(text, Format::of(&call.config)?)).with_action("found"),
        None => Output::new(call.input).with_action("not_found"),
    })
}

/// `redis-set`.
fn set(pool: &Pool, call: Call) -> Result<Output, Error> {
    let key = key(&call.config)?;
    let value = match call.config.get("value") {
        Some(value) => value.clone(),
        None => call.input.clone(),
    };
    let text = encode(&value, Format::of(&call.config)?)?;
    let mut command = redis::cmd("SET");
    command.arg(key).arg(text);
    if let Some(ttl) = call.config.get("ttl").filter(|t| !t.is_null()) {
        let seconds = ttl
            .as_i64()
            .filter(|s| *s > 0)
            .ok_or_else(|| Error::invalid_config(format!("`ttl` must be a positive number of seconds, not {ttl}")))?;
        command.arg("EX").arg(seconds);
    }
    pool.query::<()>(&command)?;
    Ok(Output::new(value))
}

/// `redis-del`.
fn del(pool: &Pool, call: Call) -> Result<Output, Error> {
    let key = key(&call.config)?;
    let removed: i64 = pool.query(redis::cmd("DEL").arg(key))?;
    Ok(Output::new(Value::object([
        ("key", Value::from(key)),
        ("deleted", Value::from(removed > 0)),
    ])))
}

/// How values are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// JSON text: any value round-trips.
    Json,
    /// Strings as they are.
    Text,
}

impl Format {
    fn of(config: &Value) -> Result<Format, Error> {
        match config.get("format").and_then(Value::as_str) {
            None | Some("json") => Ok(Format::Json),
            Some("text") => Ok(Format::Text),
            Some(other) => Err(Error::invalid_config(format!(
                "`format` must be `json` or `text`, not `{other}`"
            ))),
        }
    }
}

fn encode(value: &Value, format: Format) -> Result<String, Error> {
    match (format, value) {
        (Format::Json, value) => Ok(value.to_json()),
        (Format::Text, Value::String(s)) => Ok(s.to_string()),
        (Format::Text, other) => Err(Error::invalid_input(format!(
            "`format: text` stores strings; the value is {}",
            other.type_name()
        ))),
    }
}

/// The stored text as a value: JSON when it parses (`format: json`), else the text.
fn decode(text: String, format: Format) -> Value {
    match format {
        Format::Json => Value::from_json(&text).unwrap_or_else(|_| Value::from(text)),
        Format::Text => Value::from(text),
    }
}

fn key(config: &Value) -> Result<&str, Error> {
    config
        .get("key")
        .and_then(Value::as_str)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| Error::invalid_config("`key` must be a non-empty string"))
}

/// A config schema with `key` (required), `format`, and `extra` JSON
/// Schema properties (text that continues the `properties` object).
fn schema(extra: &str) -> Value {
    let text = format!(
        r#"{{"type":"object","required":["key"],"properties":{{
            "key":{{"type":"string","description":"The Redis key (templates allowed)"}},
            "format":{{"enum":["json","text"],"default":"json"}}{extra}}}}}"#
    );
    Value::from_json(&text).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_values_round_trip_and_foreign_text_stays_text() {
        let value = Value::from_json(r#"{"id":7,"name":"Ada"}"#).unwrap();
        let text = encode(&value, Format::Json).unwrap();
        assert_eq!(decode(text, Format::Json), value);
        assert_eq!(decode("plain words".into(), Format::Json), Value::from("plain words"));
        assert_eq!(decode("42".into(), Format::Text), Value::from("42"));
    }

    #[test]
    fn every_schema_is_valid_json() {
        assert!(schema("").get("properties").is_some());
        assert!(
            schema(r#","ttl":{"type":"integer"}"#)
                .get("properties")
                .and_then(|p| p.get("ttl"))
                .is_some()
        );
    }

    #[test]
    fn text_format_refuses_non_strings() {
        let error = encode(&Value::from(1), Format::Text).unwrap_err();
        assert!(error.to_string().contains("stores strings"), "{error}");
    }
}
