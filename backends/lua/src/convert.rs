//! Conversion between Pocket's JSON [`Value`] and Lua values, directly (no JSON text).
//!
//! The rules, as the crate doc states them:
//! - `null` becomes `json.null` (a light userdata), so nulls keep their place
//!   in arrays; `nil` and `json.null` both become `null`.
//! - Integers stay integers and floats stay floats, both ways.
//! - A JSON array becomes a sequence carrying the array marker (the metatable
//!   `json.array` sets), so `[]` comes back as `[]`.
//! - A Lua table becomes an array when it carries the marker (elements
//!   `1..#t`), or when its keys are exactly `1..n` with `n >= 1`; otherwise an
//!   object, keys sorted, integer and float keys written as decimal text. An
//!   empty table without the marker becomes `{}`.
//! - Strings that are not UTF-8 are converted lossily; functions, coroutines,
//!   userdata, tables that contain themselves, and keys other than strings and
//!   numbers are errors naming where in the value they are.
//! - Lua's memory limit stops counting once a value leaves Lua, so reading
//!   one has a budget of its own: the state's memory limit, charged about as
//!   many bytes as the host takes to hold it (16 per value plus string and key
//!   lengths, and 128 more per table: its container, and the frame that
//!   reads it). Reading is a loop over a list of open tables, not recursion,
//!   so depth costs no stack. A table met twice (not a cycle: shared) is read
//!   once and its value shared, but charged at every mention, so a few KB of
//!   Lua naming one subtable a million times cannot expand to gigabytes.
//! - Building Lua values is a loop too, and the tables are Lua's, counted by
//!   its memory limit.

use std::collections::{HashMap, HashSet};
use std::fmt;

use mlua::{Lua, Table, Value as LuaValue};
use pocket_core::{Map, Number, Value};
use pocket_value::{CONTAINER_SIZE, VALUE_SIZE};

/// A Lua value has no JSON form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) struct ConvertError {
    /// Where in the value, outermost first (`.items`, `[2]`).
    path: Vec<String>,
    message: String,
    /// The value is larger than the conversion budget.
    too_large: bool,
}

impl ConvertError {
    fn new(message: impl Into<String>) -> Self {
        ConvertError {
            path: Vec::new(),
            message: message.into(),
            too_large: false,
        }
    }

    fn too_large(limit: u64) -> Self {
        ConvertError {
            too_large: true,
            ..ConvertError::new(format!("the value is larger than the memory limit of {limit} bytes"))
        }
    }

    /// Whether the value was refused for its size (the memory limit).
    pub(crate) fn is_too_large(&self) -> bool {
        self.too_large
    }
}

impl fmt::Display for ConvertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            return f.write_str(&self.message);
        }
        let path: String = self.path.concat();
        write!(f, "{} at {path}", self.message)
    }
}

/// Where an element goes in the table being filled.
enum Slot<'v> {
    Index(usize),
    Key(&'v str),
}

/// The elements of a container still to convert.
type Children<'v> = Box<dyn Iterator<Item = (Slot<'v>, &'v Value)> + 'v>;

