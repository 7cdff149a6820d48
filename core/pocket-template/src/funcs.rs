//! The builtin functions: Go's template functions plus a few string and JSON
//! helpers (`toJson`, `lower`, `upper`, `trim`, `contains`, `replace`,
//! `split`, `join`) that Pocket workflows use.

use std::cmp::Ordering;

use pocket_value::Value;

use crate::printf;

/// A function name, resolved when the template is parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Func {
    /// `and` (`or: false`) or `or`: short-circuit, so the executor evaluates
    /// their arguments one at a time.
    Logic { or: bool },
    /// Every other function: called with all arguments evaluated.
    Builtin(Builtin),
}

/// A function that takes evaluated arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Builtin {
    Not,
    Len,
    Index,
    Slice,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Print,
    Println,
    Printf,
    Html,
    Js,
    UrlQuery,
    ToJson,
    Lower,
    Upper,
    Trim,
    Contains,
    Replace,
    Split,
    Join,
}

/// How many arguments a function takes.
#[derive(Clone, Copy)]
enum Arity {
    Exactly(usize),
    AtLeast(usize),
}

const FUNCTIONS: &[(&str, Func, Arity)] = &[
    ("and", Func::Logic { or: false }, Arity::AtLeast(1)),
    ("or", Func::Logic { or: true }, Arity::AtLeast(1)),
    ("not", Func::Builtin(Builtin::Not), Arity::Exactly(1)),
    ("len", Func::Builtin(Builtin::Len), Arity::Exactly(1)),
    ("index", Func::Builtin(Builtin::Index), Arity::AtLeast(1)),
    ("slice", Func::Builtin(Builtin::Slice), Arity::AtLeast(1)),
    ("eq", Func::Builtin(Builtin::Eq), Arity::AtLeast(2)),
    ("ne", Func::Builtin(Builtin::Ne), Arity::Exactly(2)),
    ("lt", Func::Builtin(Builtin::Lt), Arity::Exactly(2)),
    ("le", Func::Builtin(Builtin::Le), Arity::Exactly(2)),
    ("gt", Func::Builtin(Builtin::Gt), Arity::Exactly(2)),
    ("ge", Func::Builtin(Builtin::Ge), Arity::Exactly(2)),
    ("print", Func::Builtin(Builtin::Print), Arity::AtLeast(0)),
    ("println", Func::Builtin(Builtin::Println), Arity::AtLeast(0)),
    ("printf", Func::Builtin(Builtin::Printf), Arity::AtLeast(1)),
    ("html", Func::Builtin(Builtin::Html), Arity::AtLeast(0)),
    ("js", Func::Builtin(Builtin::Js), Arity::AtLeast(0)),
    ("urlquery", Func::Builtin(Builtin::UrlQuery), Arity::AtLeast(0)),
    ("toJson", Func::Builtin(Builtin::ToJson), Arity::Exactly(1)),
    ("lower", Func::Builtin(Builtin::Lower), Arity::Exactly(1)),
    ("upper", Func::Builtin(Builtin::Upper), Arity::Exactly(1)),
    ("trim", Func::Builtin(Builtin::Trim), Arity::Exactly(1)),
    ("contains", Func::Builtin(Builtin::Contains), Arity::Exactly(2)),
    ("replace", Func::Builtin(Builtin::Replace), Arity::Exactly(3)),
    ("split", Func::Builtin(Builtin::Split), Arity::Exactly(2)),
    ("join", Func::Builtin(Builtin::Join), Arity::Exactly(2)),
];

impl Func {
    /// The function called `name`, if there is one.
    pub(crate) fn lookup(name: &str) -> Option<Func> {
        FUNCTIONS.iter().find(|(n, ..)| *n == name).map(|&(_, f, _)| f)
    }

    fn entry(self) -> (&'static str, Arity) {
        FUNCTIONS
            .iter()
            .find(|(_, f, _)| *f == self)
            .map_or(("?", Arity::AtLeast(0)), |&(name, _, arity)| (name, arity))
    }

