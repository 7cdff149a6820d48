//! The executor: walks the syntax tree against a borrowed [`Value`], as Go's
//! `text/template` executes a template. Values are only ever cloned, which
//! is O(1); the data is never copied.

use pocket_value::{Number, Value, with_stack};

use crate::error::Located;
use crate::funcs::Func;
use crate::parse::{Command, Conditional, List, Named, Node, Operand, Pipeline, Range, TemplateCall, Term};
use crate::printf::display_float;

/// A missing field reads as null.
static NULL: Value = Value::Null;

type Exec<T> = Result<T, Located>;

/// Whether a walk finished or was cut short by `{{break}}` / `{{continue}}`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Flow {
    Normal,
    Break,
    Continue,
}

/// The most `{{template}}` calls one render makes, and so also how deeply
/// they nest: a template calling itself twice, 1000 levels deep, ends here.
pub const MAX_TEMPLATE_CALLS: usize = 10_000;

/// Renders `nodes` against `data`, appending to `out`; `{{template}}` calls
/// look names up in `named`.
pub(crate) fn render(source: &str, nodes: &List, named: &Named, data: &Value, out: &mut String) -> Exec<()> {
    let mut state = State::new(source, named, data);
    state.walk_list(data, nodes, out)?;
    Ok(())
}

/// The value of one pipeline evaluated against `data`.
pub(crate) fn evaluate(source: &str, pipe: &Pipeline, named: &Named, data: &Value) -> Exec<Value> {
    State::new(source, named, data).eval_pipeline(data, pipe)
}

