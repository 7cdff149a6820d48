//! Reading workflow files: YAML, JSON or TOML, chosen by file extension.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use pocket_value::Value;

use crate::config_positions::ConfigPlaces;
use crate::location::{Position, location_prefix};
use crate::workflow::WorkflowFile;
use crate::yaml_duplicates;

/// A workflow file's syntax (`yaml`, `json`, `toml` when serialized).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// `.yaml`, `.yml`, and anything without a known extension.
    Yaml,
    /// `.json`.
    Json,
    /// `.toml`.
    Toml,
}

impl Format {
    /// The format a path's extension names; YAML when it names none we know.
    pub fn of_path(path: &Path) -> Format {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("json") => Format::Json,
            Some("toml") => Format::Toml,
            _ => Format::Yaml,
        }
    }
}

/// A workflow file could not be read or parsed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}{message}", location_prefix(.file.as_deref(), *.position))]
pub struct ParseError {
    /// The file, if parsing one.
    pub file: Option<PathBuf>,
    /// Where in it, if known.
    pub position: Option<Position>,
    /// What is wrong.
    pub message: String,
}

/// Reads and parses a workflow file.
pub fn parse_file(path: &Path) -> Result<WorkflowFile, ParseError> {
    parse_source(path, &read_workflow(path)?)
}

/// The text of the workflow file at `path`.
pub fn read_workflow(path: &Path) -> Result<String, ParseError> {
    std::fs::read_to_string(path).map_err(|e| ParseError {
        file: Some(path.to_path_buf()),
        position: None,
        message: format!("cannot read workflow file: {e}"),
    })
}

/// Parses `text`, read from the workflow file at `path`, as [`parse_file`]
/// does: the format follows the file's extension, and errors name the file.
pub fn parse_source(path: &Path, text: &str) -> Result<WorkflowFile, ParseError> {
    let mut workflow = parse_str(text, Format::of_path(path)).map_err(|e| ParseError {
        file: Some(path.to_path_buf()),
        ..e
    })?;
    workflow.source = Some(path.to_path_buf());
    Ok(workflow)
}

/// Parses workflow text in the given format.
pub fn parse_str(text: &str, format: Format) -> Result<WorkflowFile, ParseError> {
    let error = |position: Option<Position>, message: String| ParseError {
        file: None,
        position,
        message,
    };
    let mut workflow: WorkflowFile = match format {
        Format::Yaml => from_yaml(text)?,
        Format::Json => {
            let mut de = serde_json::Deserializer::from_str(text);
            de.disable_recursion_limit();
            let parsed = serde::Deserialize::deserialize(&mut de).and_then(|w| de.end().map(|()| w));
            parsed.map_err(|e| {
                let position = (e.line() > 0).then(|| Position::new(e.line(), e.column()));
                error(position, strip_json_position(&e.to_string()))
            })?
        }
        Format::Toml => toml::from_str(text).map_err(|e| {
            let position = e.span().map(|s| Position::of_offset(text, s.start));
            error(position, e.message().to_string())
        })?,
    };
    if format == Format::Yaml {
        workflow.config_places = ConfigPlaces::yaml(text);
    } else {
        place_by_first_mention(text, &mut workflow);
    }
    Ok(workflow)
}

/// YAML as the Go engine reads it (YAML 1.2: only `true`/`false` are
/// booleans, so `yes`/`no`/`on`/`off` stay strings), with serde-saphyr's
/// limits against alias bombs.
fn from_yaml<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, ParseError> {
    let mut options = serde_saphyr::Options::default();
    options.strict_booleans = true;
    serde_saphyr::from_str_with_options(text, options).map_err(|e| {
        let position = e
            .location()
            .filter(|l| l.line() > 0)
            .map(|l| Position::new(l.line(), l.column()));
        let message = match yaml_duplicates::duplicate_key(&e) {
            Some((key, second)) => duplicate_key_message(key, yaml_duplicates::first_writing(text, second)),
            None => yaml_message(&e),
        };
        ParseError {
            file: None,
            position,
            message,
        }
    })
}

