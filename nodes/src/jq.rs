//! jq programs, compiled once and run on Pocket values (with `jaq`).
//!
//! A run is watched from inside jaq: the data jaq hands from call to call
//! ([`Guard`]) is cloned at every call of a definition and at every turn of a
//! tail-recursive loop, so its `clone` checks the clock, the run's
//! cancellation and the stack left, and unwinds the run with a [`Stop`]
//! when one says so. `def f: f; f` then ends at the deadline, `def f: 1 + f;
//! f` fails as too deep instead of overflowing the host's stack, and Ctrl-C
//! stops `last(range(1e15))`. `range` is jaq's one native generator with no
//! call between its values: Pocket's own [`range`] checks at each value.
//!
//! Memory is watched the same way: jaq's values cannot be weighed as they
//! are built, but everything a run builds is allocated on its thread, so
//! each call compares the thread's allocations
//! ([`pocket_core::thread_memory`]) with where they stood at the start, and
//! `[range(1e9)]` stops at [`MAX_MEMORY`] instead of growing until the
//! deadline. (Counted where the program's allocator counts: the `pocket`
//! binary.)

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::time::{Duration, Instant};

use jaq_core::data::{DataT, HasLut};
use jaq_core::load::{Arena, File, Loader};
use jaq_core::native::v;
use jaq_core::{Compiler, Ctx, Cv, Exn, Lut, Native, ValXs, Vars, unwrap_valr};
use jaq_json::Val;
use pocket_core::{Map, Value};
use pocket_value::with_stack;
use tokio_util::sync::CancellationToken;

type Filter = jaq_core::Filter<Watched>;

/// The most outputs one run of a program may give.
pub(crate) const MAX_OUTPUTS: usize = 1_000_000;

/// How long a program may run when its node sets no `timeout`.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The most memory one run of a program may allocate (net of what it frees).
pub(crate) const MAX_MEMORY: i64 = 256 << 20;

/// Stack a run keeps in reserve: past it, a deeper call stops the run.
const STACK_RESERVE: usize = 256 * 1024;

/// Calls between two looks at the clock and the cancellation.
const CHECK_EVERY: u32 = 1_024;

/// The kind of data jaq runs Pocket's programs with: jaq's JSON values, and
/// a [`Guard`] as the data every call carries.
pub(crate) struct Watched;

impl DataT for Watched {
    type V<'a> = Val;
    type Data<'a> = Guard<'a>;
}

/// What stopped a run from inside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Timeout,
    Cancelled,
    TooDeep,
    Memory,
}

impl Stop {
    fn message(self) -> String {
        match self {
            Stop::Timeout => "the program ran past the node's timeout".into(),
            Stop::Cancelled => "the run was cancelled".into(),
            Stop::TooDeep => "the program recursed too deeply (stack exhausted)".into(),
            Stop::Memory => format!("the program allocated more than {MAX_MEMORY} bytes of memory"),
        }
    }
}

/// The limits of one run.
struct Watch<'a> {
    deadline: Instant,
    cancel: &'a CancellationToken,
    calls: Cell<u32>,
    /// The thread's allocations when the run started (when they are counted).
    allocated_at_start: Option<i64>,
}

impl Watch<'_> {
    /// Which limit, if any, the run is past now.
    fn exceeded(&self) -> Option<Stop> {
        if Instant::now() >= self.deadline {
            Some(Stop::Timeout)
        } else if self.cancel.is_cancelled() {
            Some(Stop::Cancelled)
        } else {
            None
        }
    }

    /// Counts a call; unwinds the run when a limit is past.
    fn on_call(&self) {
        if stacker::remaining_stack().is_some_and(|left| left < STACK_RESERVE) {
            resume_unwind(Box::new(Stop::TooDeep));
        }
        if let (Some(start), Some(now)) = (self.allocated_at_start, pocket_core::thread_memory::allocated())
            && now.wrapping_sub(start) > MAX_MEMORY
        {
            resume_unwind(Box::new(Stop::Memory));
        }
        let calls = self.calls.get().wrapping_add(1);
        self.calls.set(calls);
        if calls.is_multiple_of(CHECK_EVERY)
            && let Some(stop) = self.exceeded()
        {
            // Not `panic!`: resume_unwind skips the panic hook, so nothing is printed.
            resume_unwind(Box::new(stop));
        }
    }
}

/// The data of a running program: the compiled definitions, and the watch.
pub(crate) struct Guard<'a> {
    lut: &'a Lut<Watched>,
    watch: &'a Watch<'a>,
}