/// Appends `value` as a template action prints it: strings as they are,
/// null as `<no value>`, numbers as Go prints them, arrays and objects as
/// compact JSON.
pub(crate) fn write_value(value: &Value, out: &mut String) {
    match value {
        Value::String(s) => out.push_str(s),
        Value::Null => out.push_str("<no value>"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(Number::Int(i)) => out.push_str(&i.to_string()),
        Value::Number(Number::Float(x)) => out.push_str(&display_float(*x)),
        Value::Array(_) | Value::Object(_) => out.push_str(&value.to_json()),
    }
}

struct State<'t> {
    source: &'t str,
    named: &'t Named,
    /// Variables in scope, innermost last; `$` is first.
    vars: Vec<(&'t str, Value)>,
    /// `{{template}}` calls made so far.
    calls: usize,
}

impl<'t> State<'t> {
    fn new(source: &'t str, named: &'t Named, data: &Value) -> State<'t> {
        State {
            source,
            named,
            vars: vec![("$", data.clone())],
            calls: 0,
        }
    }

    fn text(&self, operand: &Operand) -> &'t str {
        self.source.get(operand.start..operand.end).unwrap_or("")
    }

    fn walk_list(&mut self, dot: &Value, nodes: &'t List, out: &mut String) -> Exec<Flow> {
        for node in nodes {
            let flow = match node {
                Node::Text(text) => {
                    out.push_str(text);
                    Flow::Normal
                }
                Node::Action(pipe) => {
                    let value = self.eval_pipeline(dot, pipe)?;
                    if pipe.decl.is_empty() {
                        write_value(&value, out);
                    }
                    Flow::Normal
                }
                Node::Conditional(c) => with_stack(|| self.walk_conditional(dot, c, out))?,
                Node::Range(r) => with_stack(|| self.walk_range(dot, r, out))?,
                Node::Break => Flow::Break,
                Node::Continue => Flow::Continue,
                Node::Template(call) => with_stack(|| self.call_template(dot, call, out))?,
            };
            if flow != Flow::Normal {
                return Ok(flow);
            }
        }
        Ok(Flow::Normal)
    }

    /// Runs the named template with the call's pipeline value as dot (and
    /// `$`), in a variable scope of its own.
    fn call_template(&mut self, dot: &Value, call: &'t TemplateCall, out: &mut String) -> Exec<Flow> {
        let Some(body) = self.named.get(&call.name) else {
            return Err(Located::new(call.pos, format!("no such template {:?}", call.name)));
        };
        self.calls += 1;
        if self.calls > MAX_TEMPLATE_CALLS {
            return Err(Located::new(
                call.pos,
                format!("more than {MAX_TEMPLATE_CALLS} template calls (a template that calls itself without end?)"),
            ));
        }
        let value = match &call.pipe {
            Some(pipe) => self.eval_pipeline(dot, pipe)?,
            None => Value::Null,
        };
        let outer = std::mem::replace(&mut self.vars, vec![("$", value.clone())]);
        let walked = self.walk_list(&value, body, out);
        self.vars = outer;
        walked.map(|_| Flow::Normal)
    }

    fn walk_conditional(&mut self, dot: &Value, c: &'t Conditional, out: &mut String) -> Exec<Flow> {
        let mark = self.vars.len();
        let mut flow = None;
        for branch in &c.branches {
            let value = self.eval_pipeline(dot, &branch.pipe)?;
            if value.is_truthy() {
                let dot = if c.with { &value } else { dot };
                flow = Some(self.walk_list(dot, &branch.body, out)?);
                break;
            }
        }
        let flow = match (flow, &c.otherwise) {
            (Some(flow), _) => flow,
            (None, Some(otherwise)) => self.walk_list(dot, otherwise, out)?,
            (None, None) => Flow::Normal,
        };
        self.vars.truncate(mark);
        Ok(flow)
    }

    fn walk_range(&mut self, dot: &Value, r: &'t Range, out: &mut String) -> Exec<Flow> {
        let mark = self.vars.len();
        let value = self.eval_pipeline(dot, &r.pipe)?;
        let iterated = match &value {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    if self.iteration(r, Value::from(i), item, out)? == Flow::Break {
                        break;
                    }
                }
                !items.is_empty()
            }
            Value::Object(entries) => {
                let mut sorted: Vec<_> = entries.iter().collect();
                sorted.sort_unstable_by(|a, b| a.0.cmp(b.0));
                for (key, item) in sorted {
                    if self.iteration(r, Value::from(key.as_str()), item, out)? == Flow::Break {
                        break;
                    }
                }
                !entries.is_empty()
            }
            Value::Number(n) => {
                let Some(count) = n.as_i64() else {
                    return Err(Located::new(
                        r.pipe.pos,
                        format!("can't range over non-integer number {}", display_float(n.as_f64())),
                    ));
                };
                if r.pipe.decl.len() > 1 {
                    return Err(Located::new(
                        r.pipe.pos,
                        format!("can't use {count} to iterate over more than one variable"),
                    ));
                }
                for i in 0..count {
                    let i = Value::from(i);
                    if self.iteration(r, i.clone(), &i, out)? == Flow::Break {
                        break;
                    }
                }
                count > 0
            }
            Value::Null => false,
            other => {
                return Err(Located::new(
                    r.pipe.pos,
                    format!("can't range over {}", other.type_name()),
                ));
            }
        };
        let mut flow = Flow::Normal;
        if !iterated && let Some(otherwise) = &r.otherwise {
            flow = self.walk_list(dot, otherwise, out)?;
        }
        self.vars.truncate(mark);
        Ok(flow)
    }

    /// One pass through a range body with `item` as dot.
    fn iteration(&mut self, r: &'t Range, index: Value, item: &Value, out: &mut String) -> Exec<Flow> {
        let decl = &r.pipe.decl;
        match (decl.as_slice(), r.pipe.assign) {
            ([], _) => {}
            ([element], true) => self.set_var(element, item.clone(), r.pipe.pos)?,
            ([key, element, ..], true) => {
                self.set_var(key, index, r.pipe.pos)?;
                self.set_var(element, item.clone(), r.pipe.pos)?;
            }
            // The pipeline pushed the declared variables: the element last,
            // the index (with two variables) before it.
            ([_], false) => self.set_top_var(1, item.clone()),
            ([_, _, ..], false) => {
                self.set_top_var(1, item.clone());
                self.set_top_var(2, index);
            }
        }
        let mark = self.vars.len();
        let flow = self.walk_list(item, &r.body, out)?;
        self.vars.truncate(mark);
        Ok(flow)
    }

    fn set_top_var(&mut self, from_top: usize, value: Value) {
        let len = self.vars.len();
        if let Some(slot) = len.checked_sub(from_top).and_then(|i| self.vars.get_mut(i)) {
            slot.1 = value;
        }
    }

    fn set_var(&mut self, name: &str, value: Value, pos: usize) -> Exec<()> {
        match self.vars.iter_mut().rev().find(|(n, _)| *n == name) {
            Some(slot) => {
                slot.1 = value;
                Ok(())
            }
            None => Err(Located::new(pos, format!("undefined variable: {name}"))),
        }
    }

    fn var(&self, name: &str, pos: usize) -> Exec<&Value> {
        self.vars
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
            .ok_or_else(|| Located::new(pos, format!("undefined variable: {name}")))
    }

    fn eval_pipeline(&mut self, dot: &Value, pipe: &'t Pipeline) -> Exec<Value> {
        let mut value = None;
        for cmd in &pipe.cmds {
            value = Some(self.eval_command(dot, cmd, value)?);
        }
        let value = value.unwrap_or_default();
        for name in &pipe.decl {
            if pipe.assign {
                self.set_var(name, value.clone(), pipe.pos)?;
            } else {
                self.vars.push((name, value.clone()));
            }
        }
        Ok(value)
    }

    /// Evaluates a command; `last` is the previous command's value in the
    /// pipeline, which becomes the final argument.
    fn eval_command(&mut self, dot: &Value, cmd: &'t Command, last: Option<Value>) -> Exec<Value> {
        let head = &cmd.head;
        let has_args = !cmd.args.is_empty() || last.is_some();
        match &head.term {
            Term::Function(func) => self.call(dot, head, *func, &cmd.args, last),
            Term::Field(fields) => Ok(self.fields(head, dot, fields, has_args)?.clone()),
            Term::Chain { base, fields } => {
                let base = self.eval_arg(dot, base)?;
                Ok(self.fields(head, &base, fields, has_args)?.clone())
            }
            Term::Variable { name, fields } if !fields.is_empty() => {
                let value = self.var(name, head.start)?;
                Ok(self.fields(head, value, fields, has_args)?.clone())
            }
            Term::Nil => Err(Located::new(head.start, "nil is not a command")),
            _ if has_args => Err(Located::new(
                head.start,
                format!("can't give argument to non-function {}", self.text(head)),
            )),
            _ => self.eval_arg(dot, head),
        }
    }

    /// Evaluates an operand used as an argument (no arguments of its own).
    fn eval_arg(&mut self, dot: &Value, operand: &'t Operand) -> Exec<Value> {
        match &operand.term {
            Term::Dot => Ok(dot.clone()),
            Term::Nil => Ok(Value::Null),
            Term::Literal(value) => Ok(value.clone()),
            Term::Field(fields) => Ok(self.fields(operand, dot, fields, false)?.clone()),
            Term::Variable { name, fields } => {
                let value = self.var(name, operand.start)?;
                Ok(self.fields(operand, value, fields, false)?.clone())
            }
            Term::Chain { base, fields } => {
                let base = self.eval_arg(dot, base)?;
                Ok(self.fields(operand, &base, fields, false)?.clone())
            }
            Term::Pipe(pipe) => with_stack(|| self.eval_pipeline(dot, pipe)),
            Term::Function(func) => self.call(dot, operand, *func, &[], None),
        }
    }

    /// Follows `.a.b.c` from `receiver`. A missing key or a field of null is
    /// null; a field of anything but an object or null is an error.
    fn fields<'v>(&self, at: &Operand, receiver: &'v Value, fields: &[String], has_args: bool) -> Exec<&'v Value> {
        let mut value = receiver;
        for (i, name) in fields.iter().enumerate() {
            value = match value {
                Value::Null => &NULL,
                Value::Object(object) => {
                    if has_args && i + 1 == fields.len() {
                        return Err(Located::new(
                            at.start,
                            format!("{name} is not a method but has arguments"),
                        ));
                    }
                    object.get(name.as_str()).unwrap_or(&NULL)
                }
                other => {
                    return Err(Located::new(
                        at.start,
                        format!("can't evaluate field {name} in type {}", other.type_name()),
                    ));
                }
            };
        }
        Ok(value)
    }

    /// Calls a function with its argument operands and the piped-in value.
    fn call(&mut self, dot: &Value, at: &Operand, func: Func, args: &'t [Operand], last: Option<Value>) -> Exec<Value> {
        let count = args.len() + usize::from(last.is_some());
        func.check_arity(count)
            .map_err(|message| Located::new(at.start, message))?;
        match func {
            Func::Logic { or } => {
                // Short-circuit: the first argument that decides is the result.
                let mut value = Value::Null;
                for arg in args {
                    value = self.eval_arg(dot, arg)?;
                    if value.is_truthy() == or {
                        return Ok(value);
                    }
                }
                Ok(last.unwrap_or(value))
            }
            Func::Builtin(builtin) => {
                let mut values = Vec::with_capacity(count);
                for arg in args {
                    values.push(self.eval_arg(dot, arg)?);
                }
                values.extend(last);
                builtin
                    .call(&values)
                    .map_err(|message| Located::new(at.start, format!("error calling {}: {message}", func.name())))
            }
        }
    }
}