/// A key written twice in one mapping, in Pocket's words: YAML keeps one
/// value per key, and which one a reader keeps differs between tools.
fn duplicate_key_message(key: Option<&str>, first: Option<Position>) -> String {
    let key = key.map_or_else(|| "a key".to_string(), |k| format!("key `{k}`"));
    let first = first.map_or_else(String::new, |p| format!(" (first written at line {})", p.line));
    format!("{key} is written twice in the same mapping{first}; keep one of them")
}

/// Parses a YAML document into a [`Value`], with the workflow parser's rules.
pub fn parse_yaml_value(text: &str) -> Result<Value, ParseError> {
    from_yaml(text)
}

/// serde-saphyr's message without its own location suffix and source snippet
/// (we print the location ourselves, in `file:line:column` form).
fn yaml_message(e: &serde_saphyr::Error) -> String {
    let full = e.to_string();
    let first = full.lines().next().unwrap_or_default();
    match first.rfind(" at line ") {
        Some(i) => first[..i].to_string(),
        None => first.to_string(),
    }
}

/// serde_json appends " at line L column C"; we report the position separately.
fn strip_json_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// JSON and TOML parsers do not report where values are, so node names get
/// the position where that name is first written as the string after a
/// `name` key (and `start` after a `start` key). One pass over the text per
/// key, whatever the number of nodes.
fn place_by_first_mention(text: &str, workflow: &mut WorkflowFile) {
    let names = first_mentions(text, "name");
    for node in &mut workflow.nodes {
        if let Some(&position) = names.get(node.name.value.as_str()) {
            node.name.position = Some(position);
        }
    }
    if let Some(start) = &mut workflow.start
        && let Some(&position) = first_mentions(text, "start").get(start.value.as_str())
    {
        start.position = Some(position);
    }
}

/// Where each string written right after `key` (`"key": "value"` in JSON,
/// `key = "value"` or `key = 'value'` in TOML) first appears.
fn first_mentions<'t>(text: &'t str, key: &str) -> HashMap<&'t str, Position> {
    let mut found = HashMap::new();
    for (index, line) in text.lines().enumerate() {
        let mut search = 0;
        while let Some(at) = line[search..].find(key) {
            let at = search + at;
            search = at + key.len();
            let stands_alone = !line[..at].ends_with(is_word_char) && !line[search..].starts_with(is_word_char);
            if let Some((quote, value)) = stands_alone.then(|| value_after_key(&line[search..])).flatten() {
                let column = line[..search + quote].chars().count() + 1;
                found.entry(value).or_insert(Position {
                    line: u32::try_from(index + 1).unwrap_or(u32::MAX),
                    column: u32::try_from(column).unwrap_or(u32::MAX),
                });
            }
        }
    }
    found
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-'
}