impl Clone for Guard<'_> {
    /// jaq clones the data at every call: the hook where a run is watched.
    fn clone(&self) -> Self {
        self.watch.on_call();
        Guard {
            lut: self.lut,
            watch: self.watch,
        }
    }
}

impl<'a> HasLut<'a, Watched> for Guard<'a> {
    fn lut(&self) -> &'a Lut<Watched> {
        self.lut
    }
}

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
        let funs = jaq_core::funs()
            .filter(|(name, ..)| *name != "range")
            .chain([("range", v(3), Native::<Watched>::new(range))])
            .chain(jaq_std::funs())
            .chain(jaq_json::funs());
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
    /// yields it, several yield them as an array. The run stops with an
    /// error past `deadline` (else [`DEFAULT_TIMEOUT`] from now), when
    /// `cancel` fires, past [`MAX_OUTPUTS`] outputs, past [`MAX_MEMORY`] of
    /// allocations, or when it recurses deeper than the stack allows.
    pub(crate) fn run(
        &self,
        input: &Value,
        deadline: Option<Instant>,
        cancel: &CancellationToken,
    ) -> Result<Value, String> {
        let watch = Watch {
            deadline: deadline.unwrap_or_else(|| Instant::now() + DEFAULT_TIMEOUT),
            cancel,
            calls: Cell::new(0),
            allocated_at_start: pocket_core::thread_memory::allocated(),
        };
        match catch_unwind(AssertUnwindSafe(|| self.collect(input, &watch))) {
            Ok(result) => result,
            Err(payload) => match payload.downcast::<Stop>() {
                Ok(stop) => Err(stop.message()),
                Err(other) => resume_unwind(other),
            },
        }
    }

    fn collect(&self, input: &Value, watch: &Watch) -> Result<Value, String> {
        let guard = Guard {
            lut: &self.filter.lut,
            watch,
        };
        let ctx = Ctx::<Watched>::new(guard, Vars::new([]));
        let mut outputs = Vec::new();
        for output in self.filter.id.run((ctx, to_jaq(input))).map(unwrap_valr) {
            let output = output.map_err(|e| e.to_string())?;
            outputs.push(from_jaq(&output)?);
            if outputs.len() > MAX_OUTPUTS {
                return Err(format!("the program gave more than {MAX_OUTPUTS} outputs"));
            }
            if let Some(stop) = watch.exceeded() {
                return Err(stop.message());
            }
        }
        Ok(match outputs.len() {
            0 => Value::Null,
            1 => outputs.pop().unwrap_or_default(),
            _ => Value::from(outputs),
        })
    }
}

/// jaq's `range($from; $to; $by)`, watched at every value it yields.
fn range(mut cv: Cv<'_, Watched>) -> ValXs<'_, Val> {
    use std::cmp::Ordering::{Equal, Greater, Less};
    let by = cv.0.pop_var();
    let to = cv.0.pop_var();
    let mut from = Ok(cv.0.pop_var());
    let watch = cv.0.data().watch;
    let direction = by.partial_cmp(&Val::from(0isize)).unwrap_or(Equal);
    Box::new(std::iter::from_fn(move || {
        watch.on_call();
        match from.clone() {
            Ok(x) => match direction {
                Greater => x < to,
                Less => x > to,
                Equal => x != to,
            }
            .then(|| std::mem::replace(&mut from, (x + by.clone()).map_err(Exn::from))),
            Err(e) => {
                from = Ok(to.clone());
                Some(Err(e))
            }
        }
    }))
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
            Some(i) => isize::try_from(i).map_or_else(|_| Val::from(n.as_f64()), Val::from),
            None => Val::from(n.as_f64()),
        },
        Value::String(s) => Val::from(s.to_string()),
        Value::Array(items) => items.iter().map(to_jaq).collect(),
        Value::Object(map) => Val::obj(map.iter().map(|(k, v)| (Val::from(k.to_string()), to_jaq(v))).collect()),
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
                // Collected, not inserted one by one: a map is built in one sort.
                let object = map
                    .iter()
                    .map(|(key, item)| match key {
                        Val::TStr(bytes) | Val::BStr(bytes) => Ok((String::from_utf8_lossy(bytes), from_jaq(item)?)),
                        other => Err(format!("object key {other} is not a string")),
                    })
                    .collect::<Result<Map, _>>()?;
                Value::from(object)
            }
        })
    })
}