/// Builds the Lua form of `value`; arrays get `array_marker` as their metatable.
///
/// Iterative: whatever the depth, the host keeps one small frame per open
/// container (no stack), and the tables are Lua's, counted by its memory
/// limit, so a value too large for the state fails with Lua's memory error.
pub(crate) fn to_lua(lua: &Lua, value: &Value, array_marker: &Table) -> mlua::Result<LuaValue> {
    let (root, elements) = open(lua, value, array_marker)?;
    let mut pending: Vec<(Table, Children<'_>)> = Vec::new();
    if let (LuaValue::Table(table), Some(elements)) = (&root, elements) {
        pending.push((table.clone(), elements));
    }
    while let Some((_, elements)) = pending.last_mut() {
        let Some((slot, item)) = elements.next() else {
            pending.pop();
            continue;
        };
        let (converted, elements) = open(lua, item, array_marker)?;
        let (table, _) = pending.last().expect("the table being filled");
        match slot {
            Slot::Index(i) => table.raw_set(i, &converted)?,
            Slot::Key(key) => table.raw_set(key, &converted)?,
        }
        if let (LuaValue::Table(child), Some(elements)) = (converted, elements) {
            pending.push((child, elements));
        }
    }
    Ok(root)
}

/// A scalar's Lua value, or a new (empty) table for a container with the
/// elements to fill it with.
fn open<'v>(lua: &Lua, value: &'v Value, array_marker: &Table) -> mlua::Result<(LuaValue, Option<Children<'v>>)> {
    Ok(match value {
        Value::Null => (LuaValue::NULL, None),
        Value::Bool(b) => (LuaValue::Boolean(*b), None),
        Value::Number(Number::Int(i)) => (LuaValue::Integer(*i), None),
        Value::Number(Number::Float(f)) => (LuaValue::Number(*f), None),
        Value::String(s) => (LuaValue::String(lua.create_string(s.as_bytes())?), None),
        Value::Array(items) => {
            let table = lua.create_table_with_capacity(items.len(), 0)?;
            table.set_metatable(Some(array_marker.clone()))?;
            let elements = items.iter().enumerate().map(|(i, item)| (Slot::Index(i + 1), item));
            (LuaValue::Table(table), Some(Box::new(elements)))
        }
        Value::Object(map) => {
            let table = lua.create_table_with_capacity(0, map.len())?;
            let elements = map.iter().map(|(key, item)| (Slot::Key(key.as_str()), item));
            (LuaValue::Table(table), Some(Box::new(elements)))
        }
    })
}

/// Reads a Lua value as JSON, following the module's rules, within a
/// budget of `max_bytes`.
pub(crate) fn from_lua(value: &LuaValue, array_marker: &Table, max_bytes: u64) -> Result<Value, ConvertError> {
    let mut reader = Reader {
        array_marker,
        open: Vec::new(),
        open_deep: HashSet::new(),
        shared: HashMap::new(),
        left: max_bytes,
        limit: max_bytes,
    };
    let mut reading = Vec::new();
    reader.read(value, &mut reading).map_err(|e| e.at(&reading))
}

/// How many open tables are tracked in a plain list before a set takes over.
const SHALLOW: usize = 64;

/// The most path segments an error names (the outermost ones).
const MAX_PATH: usize = 32;

struct Reader<'a> {
    array_marker: &'a Table,
    /// The tables being read, outermost first: meeting one again is a cycle.
    /// The first [`SHALLOW`] levels live in a list (no hashing for small
    /// values), deeper ones in a set (no quadratic scans for deep ones).
    open: Vec<usize>,
    open_deep: HashSet<usize>,
    /// Tables read already, with what they cost: met again, they are shared.
    shared: HashMap<usize, (Value, u64)>,
    /// The budget left, and the whole of it.
    left: u64,
    limit: u64,
}

/// A table being read (the reader keeps these in a list, not on the stack).
struct Open {
    id: usize,
    /// The budget left when it was opened: the difference is what it cost.
    left_before: u64,
    /// The element being read, as an error's path names it.
    at: Segment,
    elements: Elements,
}

/// Where in its table an element is.
enum Segment {
    None,
    Index(usize),
    Key(String),
}

/// What a table becomes, with what of it is left to read.
enum Elements {
    /// An array marked by `json.array`: elements `next..=len`, read one at a time.
    Marked {
        table: Table,
        next: usize,
        len: usize,
        items: Vec<Value>,
    },
    /// A sequence (keys `1..n`).
    Listed {
        left: std::vec::IntoIter<LuaValue>,
        items: Vec<Value>,
    },
    /// An object, keys sorted.
    Keyed {
        left: std::vec::IntoIter<(String, LuaValue)>,
        entries: Vec<(String, Value)>,
    },
}

