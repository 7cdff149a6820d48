//! Sizing JSON text before parsing it: a small text can parse into a large
//! tree (4 MB of `[` is two million nested arrays, and parsing them takes a
//! stack frame per level), so text from outside the host (a plugin's
//! response, a script's `json.decode`, an HTTP body a plugin asked for) is
//! measured first, in one linear pass, and parsed only within a budget:
//! [`Value::from_json_within`].

use crate::{CONTAINER_SIZE, Value};

/// The deepest nesting accepted in JSON text from outside the host.
pub const MAX_DEPTH: usize = 100_000;

/// About how many bytes of stack parsing takes for each level of nesting
/// (measured on x86-64: 480 optimized, 1,872 in a debug build; rounded up).
/// Counted as memory wherever untrusted text sets the depth, so that
/// nesting costs what it takes.
pub const STACK_PER_LEVEL: u64 = if cfg!(debug_assertions) { 2048 } else { 512 };

/// What parsing a JSON text would build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Footprint {
    /// The deepest nesting of arrays and objects.
    pub depth: usize,
    /// About how many bytes parsing it takes: [`CONTAINER_SIZE`] per array or object, 32
    /// per other value, the text itself, and [`STACK_PER_LEVEL`] per level
    /// of the deepest nesting.
    pub bytes: u64,
}

/// Why a JSON text was refused before parsing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TooBig {
    /// It nests deeper than [`MAX_DEPTH`].
    #[error("it nests {depth} levels deep, more than the {MAX_DEPTH} allowed")]
    TooDeep {
        /// How deep it goes (at least).
        depth: usize,
    },
    /// Its parsed form would take more than the limit.
    #[error("parsed, it would take about {bytes} bytes, more than the limit of {limit}")]
    TooLarge {
        /// The estimate.
        bytes: u64,
        /// The limit.
        limit: u64,
    },
}

/// Measures `text` as JSON without building anything. Malformed text is
/// measured as far as its brackets go; the parser reports what is wrong.
pub fn footprint(text: &str) -> Footprint {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let (mut containers, mut values) = (0u64, 0u64);
    let (mut in_string, mut escaped) = (false, false);
    for byte in text.bytes() {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => {
                in_string = true;
                values += 1;
            }
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
                containers += 1;
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b',' => values += 1,
            _ => {}
        }
    }
    Footprint {
        depth: deepest,
        bytes: (text.len() as u64)
            .saturating_add(containers.saturating_mul(CONTAINER_SIZE))
            .saturating_add(values.saturating_mul(32))
            .saturating_add((deepest as u64).saturating_mul(STACK_PER_LEVEL)),
    }
}

/// Refuses `text` if it nests deeper than [`MAX_DEPTH`] or would parse into
/// more than `max_bytes`.
pub fn check_footprint(text: &str, max_bytes: u64) -> Result<(), TooBig> {
    let measured = footprint(text);
    if measured.depth > MAX_DEPTH {
        return Err(TooBig::TooDeep { depth: measured.depth });
    }
    if measured.bytes > max_bytes {
        return Err(TooBig::TooLarge {
            bytes: measured.bytes,
            limit: max_bytes,
        });
    }
    Ok(())
}

/// Why JSON text from outside the host was not parsed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UntrustedJsonError {
    /// It was refused before parsing: too deep, or too large once parsed.
    #[error("{0}")]
    TooBig(#[from] TooBig),
    /// It is not valid JSON.
    #[error("{0}")]
    Invalid(#[from] serde_json::Error),
}

impl Value {
    /// Parses JSON text from outside the host within a budget: text that
    /// nests deeper than [`MAX_DEPTH`] or whose parsing would take more than
    /// `max_bytes` ([`check_footprint`]) is refused before anything is
    /// built. Every conversion of untrusted JSON text into a value goes
    /// through here.
    pub fn from_json_within(text: &str, max_bytes: u64) -> Result<Value, UntrustedJsonError> {
        check_footprint(text, max_bytes)?;
        Ok(Value::from_json(text)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_inside_strings_do_not_count() {
        let measured = footprint(r#"{"a": ["[[[", "\"{"], "b": {}}"#);
        assert_eq!(measured.depth, 2);
    }

    #[test]
    fn deep_and_wide_texts_are_refused_before_parsing() {
        let deep = "[".repeat(MAX_DEPTH + 1);
        assert_eq!(
            check_footprint(&deep, u64::MAX),
            Err(TooBig::TooDeep { depth: MAX_DEPTH + 1 })
        );
        let wide = format!("[{}{{}}]", "{},".repeat(100_000));
        assert!(matches!(check_footprint(&wide, 1 << 20), Err(TooBig::TooLarge { .. })));
        assert_eq!(check_footprint(r#"{"ok": [1, 2, 3]}"#, 1 << 20), Ok(()));
    }
}
