//! `text-stats`: counts words in a text field and routes on the count.

use pocket_pdk::Routed;
use pocket_pdk::serde_json::{Map, Value};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
#[serde(default)]
struct CountConfig {
    field: String,
}

impl Default for CountConfig {
    fn default() -> Self {
        CountConfig { field: "text".into() }
    }
}

#[derive(Serialize)]
struct Counts {
    words: usize,
    chars: usize,
    lines: usize,
}

/// Counts the words, characters and lines of the input's `field` (a string input is used as is).
fn word_stats(input: Value, config: CountConfig) -> Result<Counts, String> {
    let text = match &input {
        Value::String(text) => text.as_str(),
        Value::Object(object) => object
            .get(&config.field)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("input has no string field `{}`", config.field))?,
        other => return Err(format!("expected a string or an object, got {other}")),
    };
    Ok(Counts {
        words: text.split_whitespace().count(),
        chars: text.chars().count(),
        lines: text.lines().count(),
    })
}

#[derive(Deserialize)]
struct ClassifyConfig {
    threshold: u64,
}

/// Passes the input on, taking action `long` when its `words` reach the threshold, else `short`.
fn classify_length(input: Map<String, Value>, config: ClassifyConfig) -> Result<Routed<Map<String, Value>>, String> {
    let words = input.get("words").and_then(Value::as_u64).ok_or("input has no `words` count")?;
    let action = if words >= config.threshold { "long" } else { "short" };
    Ok(Routed::new(input, action))
}

pocket_pdk::plugin! {
    name: "text-stats",
    version: "1.0.0",
    description: "Word counts and length routing (Rust, pocket-pdk)",
    author: "Pocket examples",
    nodes: [
        {
            type: "word-stats",
            description: "Counts words, characters and lines of a text field",
            config_schema: {
                "type": "object",
                "properties": { "field": { "type": "string", "default": "text" } }
            },
            examples: [
                { "input": {"text": "one two\nthree"}, "output": {"words": 3, "chars": 13, "lines": 2} },
                { "input": "a b", "output": {"words": 2, "chars": 3, "lines": 1} },
                { "input": {"body": "x"}, "error": "input has no string field `text`" },
            ],
            run: word_stats,
        },
        {
            type: "classify-length",
            description: "Routes `long` or `short` by the input's word count",
            config_schema: {
                "type": "object",
                "properties": { "threshold": { "type": "integer", "minimum": 0, "default": 10 } }
            },
            examples: [
                { "input": {"words": 12}, "output": {"words": 12}, "action": "long" },
                { "input": {"words": 3}, "config": {"threshold": 5}, "output": {"words": 3}, "action": "short" },
            ],
            run: classify_length,
        },
    ],
}