impl Open {
    /// The next element to read, setting `at` to it; `None` when all are read.
    fn next(&mut self) -> Result<Option<LuaValue>, ConvertError> {
        let (at, item) = match &mut self.elements {
            Elements::Marked { table, next, len, .. } => {
                if *next > *len {
                    return Ok(None);
                }
                let item = table.raw_get(*next).map_err(|e| ConvertError::new(e.to_string()))?;
                *next += 1;
                (Segment::Index(*next - 1), item)
            }
            Elements::Listed { left, items } => match left.next() {
                Some(item) => (Segment::Index(items.len() + 1), item),
                None => return Ok(None),
            },
            Elements::Keyed { left, .. } => match left.next() {
                Some((key, item)) => (Segment::Key(key), item),
                None => return Ok(None),
            },
        };
        self.at = at;
        Ok(Some(item))
    }

    /// Takes the element just read.
    fn accept(&mut self, value: Value) {
        match &mut self.elements {
            Elements::Marked { items, .. } | Elements::Listed { items, .. } => items.push(value),
            Elements::Keyed { entries, .. } => {
                if let Segment::Key(key) = std::mem::replace(&mut self.at, Segment::None) {
                    entries.push((key, value));
                }
            }
        }
    }

    /// The value the table became.
    fn value(self) -> Value {
        match self.elements {
            Elements::Marked { items, .. } | Elements::Listed { items, .. } => Value::array(items),
            Elements::Keyed { entries, .. } => Value::from(entries.into_iter().collect::<Map>()),
        }
    }
}

impl ConvertError {
    /// Places the error at the elements being read when it happened.
    fn at(mut self, reading: &[Open]) -> Self {
        let mut path: Vec<String> = reading
            .iter()
            .take(MAX_PATH)
            .filter_map(|open| match &open.at {
                Segment::None => None,
                Segment::Index(i) => Some(format!("[{i}]")),
                Segment::Key(key) => Some(format!(".{key}")),
            })
            .collect();
        if reading.len() > MAX_PATH {
            path.push("...".to_string());
        }
        self.path = path;
        self
    }
}

/// What reading one value gave: a value, or a table opened (its elements next).
enum Read {
    Done(Value),
    Opened(Open),
}