/// After a key: an optional closing `"` (JSON), `:` or `=`, then a quoted
/// string. Returns the offset of its opening quote and its raw contents.
fn value_after_key(rest: &str) -> Option<(usize, &str)> {
    let after_quote = rest.strip_prefix('"').unwrap_or(rest);
    let trimmed = after_quote.trim_start();
    let after_sign = trimmed.strip_prefix(':').or_else(|| trimmed.strip_prefix('='))?;
    let value = after_sign.trim_start();
    let quote = value.chars().next().filter(|&c| c == '"' || c == '\'')?;
    let body = &value[1..];
    let body = &body[..body.find(quote)?];
    Some((rest.len() - value.len(), body))
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML: &str = "name: demo\nstart: a\nnodes:\n  - name: a\n    type: echo\n  - name: b\n    type: router\n    config: { route: x }\nconnections:\n  - from: a\n    to: b\n    when: ok\n";

    #[test]
    fn yaml_nodes_carry_their_line_numbers() {
        let wf = parse_str(YAML, Format::Yaml).unwrap();
        assert_eq!(wf.nodes[1].name.position.unwrap().line, 6);
        assert_eq!(wf.nodes[1].node_type.value, "router");
        assert_eq!(wf.connections[0].when.as_deref(), Some("ok"));
    }

    #[test]
    fn json_and_toml_read_the_same_model() {
        let json = r#"{"name": "demo", "start": "a",
  "nodes": [
    {"name": "a", "type": "echo"}
  ]}"#;
        let wf = parse_str(json, Format::Json).unwrap();
        assert_eq!(wf.nodes[0].name.position.unwrap().line, 3);
        let toml = "name = \"demo\"\nstart = \"a\"\n[[nodes]]\nname = \"a\"\ntype = \"echo\"\n";
        let wf = parse_str(toml, Format::Toml).unwrap();
        assert_eq!(wf.nodes[0].name.position.unwrap().line, 4);
    }

    #[test]
    fn json_node_positions_name_line_and_column_of_the_name() {
        let json = "{\"name\": \"demo\", \"start\": \"b\", \"nodes\": [\n  {\"type\": \"echo\", \"name\": \"b\"},\n  {\"description\": \"name\", \"name\":\"c\", \"type\": \"echo\"}]}";
        let wf = parse_str(json, Format::Json).unwrap();
        assert_eq!(wf.nodes[0].name.position, Some(Position { line: 2, column: 28 }));
        assert_eq!(wf.nodes[1].name.position, Some(Position { line: 3, column: 34 }));
        assert_eq!(wf.start.unwrap().position.map(|p| p.line), Some(1));
    }

    #[test]
    fn a_large_json_workflow_is_placed_in_one_pass() {
        // 20,000 nodes: placing each by searching from the top took minutes.
        let nodes: Vec<String> = (0..20_000)
            .map(|i| format!("    {{\n      \"name\": \"n{i}\",\n      \"type\": \"echo\"\n    }}"))
            .collect();
        let json = format!(
            "{{\n  \"name\": \"big\",\n  \"start\": \"n0\",\n  \"nodes\": [\n{}\n  ]\n}}",
            nodes.join(",\n")
        );
        let wf = parse_str(&json, Format::Json).unwrap();
        assert_eq!(wf.nodes[19_999].name.position.map(|p| p.line), Some(5 + 19_999 * 4 + 1));
    }

    #[test]
    fn bad_yaml_reports_line_and_column() {
        let err = parse_str("name: demo\nnodes:\n  - name: a\n   type: [\n", Format::Yaml).unwrap_err();
        assert!(err.position.is_some(), "{err}");
    }

    #[test]
    fn unknown_keys_are_rejected_with_their_location() {
        let err = parse_str("name: demo\nconections: []\n", Format::Yaml).unwrap_err();
        assert!(err.message.contains("conections"), "{}", err.message);
        assert_eq!(err.position.map(|p| p.line), Some(2));
    }

    #[test]
    fn a_duplicate_yaml_key_names_both_lines_in_pockets_words() {
        let yaml = "name: demo\nnodes:\n  - name: a\n    type: echo\n    config:\n      x: 1\n      y: 2\n      x: 3\n";
        let err = parse_str(yaml, Format::Yaml).unwrap_err();
        assert_eq!(err.position.map(|p| p.line), Some(8), "{err}");
        assert_eq!(
            err.message,
            "key `x` is written twice in the same mapping (first written at line 6); keep one of them"
        );
        assert!(!err.message.contains("DuplicateKeyPolicy"), "{err}");

        let flow = "name: demo\nnodes:\n  - { name: a, type: echo, name: b }\n";
        let err = parse_str(flow, Format::Yaml).unwrap_err();
        assert!(err.message.starts_with("key `name` is written twice"), "{err}");
        assert!(err.message.contains("first written at line 3"), "{err}");
    }

    #[test]
    fn bad_json_reports_line() {
        let err = parse_str("{\n\"name\": }", Format::Json).unwrap_err();
        assert_eq!(err.position.map(|p| p.line), Some(2));
        assert!(!err.message.contains("at line"));
    }

    #[test]
    fn format_follows_the_extension() {
        assert_eq!(Format::of_path(Path::new("a/b.JSON")), Format::Json);
        assert_eq!(Format::of_path(Path::new("b.toml")), Format::Toml);
        assert_eq!(Format::of_path(Path::new("b.yml")), Format::Yaml);
    }
}