    /// The name templates call this function by.
    pub(crate) fn name(self) -> &'static str {
        self.entry().0
    }

    /// Checks that `got` arguments suit this function.
    pub(crate) fn check_arity(self, got: usize) -> Result<(), String> {
        let (name, arity) = self.entry();
        match arity {
            Arity::Exactly(want) if got != want => {
                Err(format!("wrong number of args for {name}: want {want} got {got}"))
            }
            Arity::AtLeast(want) if got < want => Err(format!(
                "wrong number of args for {name}: want at least {want} got {got}"
            )),
            _ => Ok(()),
        }
    }
}

type Outcome = Result<Value, String>;

impl Builtin {
    /// Calls the function; the arity has been checked.
    pub(crate) fn call(self, args: &[Value]) -> Outcome {
        let arg = |i: usize| args.get(i).unwrap_or(&Value::Null);
        let rest = args.get(1..).unwrap_or_default();
        match self {
            Builtin::Not => Ok(Value::Bool(!arg(0).is_truthy())),
            Builtin::Len => len(arg(0)),
            Builtin::Index => index(arg(0), rest),
            Builtin::Slice => slice(arg(0), rest),
            Builtin::Eq => Ok(Value::Bool(rest.iter().any(|b| equal(arg(0), b)))),
            Builtin::Ne => Ok(Value::Bool(!equal(arg(0), arg(1)))),
            Builtin::Lt => compare(arg(0), arg(1)).map(|o| Value::Bool(o.is_lt())),
            Builtin::Le => compare(arg(0), arg(1)).map(|o| Value::Bool(o.is_le())),
            Builtin::Gt => compare(arg(0), arg(1)).map(|o| Value::Bool(o.is_gt())),
            Builtin::Ge => compare(arg(0), arg(1)).map(|o| Value::Bool(o.is_ge())),
            Builtin::Print => Ok(Value::from(printf::sprint(args))),
            Builtin::Println => Ok(Value::from(printf::sprintln(args))),
            Builtin::Printf => {
                let format = expect_str(arg(0))?;
                Ok(Value::from(printf::sprintf(format, rest)))
            }
            Builtin::Html => Ok(Value::from(html_escape(&escaper_text(args)))),
            Builtin::Js => Ok(Value::from(js_escape(&escaper_text(args)))),
            Builtin::UrlQuery => Ok(Value::from(query_escape(&escaper_text(args)))),
            Builtin::ToJson => Ok(Value::from(arg(0).to_json())),
            Builtin::Lower => Ok(Value::from(expect_str(arg(0))?.to_lowercase())),
            Builtin::Upper => Ok(Value::from(expect_str(arg(0))?.to_uppercase())),
            Builtin::Trim => Ok(Value::from(expect_str(arg(0))?.trim())),
            Builtin::Contains => {
                let (s, substr) = (expect_str(arg(0))?, expect_str(arg(1))?);
                Ok(Value::Bool(s.contains(substr)))
            }
            Builtin::Replace => {
                let s = expect_str(arg(0))?;
                let (old, new) = (expect_str(arg(1))?, expect_str(arg(2))?);
                Ok(Value::from(s.replace(old, new)))
            }
            Builtin::Split => split(expect_str(arg(0))?, expect_str(arg(1))?),
            Builtin::Join => join(arg(0), expect_str(arg(1))?),
        }
    }
}

fn expect_str(v: &Value) -> Result<&str, String> {
    v.as_str()
        .ok_or_else(|| format!("wrong type for value; expected string; got {}", v.type_name()))
}

/// Go's `len`: bytes of a string, elements of an array or object.
fn len(v: &Value) -> Outcome {
    match v {
        Value::String(s) => Ok(Value::from(s.len())),
        Value::Array(a) => Ok(Value::from(a.len())),
        Value::Object(o) => Ok(Value::from(o.len())),
        Value::Null => Err("len of nil".into()),
        other => Err(format!("len of type {}", other.type_name())),
    }
}

