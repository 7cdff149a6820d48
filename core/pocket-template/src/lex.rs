//! The lexer: splits template source into text and action tokens the way Go's
//! `text/template/parse` lexer does, including trim markers and comments.

use crate::error::Located;

const LEFT_DELIM: &str = "{{";
const RIGHT_DELIM: &str = "}}";
const LEFT_COMMENT: &str = "/*";
const RIGHT_COMMENT: &str = "*/";

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Plain text outside actions (already trimmed by any trim markers).
    Text,
    /// `{{`, with or without a trim marker.
    LeftDelim,
    /// `}}`, with or without a trim marker.
    RightDelim,
    /// A run of spaces inside an action.
    Space,
    /// `:=`
    Declare,
    /// `=`
    Assign,
    /// `|`
    Pipe,
    /// `(`
    LeftParen,
    /// `)`
    RightParen,
    /// Any other printable ASCII character, such as `,`.
    Char,
    /// A double-quoted string, quotes included.
    String,
    /// A back-quoted string, quotes included.
    RawString,
    /// A character constant such as `'a'`, quotes included.
    CharConstant,
    /// A number literal.
    Number,
    /// `true` or `false`.
    Bool,
    /// `nil`
    Nil,
    /// `.` on its own.
    Dot,
    /// `.name`
    Field,
    /// `$` or `$name`
    Variable,
    /// A bare word: a function name.
    Identifier,
    /// A keyword such as `if` or `end`.
    Keyword(Keyword),
    /// End of input.
    Eof,
    /// The lexer stopped here; the error is in [`Lexed::error`].
    Error,
}

/// The keywords of the template language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Keyword {
    Block,
    Break,
    Continue,
    Define,
    Else,
    End,
    If,
    Range,
    Template,
    With,
}

/// One token: its kind, byte offset and source text.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Token<'a> {
    pub(crate) kind: Kind,
    pub(crate) pos: usize,
    pub(crate) text: &'a str,
}

impl Token<'_> {
    /// The byte offset just past this token.
    pub(crate) fn end(&self) -> usize {
        self.pos + self.text.len()
    }
}

/// The tokens of a template; the last is [`Kind::Eof`] or [`Kind::Error`].
pub(crate) struct Lexed<'a> {
    pub(crate) tokens: Vec<Token<'a>>,
    pub(crate) error: Option<Located>,
}

/// Splits `input` into tokens, stopping at the first lexical error.
pub(crate) fn lex(input: &str) -> Lexed<'_> {
    let mut lexer = Lexer {
        input,
        pos: 0,
        start: 0,
        open_parens: Vec::new(),
        tokens: Vec::new(),
    };
    match lexer.run() {
        Ok(()) => {
            lexer.push(Kind::Eof, input.len(), input.len());
            Lexed {
                tokens: lexer.tokens,
                error: None,
            }
        }
        Err(error) => {
            lexer.push(Kind::Error, error.pos, error.pos);
            Lexed {
                tokens: lexer.tokens,
                error: Some(error),
            }
        }
    }
}

/// Space as Go's template lexer defines it.
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// Letters, digits and underscore: what names are made of.
fn is_alphanumeric(c: char) -> bool {
    c == '_' || c.is_alphabetic() || c.is_numeric()
}

/// `- ` after a left delimiter.
fn has_left_trim_marker(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && b[0] == b'-' && is_space(char::from(b[1]))
}

/// ` -` before a right delimiter.
fn has_right_trim_marker(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && is_space(char::from(b[0])) && b[1] == b'-'
}

/// Length of the leading space of `s`.
fn leading_space(s: &str) -> usize {
    s.len() - s.trim_start_matches(is_space).len()
}

/// A character as Go's `%#U` prints it: `U+0041 'A'`.
pub(crate) fn describe_char(c: char) -> String {
    if crate::strconv::is_print(c) {
        format!("U+{:04X} '{c}'", u32::from(c))
    } else {
        format!("U+{:04X}", u32::from(c))
    }
}

struct Lexer<'a> {
    input: &'a str,
    /// Current position.
    pos: usize,
    /// Start of the token being scanned.
    start: usize,
    /// Offsets of the `(` not yet closed in this action.
    open_parens: Vec<usize>,
    tokens: Vec<Token<'a>>,
}

type Lex<T = ()> = Result<T, Located>;

