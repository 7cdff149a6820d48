//! Lua 5.4's pattern matcher (`lstrlib.c`), ported so that its work is
//! counted: every step of the backtracking search is charged to the call's
//! instruction budget, which also watches the clock and the run's
//! cancellation. The C matcher runs inside one C call, where the instruction
//! hook never fires, so `string.find(("a"):rep(1e5), ".-.-.-b")` ran past
//! every limit.
//!
//! The semantics, the error messages and the limits (32 captures, 200 levels
//! of pattern recursion) are Lua's own.

use std::ops::Range;

/// Most captures one pattern may hold (Lua's `LUA_MAXCAPTURES`).
pub(crate) const MAX_CAPTURES: usize = 32;

/// How deep the matcher may recurse into a pattern (Lua's `MAXCCALLS`).
const MAX_DEPTH: usize = 200;

/// Steps charged together to the budget.
pub(crate) const STEP_BATCH: u64 = 1_024;

/// Lua's pattern escape character.
pub(crate) const ESCAPE: u8 = b'%';

/// A value a capture yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    /// The subject's bytes in this range.
    Text(Range<usize>),
    /// A position capture's 1-based position.
    Position(usize),
}

/// What one capture holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Capture {
    /// Opened and not closed yet.
    Open { start: usize },
    /// A closed capture: the subject's bytes `start..start + len`.
    Text { start: usize, len: usize },
    /// A position capture `()`: the 0-based offset `at`.
    Position { at: usize },
}

/// The matcher's state for one subject and one pattern.
pub(crate) struct Matcher<'a> {
    src: &'a [u8],
    pat: &'a [u8],
    depth_left: usize,
    captures: [Capture; MAX_CAPTURES],
    level: usize,
    steps: u64,
    spend: &'a mut dyn FnMut(u64) -> mlua::Result<()>,
}

type Step = mlua::Result<Option<usize>>;

fn error(message: impl Into<String>) -> mlua::Error {
    mlua::Error::runtime(message.into())
}

impl<'a> Matcher<'a> {
    /// A matcher of `pat` against `src` that reports its work, in batches of
    /// [`STEP_BATCH`] steps, to `spend` (which fails once a limit trips).
    pub(crate) fn new(src: &'a [u8], pat: &'a [u8], spend: &'a mut dyn FnMut(u64) -> mlua::Result<()>) -> Self {
        Matcher {
            src,
            pat,
            depth_left: MAX_DEPTH,
            captures: [Capture::Position { at: 0 }; MAX_CAPTURES],
            level: 0,
            steps: 0,
            spend,
        }
    }

    /// Tries the pattern from pattern offset `p` at subject offset `s`; the
    /// end of the match, or `None`. Clears the captures of any earlier try.
    pub(crate) fn try_at(&mut self, s: usize, p: usize) -> Step {
        self.level = 0;
        self.depth_left = MAX_DEPTH;
        self.do_match(s, p)
    }

    /// How many values a successful try yields: its captures, or the whole
    /// match when it has none and `whole` is set (`string.match` does,
    /// `string.find` does not).
    pub(crate) fn capture_count(&self, whole: bool) -> usize {
        if self.level == 0 && whole { 1 } else { self.level }
    }

    /// Capture `index` of the last successful try, which matched `matched`:
    /// capture 0 of a pattern without captures is the whole match.
    pub(crate) fn capture(&self, index: usize, matched: Range<usize>) -> mlua::Result<Piece> {
        match self.captures[..self.level].get(index) {
            None if index == 0 => Ok(Piece::Text(matched)),
            None => Err(error(format!("invalid capture index %{}", index + 1))),
            Some(Capture::Open { .. }) => Err(error("unfinished capture")),
            Some(Capture::Text { start, len }) => Ok(Piece::Text(*start..start + len)),
            Some(Capture::Position { at }) => Ok(Piece::Position(at + 1)),
        }
    }

    /// Counts `steps` of work done for the call outside the matcher itself.
    pub(crate) fn work(&mut self, steps: u64) -> mlua::Result<()> {
        self.steps += steps;
        if self.steps >= STEP_BATCH {
            (self.spend)(std::mem::take(&mut self.steps))?;
        }
        Ok(())
    }

    /// Charges what is left of the current batch (at the end of a call).
    pub(crate) fn settle(&mut self) -> mlua::Result<()> {
        let steps = std::mem::take(&mut self.steps);
        if steps > 0 { (self.spend)(steps) } else { Ok(()) }
    }

    fn step(&mut self) -> mlua::Result<()> {
        self.work(1)
    }