/// An index argument as an offset into something `len` long (`len` itself
/// is allowed, for slicing).
fn index_arg(index: &Value, len: usize) -> Result<usize, String> {
    let i = match index {
        Value::Number(n) => n
            .as_i64()
            .ok_or_else(|| format!("cannot index slice/array with non-integer {n}"))?,
        Value::Null => return Err("cannot index slice/array with nil".into()),
        other => {
            return Err(format!("cannot index slice/array with type {}", other.type_name()));
        }
    };
    usize::try_from(i)
        .ok()
        .filter(|&x| x <= len)
        .ok_or_else(|| format!("index out of range: {i}"))
}

/// Go's `index`: `index x 1 "k"` is `x[1]["k"]`. A missing object key gives
/// null; an array index past the end is an error.
fn index(item: &Value, indexes: &[Value]) -> Outcome {
    let mut item = item.clone();
    for index in indexes {
        item = match &item {
            Value::Array(a) => {
                let i = index_arg(index, a.len())?;
                a.get(i).cloned().ok_or_else(|| format!("index out of range: {i}"))?
            }
            Value::String(s) => {
                let i = index_arg(index, s.len())?;
                let byte = s.as_bytes().get(i).ok_or_else(|| format!("index out of range: {i}"))?;
                Value::from(i64::from(*byte))
            }
            Value::Object(o) => {
                let key = index
                    .as_str()
                    .ok_or_else(|| format!("value has type {}; should be string", index.type_name()))?;
                o.get(key).cloned().unwrap_or(Value::Null)
            }
            Value::Null => return Err("index of nil".into()),
            other => return Err(format!("can't index item of type {}", other.type_name())),
        };
    }
    Ok(item)
}

/// Go's `slice`: `slice x 1 3` is `x[1:3]`; strings slice by bytes.
fn slice(item: &Value, indexes: &[Value]) -> Outcome {
    if indexes.len() > 3 {
        return Err(format!("too many slice indexes: {}", indexes.len()));
    }
    match item {
        Value::String(s) => {
            if indexes.len() == 3 {
                return Err("cannot 3-index slice a string".into());
            }
            let (low, high) = slice_bounds(s.len(), indexes)?;
            Ok(match s.get(low..high) {
                Some(part) => Value::from(part),
                None => Value::from(String::from_utf8_lossy(&s.as_bytes()[low..high]).into_owned()),
            })
        }
        Value::Array(a) => {
            let (low, high) = slice_bounds(a.len(), indexes)?;
            Ok(Value::array(a[low..high].iter().cloned()))
        }
        Value::Null => Err("slice of nil".into()),
        other => Err(format!("can't slice item of type {}", other.type_name())),
    }
}

/// The `[low:high:max]` bounds of a slice of something `len` long.
fn slice_bounds(len: usize, indexes: &[Value]) -> Result<(usize, usize), String> {
    let mut bounds = [0, len, len];
    for (bound, index) in bounds.iter_mut().zip(indexes) {
        *bound = index_arg(index, len)?;
    }
    let [low, high, max] = bounds;
    if low > high {
        return Err(format!("invalid slice index: {low} > {high}"));
    }
    if high > max {
        return Err(format!("invalid slice index: {high} > {max}"));
    }
    Ok((low, high))
}

/// Equality for `eq` and `ne`: numbers by value, strings, booleans, null,
/// and arrays and objects by content. Values of different kinds are unequal.
fn equal(a: &Value, b: &Value) -> bool {
    a == b
}

