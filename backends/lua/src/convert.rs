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
//!   many bytes as the JSON text would take (16 per value plus string and key
//!   lengths). A table met twice (not a cycle: shared) is read once and its
//!   value shared, but charged at every mention, so a few KB of Lua naming one
//!   subtable a million times cannot expand to gigabytes.

use std::collections::{HashMap, HashSet};
use std::fmt;

use mlua::{Lua, Table, Value as LuaValue};
use pocket_core::{Map, Number, Value};
use pocket_value::{VALUE_SIZE, with_stack};

/// A Lua value has no JSON form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) struct ConvertError {
    /// Where in the value, innermost segment last once finished (`.items[2]`).
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

    fn within(mut self, segment: String) -> Self {
        self.path.push(segment);
        self
    }
}

impl fmt::Display for ConvertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            return f.write_str(&self.message);
        }
        let path: String = self.path.iter().rev().map(String::as_str).collect();
        write!(f, "{} at {path}", self.message)
    }
}

/// Builds the Lua form of `value`; arrays get `array_marker` as their metatable.
pub(crate) fn to_lua(lua: &Lua, value: &Value, array_marker: &Table) -> mlua::Result<LuaValue> {
    Ok(match value {
        Value::Null => LuaValue::NULL,
        Value::Bool(b) => LuaValue::Boolean(*b),
        Value::Number(Number::Int(i)) => LuaValue::Integer(*i),
        Value::Number(Number::Float(f)) => LuaValue::Number(*f),
        Value::String(s) => LuaValue::String(lua.create_string(s.as_bytes())?),
        Value::Array(items) => with_stack(|| {
            let table = lua.create_table_with_capacity(items.len(), 0)?;
            for (i, item) in items.iter().enumerate() {
                table.raw_set(i + 1, to_lua(lua, item, array_marker)?)?;
            }
            table.set_metatable(Some(array_marker.clone()))?;
            Ok::<_, mlua::Error>(LuaValue::Table(table))
        })?,
        Value::Object(map) => with_stack(|| {
            let table = lua.create_table_with_capacity(0, map.len())?;
            for (key, item) in map.iter() {
                table.raw_set(key.as_str(), to_lua(lua, item, array_marker)?)?;
            }
            Ok::<_, mlua::Error>(LuaValue::Table(table))
        })?,
    })
}

/// Reads a Lua value as JSON, following the module's rules, within a
/// budget of `max_bytes`.
pub(crate) fn from_lua(value: &LuaValue, array_marker: &Table, max_bytes: u64) -> Result<Value, ConvertError> {
    Reader {
        array_marker,
        open: Vec::new(),
        open_deep: HashSet::new(),
        shared: HashMap::new(),
        left: max_bytes,
        limit: max_bytes,
    }
    .read(value)
}

/// How many open tables are tracked in a plain list before a set takes over.
const SHALLOW: usize = 64;

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

impl Reader<'_> {
    fn charge(&mut self, bytes: u64) -> Result<(), ConvertError> {
        self.left = self
            .left
            .checked_sub(bytes)
            .ok_or_else(|| ConvertError::too_large(self.limit))?;
        Ok(())
    }

    fn read(&mut self, value: &LuaValue) -> Result<Value, ConvertError> {
        let text_len = match value {
            LuaValue::String(s) => s.as_bytes().len() as u64,
            _ => 0,
        };
        // The same measure as `Value::approx_size`.
        self.charge(VALUE_SIZE + text_len)?;
        match value {
            LuaValue::Nil => Ok(Value::Null),
            LuaValue::LightUserData(p) if p.0.is_null() => Ok(Value::Null),
            LuaValue::Boolean(b) => Ok(Value::Bool(*b)),
            LuaValue::Integer(i) => Ok(Value::Number(Number::Int(*i))),
            LuaValue::Number(f) => Ok(Value::Number(Number::Float(*f))),
            LuaValue::String(s) => Ok(match s.to_str() {
                Ok(text) => Value::string(&*text),
                Err(_) => Value::from(s.to_string_lossy()),
            }),
            LuaValue::Table(table) => with_stack(|| self.table(table)),
            other => Err(ConvertError::new(format!(
                "a Lua {} has no JSON form",
                other.type_name()
            ))),
        }
    }

    fn table(&mut self, table: &Table) -> Result<Value, ConvertError> {
        let id = table.to_pointer() as usize;
        if self.open.contains(&id) || self.open_deep.contains(&id) {
            return Err(ConvertError::new("a table that contains itself has no JSON form"));
        }
        if let Some((value, cost)) = self.shared.get(&id).cloned() {
            self.charge(cost)?;
            return Ok(value);
        }
        let before = self.left;
        let deep = self.open.len() >= SHALLOW;
        if deep {
            self.open_deep.insert(id);
        } else {
            self.open.push(id);
        }
        let result = if table.metatable().is_some_and(|m| m == *self.array_marker) {
            self.marked_array(table)
        } else {
            self.plain_table(table)
        };
        if deep {
            self.open_deep.remove(&id);
        } else {
            self.open.pop();
        }
        let value = result?;
        self.shared.insert(id, (value.clone(), before - self.left));
        Ok(value)
    }

    fn marked_array(&mut self, table: &Table) -> Result<Value, ConvertError> {
        let mut items = Vec::with_capacity(table.raw_len());
        for i in 1..=table.raw_len() {
            let item: LuaValue = table.raw_get(i).map_err(|e| ConvertError::new(e.to_string()))?;
            items.push(self.read(&item).map_err(|e| e.within(format!("[{i}]")))?);
        }
        Ok(Value::array(items))
    }

    fn plain_table(&mut self, table: &Table) -> Result<Value, ConvertError> {
        let mut entries: Vec<(LuaValue, LuaValue)> = Vec::new();
        for pair in table.pairs::<LuaValue, LuaValue>() {
            entries.push(pair.map_err(|e| ConvertError::new(e.to_string()))?);
        }
        if let Some(items) = as_sequence(&entries) {
            let mut array = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                array.push(self.read(item).map_err(|e| e.within(format!("[{}]", i + 1)))?);
            }
            return Ok(Value::array(array));
        }
        let mut keyed = Vec::with_capacity(entries.len());
        for (key, item) in &entries {
            let key = key_text(key)?;
            self.charge(key.len() as u64)?;
            keyed.push((key, item));
        }
        keyed.sort_by(|a, b| a.0.cmp(&b.0));
        let map = keyed
            .into_iter()
            .map(|(key, item)| {
                let value = self.read(item).map_err(|e| e.within(format!(".{key}")))?;
                Ok((key, value))
            })
            .collect::<Result<Map, _>>()?;
        Ok(Value::from(map))
    }
}

/// The values in key order, when the keys are exactly the integers `1..n`, `n >= 1`.
fn as_sequence(entries: &[(LuaValue, LuaValue)]) -> Option<Vec<&LuaValue>> {
    if entries.is_empty() {
        return None;
    }
    let n = entries.len();
    let mut slots: Vec<Option<&LuaValue>> = vec![None; n];
    for (key, value) in entries {
        let LuaValue::Integer(i) = key else { return None };
        let index = usize::try_from(*i).ok().filter(|i| (1..=n).contains(i))?;
        slots[index - 1] = Some(value);
    }
    slots.into_iter().collect()
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