    /// The pattern byte at `p`, or 0 past its end (as C's terminator reads).
    fn pat_at(&self, p: usize) -> u8 {
        self.pat.get(p).copied().unwrap_or(0)
    }

    /// The subject byte at `s`, or 0 past its end.
    fn src_at(&self, s: usize) -> u8 {
        self.src.get(s).copied().unwrap_or(0)
    }

    fn do_match(&mut self, s: usize, p: usize) -> Step {
        if self.depth_left == 0 {
            return Err(error("pattern too complex"));
        }
        self.depth_left -= 1;
        let result = self.match_here(s, p);
        self.depth_left += 1;
        result
    }

    /// `match` of lstrlib.c, with its tail calls as a loop.
    fn match_here(&mut self, mut s: usize, mut p: usize) -> Step {
        loop {
            self.step()?;
            if p == self.pat.len() {
                return Ok(Some(s));
            }
            match self.pat[p] {
                b'(' => {
                    return if self.pat_at(p + 1) == b')' {
                        self.start_capture(s, p + 2, Capture::Position { at: s })
                    } else {
                        self.start_capture(s, p + 1, Capture::Open { start: s })
                    };
                }
                b')' => return self.end_capture(s, p + 1),
                b'$' if p + 1 == self.pat.len() => {
                    return Ok((s == self.src.len()).then_some(s));
                }
                ESCAPE if self.pat_at(p + 1) == b'b' => match self.match_balance(s, p + 2)? {
                    Some(end) => {
                        s = end;
                        p += 4;
                    }
                    None => return Ok(None),
                },
                ESCAPE if self.pat_at(p + 1) == b'f' => {
                    p += 2;
                    if self.pat_at(p) != b'[' {
                        return Err(error("missing '[' after '%f' in pattern"));
                    }
                    let ep = self.class_end(p)?;
                    let previous = if s == 0 { 0 } else { self.src[s - 1] };
                    if !self.match_bracket_class(previous, p, ep - 1)
                        && self.match_bracket_class(self.src_at(s), p, ep - 1)
                    {
                        p = ep;
                    } else {
                        return Ok(None);
                    }
                }
                ESCAPE if self.pat_at(p + 1).is_ascii_digit() => match self.match_capture(s, self.pat_at(p + 1))? {
                    Some(end) => {
                        s = end;
                        p += 2;
                    }
                    None => return Ok(None),
                },
                _ => {
                    let ep = self.class_end(p)?;
                    let suffix = self.pat_at(ep);
                    if !self.single_match(s, p, ep) {
                        if matches!(suffix, b'*' | b'?' | b'-') {
                            p = ep + 1;
                            continue;
                        }
                        return Ok(None);
                    }
                    match suffix {
                        b'?' => match self.do_match(s + 1, ep + 1)? {
                            Some(end) => return Ok(Some(end)),
                            None => p = ep + 1,
                        },
                        b'+' => return self.max_expand(s + 1, p, ep),
                        b'*' => return self.max_expand(s, p, ep),
                        b'-' => return self.min_expand(s, p, ep),
                        _ => {
                            s += 1;
                            p = ep;
                        }
                    }
                }
            }
        }
    }

    /// The end of the single-character class starting at `p`.
    fn class_end(&self, mut p: usize) -> mlua::Result<usize> {
        let first = self.pat[p];
        p += 1;
        match first {
            ESCAPE => {
                if p >= self.pat.len() {
                    return Err(error("malformed pattern (ends with '%')"));
                }
                Ok(p + 1)
            }
            b'[' => {
                if self.pat_at(p) == b'^' {
                    p += 1;
                }
                loop {
                    if p >= self.pat.len() {
                        return Err(error("malformed pattern (missing ']')"));
                    }
                    let c = self.pat[p];
                    p += 1;
                    if c == ESCAPE && p < self.pat.len() {
                        p += 1;
                    }
                    if self.pat_at(p) == b']' {
                        return Ok(p + 1);
                    }
                }
            }
            _ => Ok(p),
        }
    }

    /// Whether subject byte `s` matches the class `p..ep`.
    fn single_match(&self, s: usize, p: usize, ep: usize) -> bool {
        let Some(&c) = self.src.get(s) else {
            return false;
        };
        match self.pat[p] {
            b'.' => true,
            ESCAPE => match_class(c, self.pat_at(p + 1)),
            b'[' => self.match_bracket_class(c, p, ep - 1),
            literal => literal == c,
        }
    }

