//! [`RValue`]: Pocket's JSON value in a form that crosses the library
//! boundary, and its conversions to and from [`pocket_value::Value`].
//!
//! Conversions walk the tree directly (no JSON text) and grow the stack on
//! demand, so values of any depth convert safely. Converting an `RValue` by
//! value takes it apart as it goes, so a deep `RValue` is never dropped by
//! deep recursion.

use abi_stable::StableAbi;
use abi_stable::std_types::{RString, RVec, Tuple2};
use pocket_value::{Map, Number, Value, with_stack};

/// A JSON value with a stable layout: what inputs, configs and outputs are
/// while they cross between Pocket and a native plugin.
#[repr(u8)]
#[derive(StableAbi, Debug)]
pub enum RValue {
    /// JSON `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A string.
    String(RString),
    /// An array.
    Array(RVec<RValue>),
    /// An object; entries keep their order.
    Object(RVec<Tuple2<RString, RValue>>),
}

impl From<&Value> for RValue {
    fn from(value: &Value) -> RValue {
        match value {
            Value::Null => RValue::Null,
            Value::Bool(b) => RValue::Bool(*b),
            Value::Number(Number::Int(i)) => RValue::Int(*i),
            Value::Number(Number::Float(f)) => RValue::Float(*f),
            Value::String(s) => RValue::String(RString::from(&**s)),
            Value::Array(items) => with_stack(|| RValue::Array(items.iter().map(RValue::from).collect())),
            Value::Object(entries) => with_stack(|| {
                RValue::Object(
                    entries
                        .iter()
                        .map(|(k, v)| Tuple2(RString::from(k.as_str()), RValue::from(v)))
                        .collect(),
                )
            }),
        }
    }
}

impl From<RValue> for Value {
    fn from(value: RValue) -> Value {
        match value {
            RValue::Null => Value::Null,
            RValue::Bool(b) => Value::Bool(b),
            RValue::Int(i) => Value::Number(Number::Int(i)),
            RValue::Float(f) => Value::Number(Number::Float(f)),
            RValue::String(s) => Value::String(s.as_str().into()),
            RValue::Array(items) => with_stack(|| Value::Array(items.into_iter().map(Value::from).collect())),
            RValue::Object(entries) => with_stack(|| {
                let mut map = Map::with_capacity(entries.len());
                for Tuple2(key, value) in entries {
                    map.insert(String::from(key.as_str()), Value::from(value));
                }
                Value::Object(map.into())
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_without_losing_kinds_or_order() {
        let text = r#"{"z":1,"a":[true,null,2.5,"x",{}],"m":{"k":-7}}"#;
        let value = Value::from_json(text).unwrap();
        let back = Value::from(RValue::from(&value));
        assert_eq!(back.to_json(), text);
        assert_eq!(back.get("z").and_then(Value::as_i64), Some(1));
    }

    #[test]
    fn deep_values_convert_on_a_small_stack() {
        std::thread::Builder::new()
            .stack_size(64 * 1024)
            .spawn(|| {
                let mut value = Value::from("leaf");
                for _ in 0..50_000 {
                    value = Value::array([value]);
                }
                let back = Value::from(RValue::from(&value));
                assert_eq!(back, value);
            })
            .unwrap()
            .join()
            .unwrap();
    }
}
