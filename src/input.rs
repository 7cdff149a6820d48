//! The run's input: `--input JSON|@file` and `--set key=value`.

use anyhow::{Context, bail};
use pocket_core::Value;

/// Builds the input from `--input` and then applies each `--set`.
pub fn build(input: Option<&str>, sets: &[String]) -> anyhow::Result<Value> {
    let mut value = match input {
        None => Value::empty_object(),
        Some(text) => match text.strip_prefix('@') {
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| format!("cannot read --input file {path}"))?;
                Value::from_json(&text).with_context(|| format!("--input file {path} is not valid JSON"))?
            }
            None => Value::from_json(text).context("--input is not valid JSON (use @file to read a file)")?,
        },
    };
    for set in sets {
        let Some((key, raw)) = set.split_once('=') else {
            bail!("--set `{set}` is not KEY=VALUE");
        };
        let parsed = Value::from_json(raw).unwrap_or_else(|_| Value::from(raw));
        value = set_path(value, &key.split('.').collect::<Vec<_>>(), parsed)
            .with_context(|| format!("--set `{set}`: the input is not an object at `{key}`"))?;
    }
    Ok(value)
}

/// `value` with `path` (nested object keys) set to `new`; objects are created
/// along the way. Fails if the path crosses a non-object.
fn set_path(value: Value, path: &[&str], new: Value) -> anyhow::Result<Value> {
    let Some((first, rest)) = path.split_first() else {
        return Ok(new);
    };
    let mut object = match value {
        Value::Object(o) => o,
        Value::Null => Default::default(),
        other => bail!("found {}", other.type_name()),
    };
    let child = object.get(first).cloned().unwrap_or_default();
    let updated = set_path(child, rest, new)?;
    object.make_mut().insert(first.to_string(), updated);
    Ok(Value::Object(object))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_nest_and_parse_json_values() {
        let v = build(Some(r#"{"a": 1}"#), &["b.c=2".into(), "d=text".into(), "e=true".into()]).unwrap();
        assert_eq!(
            v,
            Value::from_json(r#"{"a": 1, "b": {"c": 2}, "d": "text", "e": true}"#).unwrap()
        );
    }

    #[test]
    fn bad_input_is_a_clear_error() {
        assert!(
            build(Some("{"), &[])
                .unwrap_err()
                .to_string()
                .contains("--input is not valid JSON")
        );
        assert!(build(None, &["novalue".into()]).is_err());
        assert!(build(Some("[1]"), &["a=1".into()]).is_err());
    }
}