/// Ordering for `lt`, `le`, `gt`, `ge`: numbers by value, strings by bytes.
fn compare(a: &Value, b: &Value) -> Result<Ordering, String> {
    let ordered = |v: &Value| matches!(v, Value::Number(_) | Value::String(_) | Value::Bool(_));
    for v in [a, b] {
        if !ordered(v) {
            return Err(format!("invalid type for comparison: {}", v.type_name()));
        }
    }
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x
            .partial_cmp(y)
            .ok_or_else(|| "invalid value for comparison: NaN".to_string()),
        (Value::String(x), Value::String(y)) => Ok(x.as_bytes().cmp(y.as_bytes())),
        (Value::Bool(_), Value::Bool(_)) => Err("invalid type for comparison: boolean".into()),
        _ => Err(format!(
            "incompatible types for comparison: {} and {}",
            a.type_name(),
            b.type_name()
        )),
    }
}

/// Go's `strings.Split`: an empty separator splits into characters.
fn split(s: &str, sep: &str) -> Outcome {
    if sep.is_empty() {
        return Ok(Value::array(s.chars().map(|c| Value::from(c.to_string()))));
    }
    Ok(Value::array(s.split(sep).map(Value::from)))
}

/// Joins an array's elements: strings as they are, other values as `print` shows them.
fn join(list: &Value, sep: &str) -> Outcome {
    let Value::Array(items) = list else {
        return Err(format!(
            "wrong type for value; expected array; got {}",
            list.type_name()
        ));
    };
    let parts: Vec<String> = items
        .iter()
        .map(|item| match item {
            Value::String(s) => s.to_string(),
            other => printf::sprint(std::slice::from_ref(other)),
        })
        .collect();
    Ok(Value::from(parts.join(sep)))
}

/// The text `html`, `js` and `urlquery` escape: their arguments printed as
/// `print` would, with a missing value as `<no value>`.
fn escaper_text(args: &[Value]) -> String {
    if let [Value::String(s)] = args {
        return s.to_string();
    }
    let printable: Vec<Value> = args
        .iter()
        .map(|a| match a {
            Value::Null => Value::from("<no value>"),
            other => other.clone(),
        })
        .collect();
    printf::sprint(&printable)
}

/// Go's `template.HTMLEscapeString`.
fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\0' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Go's `template.JSEscapeString`.
fn js_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            c if c < ' ' => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c if c.is_ascii() || crate::strconv::is_print(c) => out.push(c),
            c => out.push_str(&format!("\\u{:04X}", u32::from(c))),
        }
    }
    out
}

