//! Positions in workflow files, for error messages.

use std::fmt;
use std::ops::Deref;
use std::path::Path;

use serde::{Deserialize, Deserializer};

/// A 1-based line and column in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
}

impl Position {
    /// Line `line`, column `column` (1-based), as a parser counts them:
    /// past `u32::MAX` they stay at `u32::MAX`.
    pub fn new(line: impl TryInto<u32>, column: impl TryInto<u32>) -> Position {
        Position {
            line: line.try_into().unwrap_or(u32::MAX),
            column: column.try_into().unwrap_or(u32::MAX),
        }
    }

    /// The position of byte `offset` in `source`.
    pub fn of_offset(source: &str, offset: usize) -> Position {
        let before = &source[..offset.min(source.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        Position::new(line, column)
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// A value with the position it was written at, when the file format tells.
///
/// YAML files give exact positions; JSON and TOML files get the line of the
/// value's first mention (see [`crate::parse`]).
#[derive(Debug, Clone)]
pub struct Located<T> {
    /// The value.
    pub value: T,
    /// Where it was written, if known.
    pub position: Option<Position>,
}

impl<T> Located<T> {
    /// A value with no known position.
    pub fn unplaced(value: T) -> Self {
        Located { value, position: None }
    }
}

impl<T> Deref for Located<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: PartialEq> PartialEq for Located<T> {
    /// Positions do not take part in equality.
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Located<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = serde_saphyr::Spanned::<T>::deserialize(deserializer)?;
        let at = spanned.referenced;
        let position = (at.line() > 0).then(|| Position::new(at.line(), at.column()));
        Ok(Located {
            value: spanned.value,
            position,
        })
    }
}

/// `file:line:column: ` as compilers print it, with whatever parts are known.
pub(crate) fn location_prefix(file: Option<&Path>, position: Option<Position>) -> String {
    match (file, position) {
        (Some(f), Some(p)) => format!("{}:{p}: ", f.display()),
        (Some(f), None) => format!("{}: ", f.display()),
        (None, Some(p)) => format!("line {p}: "),
        (None, None) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_position_past_u32_stays_at_the_maximum() {
        assert_eq!(Position::new(3u64, 7usize), Position { line: 3, column: 7 });
        let far = Position::new(u64::MAX, u64::from(u32::MAX) + 1);
        assert_eq!((far.line, far.column), (u32::MAX, u32::MAX));
        assert_eq!(Position::of_offset("a\nbc", 4), Position { line: 2, column: 3 });
    }
}
