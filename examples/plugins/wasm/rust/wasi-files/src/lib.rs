//! `wasi-files`: a Rust plugin built for `wasm32-wasip1`, where the standard
//! library works as on any host, within the plugin's grants: `std::fs`
//! reaches the directories its `file:` (read) and `file_write:` grants name
//! and nothing else, `std::env` sees the variables its `env:` grants name,
//! `HashMap` is seeded from the host's random source, and `println!` goes to
//! the plugin's log (with the `log` grant).

use std::collections::HashMap;
use std::fs;

use pocket_pdk::serde_json::{Value, json};
use serde::Deserialize;

#[derive(Deserialize)]
struct PathConfig {
    path: String,
}

#[derive(Deserialize)]
struct TopConfig {
    #[serde(default = "default_count")]
    count: usize,
}

fn default_count() -> usize {
    3
}

#[derive(Deserialize)]
struct EnvConfig {
    name: String,
}

/// The input's text: a string, or an object's `text` field.
fn text_of(input: &Value) -> Result<&str, String> {
    match input {
        Value::String(text) => Ok(text),
        Value::Object(fields) => fields
            .get("text")
            .and_then(Value::as_str)
            .ok_or_else(|| "input has no string field `text`".to_string()),
        _ => Err("input is neither a string nor an object with `text`".into()),
    }
}

/// The most frequent words of the text, most frequent first (ties in
/// alphabetical order).
fn top_words(input: Value, config: TopConfig) -> Result<Value, String> {
    let mut counts: HashMap<String, u64> = HashMap::new();
    for word in text_of(&input)?
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 3)
    {
        *counts.entry(word.to_lowercase()).or_default() += 1;
    }
    let mut ranked: Vec<(String, u64)> = counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    ranked.truncate(config.count);
    println!("top-words: {} distinct words kept", ranked.len());
    Ok(ranked
        .into_iter()
        .map(|(word, count)| json!({ "word": word, "count": count }))
        .collect())
}

/// The file at `path`, as text.
fn read_text(_input: Value, config: PathConfig) -> Result<Value, String> {
    let text = fs::read_to_string(&config.path).map_err(|e| format!("{}: {e}", config.path))?;
    println!("read {} bytes from {}", text.len(), config.path);
    Ok(json!({ "path": config.path, "text": text, "lines": text.lines().count() }))
}

/// The entries of the directory at `path`, by name.
fn list_dir(_input: Value, config: PathConfig) -> Result<Value, String> {
    let failed = |e: std::io::Error| format!("{}: {e}", config.path);
    let mut entries = Vec::new();
    for entry in fs::read_dir(&config.path).map_err(failed)? {
        let entry = entry.map_err(failed)?;
        let kind = match entry.file_type().map_err(failed)? {
            kind if kind.is_dir() => "dir",
            kind if kind.is_file() => "file",
            kind if kind.is_symlink() => "symlink",
            _ => "other",
        };
        entries.push((entry.file_name().to_string_lossy().into_owned(), kind));
    }
    entries.sort();
    let entries: Vec<Value> = entries
        .into_iter()
        .map(|(name, kind)| json!({ "name": name, "kind": kind }))
        .collect();
    Ok(json!({ "path": config.path, "entries": entries }))
}

/// Writes the input's text to the file at `path` (needs `file_write:`).
fn write_text(input: Value, config: PathConfig) -> Result<Value, String> {
    let text = text_of(&input)?;
    fs::write(&config.path, text).map_err(|e| format!("{}: {e}", config.path))?;
    Ok(json!({ "path": config.path, "bytes": text.len() }))
}

/// The environment variable `name` (`null` unless an `env:` grant names it).
fn env_var(_input: Value, config: EnvConfig) -> Result<Value, String> {
    Ok(json!({ "name": config.name, "value": std::env::var(&config.name).ok() }))
}

/// Returns the input unchanged (the benchmark's payload).
fn echo(input: Value, _config: Value) -> Result<Value, String> {
    Ok(input)
}

pocket_pdk::plugin! {
    name: "wasi-files",
    version: "1.0.0",
    description: "Rust on wasm32-wasip1: std files, environment and println! under the plugin's grants",
    author: "Pocket examples",
    // What it may be given; pocket.toml decides what it gets.
    permissions: ["log", "file_write:*", "env:*"],
    nodes: [
        {
            type: "top-words",
            description: "The most frequent words (longer than 3 letters) of a text",
            config_schema: {
                "type": "object",
                "properties": { "count": { "type": "integer", "minimum": 1, "default": 3 } }
            },
            examples: [
                { "input": "Tea time, tea cups, more TEA and more cups", "output": [
                    { "word": "cups", "count": 2 }, { "word": "more", "count": 2 }, { "word": "time", "count": 1 }
                ] },
                { "input": {"text": "alpha beta alpha"}, "config": {"count": 1}, "output": [{ "word": "alpha", "count": 2 }] },
                { "input": 7, "error": "neither a string nor an object" },
            ],
            run: top_words,
        },
        {
            type: "read-text",
            description: "Reads a text file beneath a directory a `file:` grant names",
            config_schema: {
                "type": "object",
                "required": ["path"],
                "properties": { "path": { "type": "string" } }
            },
            examples: [
                { "config": {"path": "/etc/hostname"}, "error": "/etc/hostname" },
            ],
            run: read_text,
        },
        {
            type: "list-dir",
            description: "Lists a directory a `file:` grant names",
            config_schema: {
                "type": "object",
                "required": ["path"],
                "properties": { "path": { "type": "string" } }
            },
            run: list_dir,
        },
        {
            type: "write-text",
            description: "Writes the input's text to a file beneath a directory a `file_write:` grant names",
            config_schema: {
                "type": "object",
                "required": ["path"],
                "properties": { "path": { "type": "string" } }
            },
            run: write_text,
        },
        {
            type: "env-var",
            description: "An environment variable, if an `env:` grant names it",
            config_schema: {
                "type": "object",
                "required": ["name"],
                "properties": { "name": { "type": "string" } }
            },
            run: env_var,
        },
        { type: "echo", description: "Returns its input", run: echo },
    ],
}
