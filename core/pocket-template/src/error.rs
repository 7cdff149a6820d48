//! Errors: where in the template source a problem is, and what it is.

/// A template that could not be parsed.
///
/// Displays as `line 1, column 12: function "foo" not defined`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct ParseError {
    line: usize,
    column: usize,
    message: String,
}

/// A template that failed while rendering against some data.
///
/// Displays as `line 1, column 4: error calling index: index out of range: 5`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct RenderError {
    line: usize,
    column: usize,
    message: String,
}

impl ParseError {
    /// The 1-based line of the template source where the problem is.
    pub fn line(&self) -> usize {
        self.line
    }

    /// The 1-based column (in characters) on that line.
    pub fn column(&self) -> usize {
        self.column
    }

    /// What is wrong, without the position.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl RenderError {
    /// The 1-based line of the template source where the problem is.
    pub fn line(&self) -> usize {
        self.line
    }

    /// The 1-based column (in characters) on that line.
    pub fn column(&self) -> usize {
        self.column
    }

    /// What is wrong, without the position.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// A problem at a byte offset of the template source; the lexer, parser and
/// executor report this and [`crate::Template`] turns it into a public error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Located {
    pub(crate) pos: usize,
    pub(crate) message: String,
}

impl Located {
    pub(crate) fn new(pos: usize, message: impl Into<String>) -> Located {
        Located {
            pos,
            message: message.into(),
        }
    }

    pub(crate) fn into_parse_error(self, source: &str) -> ParseError {
        let (line, column) = line_and_column(source, self.pos);
        ParseError {
            line,
            column,
            message: self.message,
        }
    }

    pub(crate) fn into_render_error(self, source: &str) -> RenderError {
        let (line, column) = line_and_column(source, self.pos);
        RenderError {
            line,
            column,
            message: self.message,
        }
    }
}

/// The 1-based line and character column of byte offset `pos` in `source`.
fn line_and_column(source: &str, pos: usize) -> (usize, usize) {
    let mut pos = pos.min(source.len());
    while !source.is_char_boundary(pos) {
        pos -= 1;
    }
    let before = &source[..pos];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = 1 + before.matches('\n').count();
    let column = 1 + before[line_start..].chars().count();
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_lines_and_characters_from_one() {
        assert_eq!(line_and_column("abc", 0), (1, 1));
        assert_eq!(line_and_column("ab\ncd", 4), (2, 2));
        assert_eq!(line_and_column("é{{", 2), (1, 2));
    }

    #[test]
    fn errors_display_position_then_message() {
        let err = Located::new(11, "function \"foo\" not defined").into_parse_error("hello {{ . foo }}");
        assert_eq!(err.to_string(), "line 1, column 12: function \"foo\" not defined");
        assert_eq!((err.line(), err.column()), (1, 12));
        assert_eq!(err.message(), "function \"foo\" not defined");
    }

    #[test]
    fn errors_are_send_sync_and_static() {
        fn check<T: Send + Sync + 'static + std::error::Error>() {}
        check::<ParseError>();
        check::<RenderError>();
    }
}
