//! JSON numbers: integers stay integers, everything else is a float.

use std::fmt;

/// A JSON number. Integers that fit in an `i64` stay integers (so `3` round-trips
/// as `3`, not `3.0`); other numbers are `f64`.
#[repr(u8)]
#[derive(Clone, Copy, abi_stable::StableAbi)]
pub enum Number {
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
}

impl Number {
    /// The value as an `f64`.
    pub fn as_f64(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Float(f) => f,
        }
    }

    /// The value as an `i64`, when it is an integer or a float with no fraction in range.
    pub fn as_i64(self) -> Option<i64> {
        match self {
            Number::Int(i) => Some(i),
            #[expect(
                clippy::cast_possible_truncation,
                reason = "a whole number in i64's range: checked by the guard"
            )]
            Number::Float(f) if f.fract() == 0.0 && f >= i64::MIN as f64 && f < i64::MAX as f64 => Some(f as i64),
            Number::Float(_) => None,
        }
    }

    /// Whether this number is stored as an integer.
    pub fn is_integer(self) -> bool {
        matches!(self, Number::Int(_))
    }
}

impl PartialEq for Number {
    /// Numbers compare by value: `1 == 1.0`.
    fn eq(&self, other: &Number) -> bool {
        match (self, other) {
            (Number::Int(a), Number::Int(b)) => a == b,
            _ => self.as_f64() == other.as_f64(),
        }
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Number) -> Option<std::cmp::Ordering> {
        match (self, other) {
            (Number::Int(a), Number::Int(b)) => a.partial_cmp(b),
            _ => self.as_f64().partial_cmp(&other.as_f64()),
        }
    }
}

impl fmt::Display for Number {
    /// Formats as JSON does: integers without a fraction, floats in their
    /// shortest round-trip form (`2.5`, `1e21`); NaN and infinities, which
    /// JSON cannot hold, print as `null`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Number::Int(i) => write!(f, "{i}"),
            Number::Float(x) if x.is_finite() => {
                let text = serde_json::Number::from_f64(*x)
                    .map(|n| n.to_string())
                    .unwrap_or_default();
                f.write_str(&text)
            }
            Number::Float(_) => f.write_str("null"),
        }
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