impl Reader<'_> {
    fn charge(&mut self, bytes: u64) -> Result<(), ConvertError> {
        self.left = self
            .left
            .checked_sub(bytes)
            .ok_or_else(|| ConvertError::too_large(self.limit))?;
        Ok(())
    }

    /// Reads `value` keeping the open tables in `reading` (left as it was
    /// when an error happened), not on the stack: any depth reads in a
    /// loop, and the host holds one small frame per open table.
    fn read(&mut self, value: &LuaValue, reading: &mut Vec<Open>) -> Result<Value, ConvertError> {
        let mut next = value.clone();
        loop {
            let mut finished = match self.start(&next)? {
                Read::Done(value) => Some(value),
                Read::Opened(open) => {
                    reading.push(open);
                    None
                }
            };
            // Hand finished values to their tables until one has an element left.
            loop {
                let Some(top) = reading.last_mut() else {
                    return Ok(finished.unwrap_or_default());
                };
                if let Some(value) = finished.take() {
                    top.accept(value);
                }
                if let Some(item) = top.next()? {
                    next = item;
                    break;
                }
                let open = reading.pop().expect("the table just read");
                finished = Some(self.close(open));
            }
        }
    }

    /// Reads a scalar, or opens a table (charging it) for its elements to be read.
    fn start(&mut self, value: &LuaValue) -> Result<Read, ConvertError> {
        let text_len = match value {
            LuaValue::String(s) => s.as_bytes().len() as u64,
            _ => 0,
        };
        // The same measure as `Value::approx_size`.
        self.charge(VALUE_SIZE + text_len)?;
        Ok(Read::Done(match value {
            LuaValue::Nil => Value::Null,
            LuaValue::LightUserData(p) if p.0.is_null() => Value::Null,
            LuaValue::Boolean(b) => Value::Bool(*b),
            LuaValue::Integer(i) => Value::Number(Number::Int(*i)),
            LuaValue::Number(f) => Value::Number(Number::Float(*f)),
            LuaValue::String(s) => match s.to_str() {
                Ok(text) => Value::string(&*text),
                Err(_) => Value::from(s.to_string_lossy()),
            },
            LuaValue::Table(table) => return self.open(table),
            other => {
                return Err(ConvertError::new(format!(
                    "a Lua {} has no JSON form",
                    other.type_name()
                )));
            }
        }))
    }

    fn open(&mut self, table: &Table) -> Result<Read, ConvertError> {
        let id = table.to_pointer() as usize;
        if self.open.contains(&id) || self.open_deep.contains(&id) {
            return Err(ConvertError::new("a table that contains itself has no JSON form"));
        }
        if let Some((value, cost)) = self.shared.get(&id).cloned() {
            self.charge(cost)?;
            return Ok(Read::Done(value));
        }
        let left_before = self.left;
        // The container and its frame while it is read.
        self.charge(CONTAINER_SIZE)?;
        let elements = if table.metatable().is_some_and(|m| m == *self.array_marker) {
            let len = table.raw_len();
            Elements::Marked {
                table: table.clone(),
                next: 1,
                len,
                items: Vec::with_capacity(len),
            }
        } else {
            self.plain_table(table)?
        };
        if self.open.len() < SHALLOW {
            self.open.push(id);
        } else {
            self.open_deep.insert(id);
        }
        Ok(Read::Opened(Open {
            id,
            left_before,
            at: Segment::None,
            elements,
        }))
    }

    /// A table without the marker: a sequence, or an object (keys charged and sorted).
    fn plain_table(&mut self, table: &Table) -> Result<Elements, ConvertError> {
        let mut entries: Vec<(LuaValue, LuaValue)> = Vec::new();
        for pair in table.pairs::<LuaValue, LuaValue>() {
            entries.push(pair.map_err(|e| ConvertError::new(e.to_string()))?);
        }
        let entries = match into_sequence(entries) {
            Ok(items) => {
                return Ok(Elements::Listed {
                    items: Vec::with_capacity(items.len()),
                    left: items.into_iter(),
                });
            }
            Err(entries) => entries,
        };
        let mut keyed = Vec::with_capacity(entries.len());
        for (key, item) in entries {
            let key = key_text(&key)?;
            self.charge(key.len() as u64)?;
            keyed.push((key, item));
        }
        keyed.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(Elements::Keyed {
            entries: Vec::with_capacity(keyed.len()),
            left: keyed.into_iter(),
        })
    }

    /// Ends reading a table: its value, kept to share if it is met again.
    fn close(&mut self, open: Open) -> Value {
        if self.open.last() == Some(&open.id) {
            self.open.pop();
        } else {
            self.open_deep.remove(&open.id);
        }
        let (id, cost) = (open.id, open.left_before - self.left);
        let value = open.value();
        self.shared.insert(id, (value.clone(), cost));
        value
    }
}

/// The values in key order, when the keys are exactly the integers `1..n`,
/// `n >= 1`; else the entries as they were.
fn into_sequence(entries: Vec<(LuaValue, LuaValue)>) -> Result<Vec<LuaValue>, Vec<(LuaValue, LuaValue)>> {
    let n = entries.len();
    let is_sequence = n > 0
        && entries.iter().all(
            |(key, _)| matches!(key, LuaValue::Integer(i) if usize::try_from(*i).is_ok_and(|i| (1..=n).contains(&i))),
        );
    if !is_sequence {
        return Err(entries);
    }
    let mut slots: Vec<Option<LuaValue>> = vec![None; n];
    for (key, value) in entries {
        if let LuaValue::Integer(i) = key
            && let Ok(i) = usize::try_from(i)
        {
            slots[i - 1] = Some(value);
        }
    }
    // Keys are distinct, so n keys in 1..=n fill every slot.
    Ok(slots.into_iter().map(Option::unwrap_or_default).collect())
}