    /// Whether `c` is in the set `[...]` from `p` (its `[`) to `ec` (its `]`).
    fn match_bracket_class(&self, c: u8, mut p: usize, ec: usize) -> bool {
        let mut inside = true;
        if self.pat_at(p + 1) == b'^' {
            inside = false;
            p += 1;
        }
        p += 1;
        while p < ec {
            let here = self.pat[p];
            if here == ESCAPE {
                p += 1;
                if match_class(c, self.pat_at(p)) {
                    return inside;
                }
            } else if self.pat_at(p + 1) == b'-' && p + 2 < ec {
                if here <= c && c <= self.pat[p + 2] {
                    return inside;
                }
                p += 2;
            } else if here == c {
                return inside;
            }
            p += 1;
        }
        !inside
    }

    fn match_balance(&mut self, s: usize, p: usize) -> Step {
        if p + 1 >= self.pat.len() {
            return Err(error("malformed pattern (missing arguments to '%b')"));
        }
        if self.src_at(s) != self.pat[p] || s >= self.src.len() {
            return Ok(None);
        }
        let (open, close) = (self.pat[p], self.pat[p + 1]);
        let mut depth = 1usize;
        for at in s + 1..self.src.len() {
            self.step()?;
            let c = self.src[at];
            if c == close {
                depth -= 1;
                if depth == 0 {
                    return Ok(Some(at + 1));
                }
            } else if c == open {
                depth += 1;
            }
        }
        Ok(None)
    }

    fn max_expand(&mut self, s: usize, p: usize, ep: usize) -> Step {
        let mut count = 0;
        while self.single_match(s + count, p, ep) {
            self.step()?;
            count += 1;
        }
        loop {
            if let Some(end) = self.do_match(s + count, ep + 1)? {
                return Ok(Some(end));
            }
            if count == 0 {
                return Ok(None);
            }
            count -= 1;
        }
    }

    fn min_expand(&mut self, mut s: usize, p: usize, ep: usize) -> Step {
        loop {
            if let Some(end) = self.do_match(s, ep + 1)? {
                return Ok(Some(end));
            }
            if !self.single_match(s, p, ep) {
                return Ok(None);
            }
            s += 1;
        }
    }

    fn start_capture(&mut self, s: usize, p: usize, capture: Capture) -> Step {
        if self.level >= MAX_CAPTURES {
            return Err(error("too many captures"));
        }
        self.captures[self.level] = capture;
        self.level += 1;
        let result = self.do_match(s, p)?;
        if result.is_none() {
            self.level -= 1;
        }
        Ok(result)
    }

    fn end_capture(&mut self, s: usize, p: usize) -> Step {
        let Some(level) = self.captures[..self.level]
            .iter()
            .rposition(|c| matches!(c, Capture::Open { .. }))
        else {
            return Err(error("invalid pattern capture"));
        };
        let opened = self.captures[level];
        let Capture::Open { start } = opened else {
            unreachable!("rposition found an open capture")
        };
        self.captures[level] = Capture::Text { start, len: s - start };
        let result = self.do_match(s, p)?;
        if result.is_none() {
            self.captures[level] = opened;
        }
        Ok(result)
    }

    /// `%1`..`%9` inside a pattern: the text of an earlier closed capture.
    fn match_capture(&mut self, s: usize, digit: u8) -> Step {
        let index = usize::from(digit - b'0');
        let capture = index.checked_sub(1).and_then(|i| self.captures[..self.level].get(i));
        let (start, len) = match capture {
            Some(Capture::Text { start, len }) => (*start, *len),
            Some(Capture::Position { .. }) => return Ok(None),
            _ => return Err(error(format!("invalid capture index %{index}"))),
        };
        let candidate = self.src.get(s..s.saturating_add(len));
        Ok((candidate == Some(&self.src[start..start + len])).then_some(s + len))
    }
}

/// Whether `c` is in the class `%cl` (C locale).
fn match_class(c: u8, class: u8) -> bool {
    let in_class = match class.to_ascii_lowercase() {
        b'a' => c.is_ascii_alphabetic(),
        b'c' => c.is_ascii_control(),
        b'd' => c.is_ascii_digit(),
        b'g' => c.is_ascii_graphic(),
        b'l' => c.is_ascii_lowercase(),
        b'p' => c.is_ascii_punctuation(),
        b's' => matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'),
        b'u' => c.is_ascii_uppercase(),
        b'w' => c.is_ascii_alphanumeric(),
        b'x' => c.is_ascii_hexdigit(),
        b'z' => c == 0,
        _ => return class == c,
    };
    if class.is_ascii_uppercase() {
        !in_class
    } else {
        in_class
    }
}

