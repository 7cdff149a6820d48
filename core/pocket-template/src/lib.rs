//! Go `text/template` semantics over Pocket values.
//!
//! Workflow files written for the Go Pocket engine put templates in node
//! configs: `"user:{{.user_id}}"`, `{{if gt .score 0.8}}high{{else}}low{{end}}`,
//! `{{range $k, $v := .items}}{{$k}}={{$v}}{{end}}`. This crate parses such a
//! template once ([`Template::parse`]) and evaluates it many times against a
//! borrowed [`Value`] ([`Template::render`], [`Template::evaluate`]) without
//! copying the data: field access, `range` and function calls clone values,
//! which is O(1) for Pocket's `Arc`-shared values.
//!
//! # What it supports
//!
//! - Text, actions, comments `{{/* */}}`, trim markers `{{- ` and ` -}}`.
//! - Pipelines: `.`, `.a.b`, `$`, `$x.a`, `(pipeline).a`, `|`, literals
//!   (strings with Go escapes, raw strings, ints, floats, chars, `true`,
//!   `false`, `nil`), variables declared with `:=` and assigned with `=`,
//!   scoped as in Go.
//! - `if` / `else if` / `else`, `with` / `else with` / `else`, and `range`
//!   over arrays, objects (in sorted key order), integers and null, with
//!   `{{else}}`, `{{break}}` and `{{continue}}`.
//! - Named templates: `{{define "name"}}..{{end}}` (at the top level, once
//!   per name), `{{template "name" pipeline}}` (dot is the pipeline's value,
//!   or null without one) and `{{block "name" pipeline}}..{{end}}` (define and
//!   call in one). A template may call itself: calls nest at most
//!   [`MAX_TEMPLATE_CALLS`] deep and number at most that many per render.
//! - Go's functions `and or not len index slice eq ne lt le gt ge print
//!   println printf html js urlquery`, with Go's `fmt` verbs for `printf`.
//! - Extensions used by Pocket workflows: `toJson` (compact JSON), `lower`,
//!   `upper`, `trim` (surrounding whitespace), `contains s substr`,
//!   `replace s old new`, `split s sep` (an array) and `join array sep`.
//!
//! # What it does not do
//!
//! - Methods, custom functions or custom delimiters.
//! - Go's `map[..]` and `[..]` output: arrays and objects print as compact
//!   JSON, which is what a workflow author wants to pass on.
//! - Go's type errors between numbers and between kinds: numbers compare and
//!   format by value whether stored as int or float (JSON has one number
//!   type), `eq`/`ne` on values of different kinds are simply unequal, and
//!   `eq` compares arrays and objects by content.
//! - Floats print in plain decimal between 1e-6 and 1e21 (`1500000`, not
//!   Go's `1.5e+06`); outside that range they print as Go does (`1e+21`).
//! - Some mistakes Go reports late or not at all are parse errors here: a
//!   variable used or assigned outside its scope, and a pipeline ending in `|`.
//!
//! `{{if}}`, `{{with}}`, `{{range}}` and parentheses nest at most 256 deep; a
//! deeper template is a [`ParseError`]. Rendering never overflows the stack,
//! however deeply the data nests.

#![forbid(unsafe_code)]

mod error;
mod exec;
mod funcs;
mod lex;
mod literal;
mod parse;
mod printf;
mod strconv;

use pocket_value::Value;

pub use error::{ParseError, RenderError};
pub use exec::MAX_TEMPLATE_CALLS;

/// A parsed template, ready to render any number of times.
#[derive(Clone)]
pub struct Template {
    source: String,
    nodes: parse::List,
    named: std::sync::Arc<parse::Named>,
}

impl Template {
    /// Parses `source`. Syntax errors, unknown functions and variables used
    /// out of scope are reported here, with their line and column.
    pub fn parse(source: &str) -> Result<Template, ParseError> {
        let tree = parse::parse(source).map_err(|e| e.into_parse_error(source))?;
        Ok(Template {
            source: source.to_string(),
            nodes: tree.nodes,
            named: std::sync::Arc::new(tree.named),
        })
    }

    /// Renders to text against `data` (the value `.` and `$` refer to).
    pub fn render(&self, data: &Value) -> Result<String, RenderError> {
        let mut out = String::new();
        exec::render(&self.source, &self.nodes, &self.named, data, &mut out)
            .map_err(|e| e.into_render_error(&self.source))?;
        Ok(out)
    }

    /// Whether the whole source is exactly one action `{{ pipeline }}` that
    /// prints its value, with nothing around it but whitespace (and comments).
    pub fn is_single_action(&self) -> bool {
        self.single_action().is_some()
    }

    /// The value of the template. For a single action (see
    /// [`is_single_action`](Self::is_single_action)) this is the pipeline's
    /// value itself, not its text: `{{.items}}` gives the array, `{{len .x}}`
    /// a number, a missing field [`Value::Null`]; the whitespace around the
    /// action is dropped. Otherwise it is the rendered text as a string.
    pub fn evaluate(&self, data: &Value) -> Result<Value, RenderError> {
        match self.single_action() {
            Some(pipe) => {
                exec::evaluate(&self.source, pipe, &self.named, data).map_err(|e| e.into_render_error(&self.source))
            }
            None => self.render(data).map(Value::from),
        }
    }

    /// The text this template was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }

    fn single_action(&self) -> Option<&parse::Pipeline> {
        let mut actions = self.nodes.iter().filter(|node| match node {
            parse::Node::Text(text) => !text.trim().is_empty(),
            _ => true,
        });
        match (actions.next(), actions.next()) {
            (Some(parse::Node::Action(pipe)), None) if pipe.decl.is_empty() => Some(pipe),
            _ => None,
        }
    }
}

impl std::fmt::Debug for Template {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Template").field(&self.source).finish()
    }
}

/// Cheap check whether `text` contains template syntax at all (`{{`).
pub fn is_template(text: &str) -> bool {
    text.contains("{{")
}

#[cfg(test)]
mod tests;