/// Go's `url.QueryEscape`.
fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(name: &str, args: &[Value]) -> Outcome {
        match Func::lookup(name).expect("a builtin") {
            Func::Builtin(b) => b.call(args),
            Func::Logic { .. } => panic!("and/or are evaluated by the executor"),
        }
    }

    fn s(text: &str) -> Value {
        Value::from(text)
    }

    #[test]
    fn unknown_names_are_not_functions() {
        assert!(Func::lookup("foo").is_none());
        assert_eq!(Func::lookup("toJson").map(Func::name), Some("toJson"));
    }

    #[test]
    fn arity_errors_read_like_go() {
        let eq = Func::lookup("eq").unwrap();
        assert_eq!(
            eq.check_arity(1).unwrap_err(),
            "wrong number of args for eq: want at least 2 got 1"
        );
        let not = Func::lookup("not").unwrap();
        assert_eq!(
            not.check_arity(2).unwrap_err(),
            "wrong number of args for not: want 1 got 2"
        );
        assert!(eq.check_arity(3).is_ok());
    }

    #[test]
    fn len_counts_string_bytes_and_container_elements() {
        assert_eq!(call("len", &[s("héllo")]).unwrap(), Value::from(6));
        assert_eq!(call("len", &[Value::array([Value::Null])]).unwrap(), Value::from(1));
        assert_eq!(call("len", &[Value::from(3)]).unwrap_err(), "len of type number");
        assert_eq!(call("len", &[Value::Null]).unwrap_err(), "len of nil");
    }

    #[test]
    fn index_walks_arrays_objects_and_strings() {
        let v = Value::from_json(r#"{"a":[10,{"b":"x"}]}"#).unwrap();
        assert_eq!(
            call("index", &[v.clone(), s("a"), Value::from(1), s("b")]).unwrap(),
            s("x")
        );
        assert_eq!(call("index", &[v.clone(), s("missing")]).unwrap(), Value::Null);
        assert_eq!(call("index", &[s("abc"), Value::from(1)]).unwrap(), Value::from(98));
        assert_eq!(call("index", std::slice::from_ref(&v)).unwrap(), v);
    }

    #[test]
    fn index_errors_match_go() {
        let list = Value::array([Value::from(1)]);
        assert_eq!(
            call("index", &[list.clone(), Value::from(5)]).unwrap_err(),
            "index out of range: 5"
        );
        assert_eq!(
            call("index", &[list.clone(), Value::from(1)]).unwrap_err(),
            "index out of range: 1"
        );
        assert_eq!(
            call("index", &[list.clone(), Value::from(-1)]).unwrap_err(),
            "index out of range: -1"
        );
        assert_eq!(
            call("index", &[list, s("x")]).unwrap_err(),
            "cannot index slice/array with type string"
        );
        assert_eq!(
            call("index", &[Value::Null, Value::from(0)]).unwrap_err(),
            "index of nil"
        );
        assert_eq!(
            call("index", &[Value::from(1), Value::from(0)]).unwrap_err(),
            "can't index item of type number"
        );
        assert_eq!(
            call("index", &[Value::empty_object(), Value::from(0)]).unwrap_err(),
            "value has type number; should be string"
        );
    }

    #[test]
    fn slice_cuts_arrays_and_strings() {
        let list = Value::from_json("[1,2,3,4]").unwrap();
        assert_eq!(
            call("slice", &[list.clone(), Value::from(1), Value::from(3)])
                .unwrap()
                .to_json(),
            "[2,3]"
        );
        assert_eq!(
            call("slice", &[list.clone(), Value::from(2)]).unwrap().to_json(),
            "[3,4]"
        );
        assert_eq!(
            call("slice", std::slice::from_ref(&list)).unwrap().to_json(),
            "[1,2,3,4]"
        );
        assert_eq!(
            call("slice", &[s("hello"), Value::from(1), Value::from(3)]).unwrap(),
            s("el")
        );
        assert_eq!(
            call("slice", &[list, Value::from(3), Value::from(1)]).unwrap_err(),
            "invalid slice index: 3 > 1"
        );
        assert_eq!(
            call("slice", &[s("ab"), Value::from(0), Value::from(1), Value::from(2)]).unwrap_err(),
            "cannot 3-index slice a string"
        );
    }

    #[test]
    fn slicing_inside_a_character_never_panics() {
        assert_eq!(call("slice", &[s("é"), Value::from(1)]).unwrap(), s("\u{FFFD}"));
    }

    #[test]
    fn eq_compares_the_first_argument_with_each_other() {
        assert_eq!(
            call("eq", &[Value::from(2), Value::from(1), Value::from(2.0)]).unwrap(),
            Value::Bool(true)
        );
        assert_eq!(call("eq", &[s("a"), s("b")]).unwrap(), Value::Bool(false));
        assert_eq!(call("eq", &[s("1"), Value::from(1)]).unwrap(), Value::Bool(false));
        assert_eq!(call("ne", &[Value::Null, Value::Null]).unwrap(), Value::Bool(false));
    }

    #[test]
    fn ordering_compares_numbers_by_value_and_strings_by_bytes() {
        assert_eq!(
            call("lt", &[Value::from(1), Value::from(1.5)]).unwrap(),
            Value::Bool(true)
        );
        assert_eq!(
            call("le", &[Value::from(2), Value::from(2.0)]).unwrap(),
            Value::Bool(true)
        );
        assert_eq!(call("gt", &[s("b"), s("a")]).unwrap(), Value::Bool(true));
        assert_eq!(call("ge", &[s("a"), s("b")]).unwrap(), Value::Bool(false));
    }

    #[test]
    fn ordering_rejects_mixed_and_unordered_types() {
        assert_eq!(
            call("lt", &[s("a"), Value::from(1)]).unwrap_err(),
            "incompatible types for comparison: string and number"
        );
        assert_eq!(
            call("lt", &[Value::Null, Value::from(1)]).unwrap_err(),
            "invalid type for comparison: null"
        );
        assert_eq!(
            call("lt", &[Value::Bool(true), Value::Bool(false)]).unwrap_err(),
            "invalid type for comparison: boolean"
        );
    }

    #[test]
    fn printf_needs_a_string_format() {
        assert_eq!(call("printf", &[s("%d-%s"), Value::from(1), s("a")]).unwrap(), s("1-a"));
        assert_eq!(
            call("printf", &[Value::from(1)]).unwrap_err(),
            "wrong type for value; expected string; got number"
        );
    }

    #[test]
    fn html_escapes_markup_characters() {
        assert_eq!(
            call("html", &[s("<a href=\"x\">'&'</a>")]).unwrap(),
            s("&lt;a href=&#34;x&#34;&gt;&#39;&amp;&#39;&lt;/a&gt;")
        );
        assert_eq!(call("html", &[Value::Null]).unwrap(), s("&lt;no value&gt;"));
    }

    #[test]
    fn js_escapes_quotes_markup_and_controls() {
        assert_eq!(
            call("js", &[s("a'b\"c<d>=&\\\n\u{2028}é")]).unwrap(),
            s("a\\'b\\\"c\\u003Cd\\u003E\\u003D\\u0026\\\\\\u000A\\u2028é")
        );
    }

    #[test]
    fn urlquery_escapes_query_components() {
        assert_eq!(call("urlquery", &[s("a b&c=d/é")]).unwrap(), s("a+b%26c%3Dd%2F%C3%A9"));
        assert_eq!(call("urlquery", &[s("x"), Value::from(1)]).unwrap(), s("x1"));
    }

    #[test]
    fn to_json_prints_compact_json() {
        let v = Value::from_json(r#"{"a": [1, "x", null]}"#).unwrap();
        assert_eq!(call("toJson", &[v]).unwrap(), s(r#"{"a":[1,"x",null]}"#));
        assert_eq!(call("toJson", &[s("q\"")]).unwrap(), s(r#""q\"""#));
    }

    #[test]
    fn string_helpers_transform_strings() {
        assert_eq!(call("lower", &[s("ÀB")]).unwrap(), s("àb"));
        assert_eq!(call("upper", &[s("àb")]).unwrap(), s("ÀB"));
        assert_eq!(call("trim", &[s(" \t x \n")]).unwrap(), s("x"));
        assert_eq!(call("contains", &[s("catch"), s("cat")]).unwrap(), Value::Bool(true));
        assert_eq!(call("replace", &[s("a-b-c"), s("-"), s("+")]).unwrap(), s("a+b+c"));
        assert_eq!(
            call("lower", &[Value::from(1)]).unwrap_err(),
            "wrong type for value; expected string; got number"
        );
    }

    #[test]
    fn split_and_join_convert_between_strings_and_arrays() {
        assert_eq!(
            call("split", &[s("a,b,,c"), s(",")]).unwrap().to_json(),
            r#"["a","b","","c"]"#
        );
        assert_eq!(call("split", &[s("ab"), s("")]).unwrap().to_json(), r#"["a","b"]"#);
        let list = Value::from_json(r#"["a", 1, 2.5, true]"#).unwrap();
        assert_eq!(call("join", &[list, s(", ")]).unwrap(), s("a, 1, 2.5, true"));
        assert_eq!(
            call("join", &[s("x"), s(",")]).unwrap_err(),
            "wrong type for value; expected array; got string"
        );
    }
}
