//! jq programs, compiled once and run on Pocket values (with `jaq`).

use std::time::Instant;

use jaq_core::load::{Arena, File, Loader};
use jaq_core::{Compiler, Ctx, Vars, data, unwrap_valr};
use jaq_json::Val;
use pocket_core::{Map, Value};
use pocket_value::with_stack;

type Filter = jaq_core::Filter<data::JustLut<Val>>;

/// The most outputs one run of a program may give.
pub(crate) const MAX_OUTPUTS: usize = 1_000_000;

/// A compiled jq program.
pub(crate) struct JqProgram {
    filter: Filter,
}

/// A jq program failed to compile: what and where (1-based line and column).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("jq program, line {line} column {column}: {message}")]
pub(crate) struct JqSyntaxError {
    pub(crate) line: usize,
    pub(crate) column: usize,
    pub(crate) message: String,
}

impl JqProgram {
    /// Parses and compiles `code` with jq's standard library.
    pub(crate) fn compile(code: &str) -> Result<JqProgram, JqSyntaxError> {
        let defs = jaq_core::defs().chain(jaq_std::defs()).chain(jaq_json::defs());
        let funs = jaq_core::funs().chain(jaq_std::funs()).chain(jaq_json::funs());
        let arena = Arena::default();
        let program = File { code, path: () };
        let modules = Loader::new(defs).load(&arena, program).map_err(|errors| {
            let first = errors.into_iter().next().map(|(_, e)| e);
            match first {
                Some(jaq_core::load::Error::Lex(errs)) => errs
                    .first()
                    .map(|(expect, at)| syntax_error(code, at, format!("expected {}", expect.as_str())))
                    .unwrap_or_else(|| syntax_error(code, code, "invalid program".into())),
                Some(jaq_core::load::Error::Parse(errs)) => errs
                    .first()
                    .map(|(expect, at)| {
                        let found = if at.is_empty() {
                            "the end of the program".to_string()
                        } else {
                            format!("`{at}`")
                        };
                        syntax_error(code, at, format!("expected {}, found {found}", expect.as_str()))
                    })
                    .unwrap_or_else(|| syntax_error(code, code, "invalid program".into())),
                Some(jaq_core::load::Error::Io(errs)) => {
                    let (at, message) = errs
                        .first()
                        .map_or((code, "cannot load module".to_string()), |(at, m)| (*at, m.clone()));
                    syntax_error(code, at, message)
                }
                None => syntax_error(code, code, "invalid program".into()),
            }
        })?;
        let filter = Compiler::default().with_funs(funs).compile(modules).map_err(|errors| {
            let first = errors.into_iter().next().and_then(|(_, errs)| errs.into_iter().next());
            match first {
                Some((name, undefined)) => {
                    syntax_error(code, name, format!("undefined {} `{name}`", undefined.as_str()))
                }
                None => syntax_error(code, code, "invalid program".into()),
            }
        })?;
        Ok(JqProgram { filter })
    }

    /// Runs the program on `input`: no output yields `null`, one output
    /// yields it, several yield them as an array. Between two outputs the
    /// program is stopped once past `deadline`, or past [`MAX_OUTPUTS`]
    /// outputs, so `repeat(1)` ends; work inside one output is not
    /// interrupted (the runner then fails the node as timed out).
    pub(crate) fn run(&self, input: &Value, deadline: Option<Instant>) -> Result<Value, String> {
        let ctx = Ctx::<data::JustLut<Val>>::new(&self.filter.lut, Vars::new([]));
        let mut outputs = Vec::new();
        for output in self.filter.id.run((ctx, to_jaq(input))).map(unwrap_valr) {
            let output = output.map_err(|e| e.to_string())?;
            outputs.push(from_jaq(&output)?);
            if outputs.len() > MAX_OUTPUTS {
                return Err(format!("the program gave more than {MAX_OUTPUTS} outputs"));
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Err("the program ran past the node's timeout".into());
            }
        }
        Ok(match outputs.len() {
            0 => Value::Null,
            1 => outputs.pop().unwrap_or_default(),
            _ => Value::from(outputs),
        })
    }
}

/// The position of `at` (a slice of `code`, as jaq reports errors) as line and column.
fn syntax_error(code: &str, at: &str, message: String) -> JqSyntaxError {
    let offset = (at.as_ptr() as usize)
        .checked_sub(code.as_ptr() as usize)
        .filter(|&o| o <= code.len())
        .unwrap_or(0);
    let before = &code[..floor_char_boundary(code, offset)];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    JqSyntaxError { line, column, message }
}

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

fn to_jaq(value: &Value) -> Val {
    with_stack(|| match value {
        Value::Null => Val::Null,
        Value::Bool(b) => Val::Bool(*b),
        Value::Number(n) => match n.as_i64().filter(|_| n.is_integer()) {
            Some(i) => Val::from(i as isize),
            None => Val::from(n.as_f64()),
        },
        Value::String(s) => Val::from(s.to_string()),
        Value::Array(items) => items.iter().map(to_jaq).collect(),
        Value::Object(map) => Val::obj(map.iter().map(|(k, v)| (Val::from(k.clone()), to_jaq(v))).collect()),
    })
}

fn from_jaq(value: &Val) -> Result<Value, String> {
    with_stack(|| {
        Ok(match value {
            Val::Null => Value::Null,
            Val::Bool(b) => Value::Bool(*b),
            Val::Num(n) => match n.as_isize() {
                Some(i) => Value::from(i as i64),
                None => Value::from_json(&n.to_string()).unwrap_or(Value::Null),
            },
            Val::TStr(bytes) | Val::BStr(bytes) => Value::from(String::from_utf8_lossy(bytes).into_owned()),
            Val::Arr(items) => Value::from(items.iter().map(from_jaq).collect::<Result<Vec<_>, _>>()?),
            Val::Obj(map) => {
                let mut object = Map::with_capacity(map.len());
                for (key, item) in map.iter() {
                    let key = match key {
                        Val::TStr(bytes) | Val::BStr(bytes) => String::from_utf8_lossy(bytes).into_owned(),
                        other => return Err(format!("object key {other} is not a string")),
                    };
                    object.insert(key, from_jaq(item)?);
                }
                Value::from(object)
            }
        })
    })
}