fn key_text(key: &LuaValue) -> Result<String, ConvertError> {
    match key {
        LuaValue::String(s) => Ok(s.to_string_lossy()),
        LuaValue::Integer(i) => Ok(i.to_string()),
        LuaValue::Number(f) => Ok(Number::Float(*f).to_string()),
        other => Err(ConvertError::new(format!(
            "a table key of type {} has no JSON form",
            other.type_name()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(json: &str) -> Value {
        let lua = Lua::new();
        let marker = lua.create_table().unwrap();
        let value = Value::from_json(json).unwrap();
        let lua_value = to_lua(&lua, &value, &marker).unwrap();
        from_lua(&lua_value, &marker, u64::MAX).unwrap()
    }

    fn read(lua: &Lua, source: &str) -> Result<Value, ConvertError> {
        let marker = lua.create_table().unwrap();
        let value: LuaValue = lua.load(source).eval().unwrap();
        from_lua(&value, &marker, u64::MAX)
    }

    #[test]
    fn json_values_round_trip_through_lua_unchanged() {
        let json = r#"{"a":1,"b":2.5,"c":[],"d":{},"e":[null,true,"x"],"f":{"g":[1,[2,[]]]}}"#;
        assert_eq!(round_trip(json).to_json(), json);
    }

    #[test]
    fn integers_stay_integers_and_floats_stay_floats() {
        let lua = Lua::new();
        assert_eq!(
            read(&lua, "return {i = 3, f = 3.0}").unwrap().to_json(),
            r#"{"f":3.0,"i":3}"#
        );
    }

    #[test]
    fn empty_lua_tables_are_objects_and_sequences_are_arrays() {
        let lua = Lua::new();
        assert_eq!(read(&lua, "return {}").unwrap().to_json(), "{}");
        assert_eq!(read(&lua, "return {10, 20}").unwrap().to_json(), "[10,20]");
        assert_eq!(
            read(&lua, "return {[1] = 'a', [3] = 'c'}").unwrap().to_json(),
            r#"{"1":"a","3":"c"}"#
        );
        assert_eq!(read(&lua, "return {1, x = 2}").unwrap().to_json(), r#"{"1":1,"x":2}"#);
    }

    #[test]
    fn functions_and_cycles_are_errors_that_say_where() {
        let lua = Lua::new();
        let err = read(&lua, "return {a = {b = print}}").unwrap_err();
        assert_eq!(err.to_string(), "a Lua function has no JSON form at .a.b");
        let err = read(&lua, "local t = {} t.self = t return t").unwrap_err();
        assert!(err.to_string().contains("contains itself"), "{err}");
        let err = read(&lua, "return {[{}] = 1}").unwrap_err();
        assert!(err.to_string().contains("key of type table"), "{err}");
    }

    #[test]
    fn a_shared_subtable_is_read_once_but_charged_at_every_mention() {
        let lua = Lua::new();
        let marker = lua.create_table().unwrap();
        // 2^30 mentions of one 100-byte string: about 100 GB as JSON.
        let value: LuaValue = lua
            .load("local t = {string.rep('x', 100)} for i = 1, 30 do t = {t, t} end return t")
            .eval()
            .unwrap();
        let err = from_lua(&value, &marker, 64 << 20).unwrap_err();
        assert!(err.is_too_large(), "{err}");
        assert!(err.to_string().contains("memory limit of 67108864 bytes"), "{err}");
        // A few mentions are fine, and share one value.
        let value: LuaValue = lua.load("local t = {1, 2} return {a = t, b = t}").eval().unwrap();
        let read = from_lua(&value, &marker, 1 << 20).unwrap();
        assert!(
            read.get("a")
                .unwrap()
                .as_array()
                .unwrap()
                .ptr_eq(read.get("b").unwrap().as_array().unwrap())
        );
    }

    #[test]
    fn ten_thousand_deep_values_convert_both_ways_on_a_small_stack() {
        std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(|| {
                let mut value = Value::from(1);
                for _ in 0..10_000 {
                    value = Value::object([("x", Value::array([value]))]);
                }
                let lua = Lua::new();
                let marker = lua.create_table().unwrap();
                let lua_value = to_lua(&lua, &value, &marker).unwrap();
                assert_eq!(from_lua(&lua_value, &marker, u64::MAX).unwrap(), value);
            })
            .unwrap()
            .join()
            .unwrap();
    }
}