/// Whether `pat` has none of the characters that make a pattern special (a
/// `string.find` with such a pattern is a plain search).
pub(crate) fn is_plain(pat: &[u8]) -> bool {
    !pat.iter().any(|c| b"^$*+?.([%-".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The end and capture texts of the first match of `pat` in `src` at 0.
    fn first(src: &str, pat: &str) -> Option<(usize, Vec<String>)> {
        let mut spend = |_| Ok(());
        let mut m = Matcher::new(src.as_bytes(), pat.as_bytes(), &mut spend);
        let end = m.try_at(0, 0).unwrap()?;
        let caps = (0..m.capture_count(false))
            .map(|i| match m.capture(i, 0..end).unwrap() {
                Piece::Text(range) => src[range].to_string(),
                Piece::Position(at) => format!("@{at}"),
            })
            .collect();
        Some((end, caps))
    }

    /// The message a runtime error carries.
    fn message(err: mlua::Error) -> String {
        match err {
            mlua::Error::RuntimeError(message) => message,
            other => panic!("not a runtime error: {other}"),
        }
    }

    fn fails(src: &str, pat: &str) -> String {
        let mut spend = |_| Ok(());
        let mut m = Matcher::new(src.as_bytes(), pat.as_bytes(), &mut spend);
        message(m.try_at(0, 0).unwrap_err())
    }

    #[test]
    fn classes_quantifiers_and_anchors_match_as_lua_does() {
        assert_eq!(first("hello world", "%a+"), Some((5, vec![])));
        assert_eq!(first("  x", "%s*x"), Some((3, vec![])));
        assert_eq!(
            first("\u{b}x", "%sx"),
            Some((2, vec![])),
            "vertical tab is a space in C"
        );
        assert_eq!(first("aaab", "a-b"), Some((4, vec![])));
        assert_eq!(first("ab", "a?b"), Some((2, vec![])));
        assert_eq!(first("b", "a?b"), Some((1, vec![])));
        assert_eq!(first("abc", "[a-b]+"), Some((2, vec![])));
        assert_eq!(first("]x", "[]]"), Some((1, vec![])));
        assert_eq!(first("-", "[a%-]"), Some((1, vec![])));
        assert_eq!(first("x", "[^a-c]"), Some((1, vec![])));
        assert_eq!(first("abc", "abc$"), Some((3, vec![])));
        assert_eq!(first("abcd", "abc$"), None);
        assert_eq!(
            first("a$b", "a$b"),
            Some((3, vec![])),
            "a `$` not at the end is literal"
        );
        assert_eq!(
            first("\0", "%z"),
            Some((1, vec![])),
            "Lua 5.4 still has the deprecated %z"
        );
        assert_eq!(
            first("q", "%q"),
            Some((1, vec![])),
            "an unknown class letter is literal"
        );
    }

    #[test]
    fn captures_balances_frontiers_and_back_references() {
        assert_eq!(
            first("key=value", "(%w+)=(%w+)"),
            Some((9, vec!["key".into(), "value".into()]))
        );
        assert_eq!(first("abc", "()b()"), None, "anchored at 0");
        assert_eq!(first("abc", "a()b"), Some((2, vec!["@2".into()])));
        assert_eq!(first("(a(b)c)d", "%b()"), Some((7, vec![])));
        assert_eq!(first("THE (quick) fox", "%f[%a]%a+"), Some((3, vec![])));
        assert_eq!(first("abab", "(ab)%1"), Some((4, vec!["ab".into()])));
        assert_eq!(
            first("\"hi\"", "([\"'])(.-)%1"),
            Some((4, vec!["\"".into(), "hi".into()]))
        );
    }

    #[test]
    fn malformed_patterns_fail_with_luas_messages() {
        assert_eq!(fails("a", "%"), "malformed pattern (ends with '%')");
        assert_eq!(fails("a", "[a"), "malformed pattern (missing ']')");
        assert_eq!(fails("a", "%b"), "malformed pattern (missing arguments to '%b')");
        assert_eq!(fails("a", "%fa"), "missing '[' after '%f' in pattern");
        assert_eq!(fails("a", "a)"), "invalid pattern capture");
        assert_eq!(fails("aa", "(a)%2"), "invalid capture index %2");
        assert_eq!(fails("a", &"(".repeat(33)), "too many captures");
        assert_eq!(fails(&"a".repeat(300), &"a?".repeat(300)), "pattern too complex");
    }

    #[test]
    fn every_step_is_reported_to_the_budget() {
        let src = "a".repeat(2_000);
        let mut spent = 0;
        let mut spend = |n| {
            spent += n;
            if spent > 100_000 {
                Err(error("instructions limit exceeded"))
            } else {
                Ok(())
            }
        };
        let mut m = Matcher::new(src.as_bytes(), b".-.-b", &mut spend);
        assert_eq!(message(m.try_at(0, 0).unwrap_err()), "instructions limit exceeded");
    }
}