impl<'a> Lexer<'a> {
    fn rest(&self) -> &'a str {
        &self.input[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn accept(&mut self, valid: &str) -> bool {
        match self.peek() {
            Some(c) if valid.contains(c) => {
                self.pos += c.len_utf8();
                true
            }
            _ => false,
        }
    }

    fn accept_run(&mut self, valid: &str) {
        while self.accept(valid) {}
    }

    fn push(&mut self, kind: Kind, start: usize, end: usize) {
        self.tokens.push(Token {
            kind,
            pos: start,
            text: &self.input[start..end],
        });
    }

    /// Emits the token from `start` to the current position.
    fn emit(&mut self, kind: Kind) {
        self.push(kind, self.start, self.pos);
        self.start = self.pos;
    }

    fn error(&self, pos: usize, message: impl Into<String>) -> Located {
        Located::new(pos, message)
    }

    /// Whether a right delimiter (possibly with a trim marker) starts here;
    /// `Some(true)` when it has a trim marker.
    fn at_right_delim(&self) -> Option<bool> {
        let rest = self.rest();
        if has_right_trim_marker(rest) && rest[2..].starts_with(RIGHT_DELIM) {
            Some(true)
        } else if rest.starts_with(RIGHT_DELIM) {
            Some(false)
        } else {
            None
        }
    }

    /// Whether the next character may end a field, variable or word.
    fn at_terminator(&self) -> bool {
        match self.peek() {
            None => true,
            Some(c) if is_space(c) => true,
            Some('.' | ',' | '|' | ':' | ')' | '(') => true,
            Some(_) => self.rest().starts_with(RIGHT_DELIM),
        }
    }

    /// Text, then actions, until the end of input.
    fn run(&mut self) -> Lex {
        loop {
            let Some(offset) = self.rest().find(LEFT_DELIM) else {
                if self.pos < self.input.len() {
                    self.pos = self.input.len();
                    self.emit(Kind::Text);
                }
                return Ok(());
            };
            let delim = self.pos + offset;
            let mut text_end = delim;
            if has_left_trim_marker(&self.input[delim + LEFT_DELIM.len()..]) {
                text_end = self.start + self.input[self.start..delim].trim_end_matches(is_space).len();
            }
            if text_end > self.start {
                self.push(Kind::Text, self.start, text_end);
            }
            self.pos = delim;
            self.start = delim;
            self.lex_action()?;
        }
    }

    /// An action or comment; the left delimiter is at the current position.
    fn lex_action(&mut self) -> Lex {
        let action_start = self.pos;
        self.pos += LEFT_DELIM.len();
        let after_marker = if has_left_trim_marker(self.rest()) { 2 } else { 0 };
        if self.rest()[after_marker..].starts_with(LEFT_COMMENT) {
            return self.lex_comment(action_start, after_marker);
        }
        self.emit(Kind::LeftDelim);
        self.pos += after_marker;
        self.start = self.pos;
        self.open_parens.clear();
        loop {
            if let Some(trim) = self.at_right_delim() {
                if let Some(&paren) = self.open_parens.last() {
                    return Err(self.error(paren, "unclosed left paren"));
                }
                if trim {
                    self.pos += 2;
                    self.start = self.pos;
                }
                self.pos += RIGHT_DELIM.len();
                self.emit(Kind::RightDelim);
                if trim {
                    self.pos += leading_space(self.rest());
                    self.start = self.pos;
                }
                return Ok(());
            }
            self.lex_inside_action(action_start)?;
        }
    }

    /// One token inside an action.
    fn lex_inside_action(&mut self, action_start: usize) -> Lex {
        self.start = self.pos;
        let Some(c) = self.next() else {
            return Err(self.error(action_start, "unclosed action"));
        };
        match c {
            c if is_space(c) => {
                self.pos = self.start;
                self.lex_space();
            }
            '=' => self.emit(Kind::Assign),
            ':' => {
                if self.next() != Some('=') {
                    return Err(self.error(self.start, "expected :="));
                }
                self.emit(Kind::Declare);
            }
            '|' => self.emit(Kind::Pipe),
            '"' => self.lex_quoted('"', Kind::String, "unterminated quoted string")?,
            '\'' => self.lex_quoted('\'', Kind::CharConstant, "unterminated character constant")?,
            '`' => self.lex_raw_quote()?,
            '$' => self.lex_field_or_variable(Kind::Variable)?,
            '.' if !self.peek().is_some_and(|c| c.is_ascii_digit()) => {
                self.lex_field_or_variable(Kind::Field)?;
            }
            '.' | '+' | '-' | '0'..='9' => {
                self.pos = self.start;
                self.lex_number()?;
            }
            c if is_alphanumeric(c) => {
                self.pos = self.start;
                self.lex_identifier()?;
            }
            '(' => {
                self.open_parens.push(self.start);
                self.emit(Kind::LeftParen);
            }
            ')' => {
                if self.open_parens.pop().is_none() {
                    return Err(self.error(self.start, "unexpected right paren"));
                }
                self.emit(Kind::RightParen);
            }
            c if c.is_ascii_graphic() => self.emit(Kind::Char),
            c => {
                return Err(self.error(
                    self.start,
                    format!("unrecognized character in action: {}", describe_char(c)),
                ));
            }
        }
        Ok(())
    }

    /// A run of spaces. A single space that belongs to a ` -}}` trim marker
    /// is left for the right delimiter.
    fn lex_space(&mut self) {
        let mut count = 0;
        while self.peek().is_some_and(is_space) {
            self.pos += 1;
            count += 1;
        }
        let last_space = self.pos - 1;
        if has_right_trim_marker(&self.input[last_space..]) && self.input[last_space + 2..].starts_with(RIGHT_DELIM) {
            self.pos = last_space;
            if count == 1 {
                self.start = self.pos;
                return;
            }
        }
        self.emit(Kind::Space);
    }

    /// A comment `/* ... */`, which must be followed by the right delimiter.
    fn lex_comment(&mut self, action_start: usize, after_marker: usize) -> Lex {
        self.pos += after_marker + LEFT_COMMENT.len();
        let Some(end) = self.rest().find(RIGHT_COMMENT) else {
            return Err(self.error(action_start, "unclosed comment"));
        };
        self.pos += end + RIGHT_COMMENT.len();
        let Some(trim) = self.at_right_delim() else {
            return Err(self.error(self.pos, "comment ends before closing delimiter"));
        };
        if trim {
            self.pos += 2;
        }
        self.pos += RIGHT_DELIM.len();
        if trim {
            self.pos += leading_space(self.rest());
        }
        self.start = self.pos;
        Ok(())
    }

    /// A string or character constant; the opening quote has been read.
    fn lex_quoted(&mut self, quote: char, kind: Kind, unterminated: &str) -> Lex {
        loop {
            match self.next() {
                Some('\\') => {
                    if matches!(self.next(), None | Some('\n')) {
                        return Err(self.error(self.start, unterminated));
                    }
                }
                None | Some('\n') => return Err(self.error(self.start, unterminated)),
                Some(c) if c == quote => break,
                Some(_) => {}
            }
        }
        self.emit(kind);
        Ok(())
    }

    /// A raw string; the opening back quote has been read.
    fn lex_raw_quote(&mut self) -> Lex {
        loop {
            match self.next() {
                None => return Err(self.error(self.start, "unterminated raw quoted string")),
                Some('`') => break,
                Some(_) => {}
            }
        }
        self.emit(Kind::RawString);
        Ok(())
    }

    /// `.name` or `$name` (or `.` / `$` alone); the `.` or `$` has been read.
    fn lex_field_or_variable(&mut self, kind: Kind) -> Lex {
        if self.at_terminator() {
            self.emit(if kind == Kind::Field { Kind::Dot } else { kind });
            return Ok(());
        }
        while self.peek().is_some_and(is_alphanumeric) {
            self.next();
        }
        self.expect_terminator()?;
        self.emit(kind);
        Ok(())
    }

    fn expect_terminator(&self) -> Lex {
        if self.at_terminator() {
            return Ok(());
        }
        let c = self.peek().unwrap_or_default();
        Err(self.error(self.pos, format!("bad character {}", describe_char(c))))
    }

    /// A word: keyword, `true`/`false`/`nil`, or a function name.
    fn lex_identifier(&mut self) -> Lex {
        while self.peek().is_some_and(is_alphanumeric) {
            self.next();
        }
        self.expect_terminator()?;
        let kind = match &self.input[self.start..self.pos] {
            "block" => Kind::Keyword(Keyword::Block),
            "break" => Kind::Keyword(Keyword::Break),
            "continue" => Kind::Keyword(Keyword::Continue),
            "define" => Kind::Keyword(Keyword::Define),
            "else" => Kind::Keyword(Keyword::Else),
            "end" => Kind::Keyword(Keyword::End),
            "if" => Kind::Keyword(Keyword::If),
            "range" => Kind::Keyword(Keyword::Range),
            "template" => Kind::Keyword(Keyword::Template),
            "with" => Kind::Keyword(Keyword::With),
            "nil" => Kind::Nil,
            "true" | "false" => Kind::Bool,
            _ => Kind::Identifier,
        };
        self.emit(kind);
        Ok(())
    }

    /// A number literal, scanned as Go does; its value is checked by the parser.
    fn lex_number(&mut self) -> Lex {
        let ok = self.scan_number();
        let text = &self.input[self.start..self.pos];
        if ok && matches!(self.peek(), Some('+' | '-')) {
            // Go's complex constant: 1+2i.
            let complex = self.scan_number() && self.input[..self.pos].ends_with('i');
            let text = &self.input[self.start..self.pos];
            return Err(self.error(self.start, number_error(text, complex)));
        }
        if !ok || text.ends_with('i') {
            return Err(self.error(self.start, number_error(text, ok)));
        }
        self.emit(Kind::Number);
        Ok(())
    }

    fn scan_number(&mut self) -> bool {
        const DECIMAL: &str = "0123456789_";
        const HEX: &str = "0123456789abcdefABCDEF_";
        self.accept("+-");
        let mut digits = DECIMAL;
        if self.accept("0") {
            if self.accept("xX") {
                digits = HEX;
            } else if self.accept("oO") {
                digits = "01234567_";
            } else if self.accept("bB") {
                digits = "01_";
            }
        }
        self.accept_run(digits);
        if self.accept(".") {
            self.accept_run(digits);
        }
        if digits == DECIMAL && self.accept("eE") {
            self.accept("+-");
            self.accept_run(DECIMAL);
        }
        if digits == HEX && self.accept("pP") {
            self.accept("+-");
            self.accept_run(DECIMAL);
        }
        self.accept("i");
        if self.peek().is_some_and(is_alphanumeric) {
            self.next();
            return false;
        }
        true
    }
}

fn number_error(text: &str, complex: bool) -> String {
    if complex {
        format!("complex number {text:?} is not supported")
    } else {
        format!("bad number syntax: {text:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(input: &str) -> Vec<Kind> {
        lex(input).tokens.iter().map(|t| t.kind).collect()
    }

    fn texts(input: &str) -> Vec<&str> {
        lex(input).tokens.iter().map(|t| t.text).collect()
    }

    fn error(input: &str) -> String {
        lex(input).error.expect("a lexical error").message
    }

    #[test]
    fn text_without_actions_is_one_token() {
        assert_eq!(kinds("hello"), [Kind::Text, Kind::Eof]);
    }

    #[test]
    fn actions_split_into_delimiters_and_operands() {
        use Kind::*;
        assert_eq!(
            kinds("a{{.x | printf \"%d\"}}b"),
            [
                Text, LeftDelim, Field, Space, Pipe, Space, Identifier, Space, String, RightDelim, Text, Eof
            ]
        );
    }

    #[test]
    fn trim_markers_remove_neighbouring_whitespace() {
        assert_eq!(texts("a \n {{- .x -}} \t b"), ["a", "{{", ".x", "}}", "b", ""]);
    }

    #[test]
    fn minus_without_space_is_a_number_not_a_trim_marker() {
        assert_eq!(texts(" {{-3}}"), [" ", "{{", "-3", "}}", ""]);
    }

    #[test]
    fn comments_vanish_and_may_trim() {
        assert_eq!(texts("a {{- /* c */ -}} b"), ["a", "b", ""]);
    }

    #[test]
    fn variables_fields_and_keywords_are_recognised() {
        use Kind::*;
        assert_eq!(
            kinds("{{range $i, $v := .}}{{end}}"),
            [
                LeftDelim,
                Keyword(super::Keyword::Range),
                Space,
                Variable,
                Char,
                Space,
                Variable,
                Space,
                Declare,
                Space,
                Dot,
                RightDelim,
                LeftDelim,
                Keyword(super::Keyword::End),
                RightDelim,
                Eof
            ]
        );
    }

    #[test]
    fn unclosed_action_is_an_error() {
        assert_eq!(error("a {{ .x"), "unclosed action");
    }

    #[test]
    fn unclosed_comment_is_an_error() {
        assert_eq!(error("{{/* x"), "unclosed comment");
    }

    #[test]
    fn comment_must_end_at_the_delimiter() {
        assert_eq!(error("{{/* x */ }}"), "comment ends before closing delimiter");
    }

    #[test]
    fn unterminated_string_is_an_error() {
        assert_eq!(error("{{\"abc}}"), "unterminated quoted string");
    }

    #[test]
    fn unbalanced_parens_are_errors() {
        assert_eq!(error("{{(1}}"), "unclosed left paren");
        assert_eq!(error("{{1)}}"), "unexpected right paren");
    }

    #[test]
    fn bad_characters_are_reported_with_their_code_point() {
        assert_eq!(error("{{.a-b}}"), "bad character U+002D '-'");
        assert_eq!(error("{{\u{7}}}"), "unrecognized character in action: U+0007");
    }

    #[test]
    fn complex_numbers_are_rejected() {
        assert_eq!(error("{{1+2i}}"), "complex number \"1+2i\" is not supported");
        assert_eq!(error("{{0x1g}}"), "bad number syntax: \"0x1g\"");
    }

    #[test]
    fn newlines_may_appear_inside_actions() {
        assert_eq!(texts("{{.a\n|\nprint}}").len(), 8);
    }
}
