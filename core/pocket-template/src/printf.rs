//! Go's `fmt.Sprintf`, `Sprint` and `Sprintln` over template values.
//!
//! Values map to Go types as Go's JSON decoding would produce them, with one
//! deliberate difference: a number is a number, whatever its storage. Integer
//! verbs (`%d %x %o %b %c %q %U`) accept floats with no fraction, and float
//! verbs (`%e %f %g`) accept integers, because workflow data arrives as JSON
//! where `3` and `3.0` are the same value. Arrays and objects print as
//! compact JSON for `%v` and `%s` (and quoted JSON for `%q`).

use pocket_value::{Number, Value};

use crate::strconv::{can_backquote, format_float, is_print, quote, quote_rune};

/// Go's `tooLarge` bound: a width or precision that has passed it before its
/// last digit is malformed, and so is a `*` argument beyond it.
const MAX_WIDTH: usize = 1_000_000;

/// Formats `args` under the Go format string `format`.
pub(crate) fn sprintf(format: &str, args: &[Value]) -> String {
    let mut p = Printer::default();
    p.do_printf(format, args);
    p.buf
}

/// Formats `args` with `%v`, adding spaces between operands when neither is a string.
pub(crate) fn sprint(args: &[Value]) -> String {
    let mut p = Printer::default();
    let mut prev_string = false;
    for (i, arg) in args.iter().enumerate() {
        let is_string = matches!(arg, Value::String(_));
        if i > 0 && !is_string && !prev_string {
            p.buf.push(' ');
        }
        p.print_arg(arg, 'v');
        prev_string = is_string;
    }
    p.buf
}

/// Formats `args` with `%v`, always separated by spaces, ending in a newline.
pub(crate) fn sprintln(args: &[Value]) -> String {
    let mut p = Printer::default();
    for (i, arg) in args.iter().enumerate() {
        if i > 0 {
            p.buf.push(' ');
        }
        p.print_arg(arg, 'v');
    }
    p.buf.push('\n');
    p.buf
}

/// How a template prints a float: in shortest round-trip form, in plain
/// decimal notation from 1e-6 up to 1e21 (as JSON encoders print numbers, so
/// `3.0` prints `3` and `1500000.0` prints `1500000`) and in Go's exponent
/// form outside that range (`1e+21`, `1e-07`). Go's `%v` would already use
/// exponents from 1e+06; JSON-sourced workflow numbers read better this way.
pub(crate) fn display_float(x: f64) -> String {
    let a = x.abs();
    if x.is_finite() && (a == 0.0 || (1e-6..1e21).contains(&a)) {
        format!("{x}")
    } else {
        format_float(x, b'e', -1)
    }
}

/// The Go type a value stands for, as `%T` and error verbs name it.
fn go_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(Number::Int(_)) => "int",
        Value::Number(Number::Float(_)) => "float64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

#[derive(Default, Clone, Copy)]
struct Flags {
    wid_present: bool,
    prec_present: bool,
    minus: bool,
    plus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    /// `%+v` and `%#v` set these and clear `plus` / `sharp`.
    plus_v: bool,
    sharp_v: bool,
}

/// Go's `pp` and `fmt` state in one.
#[derive(Default)]
struct Printer {
    buf: String,
    f: Flags,
    wid: usize,
    prec: usize,
    /// The last argument index was valid.
    good_arg_num: bool,
    /// Arguments were accessed out of order with `[n]`.
    reordered: bool,
}

impl Printer {
    fn clear_flags(&mut self) {
        self.f = Flags::default();
        self.wid = 0;
        self.prec = 0;
    }

    fn do_printf(&mut self, format: &str, args: &[Value]) {
        let bytes = format.as_bytes();
        let end = bytes.len();
        let mut arg_num = 0;
        let mut i = 0;
        'verbs: while i < end {
            self.good_arg_num = true;
            let last = i;
            while i < end && bytes[i] != b'%' {
                i += 1;
            }
            self.buf.push_str(&format[last..i]);
            if i >= end {
                break;
            }
            i += 1; // The '%'.
            self.clear_flags();
            while i < end {
                match bytes[i] {
                    b'#' => self.f.sharp = true,
                    b'0' => self.f.zero = true,
                    b'+' => self.f.plus = true,
                    b'-' => self.f.minus = true,
                    b' ' => self.f.space = true,
                    c => {
                        // Fast path: flags then a lower-case verb.
                        if c.is_ascii_lowercase() && arg_num < args.len() {
                            if c == b'v' {
                                self.move_v_flags();
                            }
                            self.print_arg(&args[arg_num], char::from(c));
                            arg_num += 1;
                            i += 1;
                            continue 'verbs;
                        }
                        break;
                    }
                }
                i += 1;
            }

            let mut after_index;
            (arg_num, i, after_index) = self.arg_number(arg_num, format, i, args.len());

            if i < end && bytes[i] == b'*' {
                i += 1;
                let (wid, ok, next) = int_from_arg(args, arg_num);
                arg_num = next;
                self.f.wid_present = ok;
                if !ok {
                    self.buf.push_str("%!(BADWIDTH)");
                }
                if wid < 0 {
                    self.f.minus = true;
                    self.f.zero = false;
                }
                self.wid = usize::try_from(wid.unsigned_abs()).unwrap_or(0);
                after_index = false;
            } else {
                let (wid, ok, next) = parse_num(bytes, i);
                (self.wid, self.f.wid_present, i) = (wid, ok, next);
                if after_index && ok {
                    self.good_arg_num = false;
                }
            }

            if i + 1 < end && bytes[i] == b'.' {
                i += 1;
                if after_index {
                    self.good_arg_num = false;
                }
                (arg_num, i, after_index) = self.arg_number(arg_num, format, i, args.len());
                if i < end && bytes[i] == b'*' {
                    i += 1;
                    let (prec, ok, next) = int_from_arg(args, arg_num);
                    arg_num = next;
                    // A negative precision is as bad as a missing one.
                    self.f.prec_present = ok && prec >= 0;
                    self.prec = usize::try_from(prec).unwrap_or(0);
                    if !self.f.prec_present {
                        self.buf.push_str("%!(BADPREC)");
                    }
                    after_index = false;
                } else {
                    let (prec, _, next) = parse_num(bytes, i);
                    (self.prec, self.f.prec_present, i) = (prec, true, next);
                }
            }

            if !after_index {
                (arg_num, i, _) = self.arg_number(arg_num, format, i, args.len());
            }

            let Some(verb) = format[i..].chars().next() else {
                self.buf.push_str("%!(NOVERB)");
                break;
            };
            i += verb.len_utf8();

            if verb == '%' {
                self.buf.push('%');
            } else if !self.good_arg_num {
                self.buf.push_str(&format!("%!{verb}(BADINDEX)"));
            } else if arg_num >= args.len() {
                self.buf.push_str(&format!("%!{verb}(MISSING)"));
            } else {
                if verb == 'v' {
                    self.move_v_flags();
                }
                self.print_arg(&args[arg_num], verb);
                arg_num += 1;
            }
        }

        if !self.reordered && arg_num < args.len() {
            self.clear_flags();
            self.buf.push_str("%!(EXTRA ");
            for (n, arg) in args[arg_num..].iter().enumerate() {
                if n > 0 {
                    self.buf.push_str(", ");
                }
                self.typed_arg(arg);
            }
            self.buf.push(')');
        }
    }

    /// `%#v` and `%+v` are their own formats rather than flags.
    fn move_v_flags(&mut self) {
        self.f.sharp_v = self.f.sharp;
        self.f.sharp = false;
        self.f.plus_v = self.f.plus;
        self.f.plus = false;
    }

    /// Go's `argNumber`: an explicit `[n]` argument index at `format[i..]`.
    fn arg_number(&mut self, arg_num: usize, format: &str, i: usize, num_args: usize) -> (usize, usize, bool) {
        if format.as_bytes().get(i) != Some(&b'[') {
            return (arg_num, i, false);
        }
        self.reordered = true;
        let (index, width, ok) = parse_arg_number(&format.as_bytes()[i..]);
        if let Some(index) = index.filter(|&index| ok && index < num_args) {
            return (index, i + width, true);
        }
        self.good_arg_num = false;
        (arg_num, i + width, ok)
    }

    fn print_arg(&mut self, arg: &Value, verb: char) {
        match arg {
            Value::Null => match verb {
                'T' | 'v' => self.pad("<nil>"),
                _ => self.bad_verb(arg, verb),
            },
            _ if verb == 'T' => self.fmt_s(go_type(arg)),
            _ if verb == 'p' => self.bad_verb(arg, verb),
            Value::Bool(b) => match verb {
                't' | 'v' => self.pad(if *b { "true" } else { "false" }),
                _ => self.bad_verb(arg, verb),
            },
            Value::Number(Number::Int(i)) => self.print_int(arg, *i, verb),
            Value::Number(Number::Float(x)) => self.print_float(arg, *x, verb),
            Value::String(s) => match verb {
                'v' if self.f.sharp_v => self.fmt_q(s),
                'v' | 's' => self.fmt_s(s),
                'x' => self.fmt_sx(s, false),
                'X' => self.fmt_sx(s, true),
                'q' => self.fmt_q(s),
                _ => self.bad_verb(arg, verb),
            },
            Value::Array(_) | Value::Object(_) => match verb {
                'v' | 's' => self.fmt_s(&arg.to_json()),
                'q' => self.fmt_q(&arg.to_json()),
                _ => self.bad_verb(arg, verb),
            },
        }
    }

    fn print_int(&mut self, arg: &Value, i: i64, verb: char) {
        let u = i.cast_unsigned();
        match verb {
            'v' | 'd' => self.fmt_integer(u, 10, true, verb, false),
            'b' => self.fmt_integer(u, 2, true, verb, false),
            'o' | 'O' => self.fmt_integer(u, 8, true, verb, false),
            'x' => self.fmt_integer(u, 16, true, verb, false),
            'X' => self.fmt_integer(u, 16, true, verb, true),
            'c' => self.fmt_c(u),
            'q' => self.fmt_qc(u),
            'U' => self.fmt_unicode(u),
            'e' | 'E' | 'f' | 'F' | 'g' | 'G' => self.print_float(arg, i as f64, verb),
            _ => self.bad_verb(arg, verb),
        }
    }

    fn print_float(&mut self, arg: &Value, x: f64, verb: char) {
        let integral = Number::Float(x).as_i64();
        match (verb, integral) {
            ('v', _) if self.f.prec_present => self.fmt_float(x, 'g', -1),
            ('v', _) => self.fmt_float_text(display_float(x), 'g', -1),
            ('b' | 'x' | 'X' | 'd' | 'o' | 'O' | 'c' | 'q' | 'U', Some(i)) => {
                self.print_int(arg, i, verb);
            }
            ('b' | 'g' | 'G' | 'x' | 'X', _) => self.fmt_float(x, verb, -1),
            ('e' | 'E' | 'f' | 'F', _) => self.fmt_float(x, verb, 6),
            _ => self.bad_verb(arg, verb),
        }
    }

    /// `%!d(string=hi)`: the verb does not suit the value.
    fn bad_verb(&mut self, arg: &Value, verb: char) {
        self.buf.push_str("%!");
        self.buf.push(verb);
        self.buf.push('(');
        self.typed_arg(arg);
        self.buf.push(')');
    }

    /// `type=value` (`<nil>` for null), as Go's error annotations show an argument.
    fn typed_arg(&mut self, arg: &Value) {
        if arg.is_null() {
            self.buf.push_str("<nil>");
        } else {
            self.buf.push_str(go_type(arg));
            self.buf.push('=');
            self.print_arg(arg, 'v');
        }
    }

    fn write_padding(&mut self, n: usize) {
        let c = if self.f.zero && !self.f.minus { '0' } else { ' ' };
        self.buf.extend(std::iter::repeat_n(c, n));
    }

    /// Appends `s`, padded to the width on the left or (with `-`) the right.
    fn pad(&mut self, s: &str) {
        if !self.f.wid_present || self.wid == 0 {
            self.buf.push_str(s);
            return;
        }
        let width = self.wid.saturating_sub(s.chars().count());
        if self.f.minus {
            self.buf.push_str(s);
            self.write_padding(width);
        } else {
            self.write_padding(width);
            self.buf.push_str(s);
        }
    }

    /// Pads with spaces even when the `0` flag is set.
    fn pad_spaces(&mut self, s: &str) {
        let zero = std::mem::replace(&mut self.f.zero, false);
        self.pad(s);
        self.f.zero = zero;
    }

    /// Go's `fmtInteger`.
    fn fmt_integer(&mut self, u: u64, base: u64, signed: bool, verb: char, upper: bool) {
        let digits: &[u8; 17] = if upper {
            b"0123456789ABCDEFX"
        } else {
            b"0123456789abcdefx"
        };
        let negative = signed && u.cast_signed() < 0;
        let mut u = if negative { u.wrapping_neg() } else { u };
        let mut prec = 0;
        if self.f.prec_present {
            prec = self.prec;
            if prec == 0 && u == 0 {
                let zero = std::mem::replace(&mut self.f.zero, false);
                self.write_padding(self.wid);
                self.f.zero = zero;
                return;
            }
        } else if self.f.zero && !self.f.minus && self.f.wid_present {
            prec = self.wid;
            if negative || self.f.plus || self.f.space {
                prec = prec.saturating_sub(1);
            }
        }
        // Built right to left, then reversed.
        let mut out = Vec::new();
        loop {
            out.push(digits[usize::try_from(u % base).unwrap_or_default()]);
            u /= base;
            if u == 0 {
                break;
            }
        }
        while out.len() < prec {
            out.push(b'0');
        }
        if self.f.sharp {
            match base {
                2 => out.extend_from_slice(b"b0"),
                8 if out.last() != Some(&b'0') => out.push(b'0'),
                16 => out.extend_from_slice(&[digits[16], b'0']),
                _ => {}
            }
        }
        if verb == 'O' {
            out.extend_from_slice(b"o0");
        }
        if negative {
            out.push(b'-');
        } else if self.f.plus {
            out.push(b'+');
        } else if self.f.space {
            out.push(b' ');
        }
        out.reverse();
        self.pad_spaces(&String::from_utf8_lossy(&out));
    }

    /// Go's `fmtUnicode`: `U+0078`, or `U+0078 'x'` with `#`.
    fn fmt_unicode(&mut self, u: u64) {
        let prec = if self.f.prec_present && self.prec > 4 {
            self.prec
        } else {
            4
        };
        let hex = format!("{u:X}");
        let mut s = String::from("U+");
        s.extend(std::iter::repeat_n('0', prec.saturating_sub(hex.len())));
        s.push_str(&hex);
        if self.f.sharp
            && let Some(c) = u32::try_from(u).ok().and_then(char::from_u32)
            && is_print(c)
        {
            s.push_str(&format!(" '{c}'"));
        }
        self.pad_spaces(&s);
    }

    /// The character for code point `u`, or U+FFFD if there is none.
    fn rune(u: u64) -> char {
        u32::try_from(u)
            .ok()
            .and_then(char::from_u32)
            .unwrap_or(char::REPLACEMENT_CHARACTER)
    }

    fn fmt_c(&mut self, u: u64) {
        self.pad(Self::rune(u).encode_utf8(&mut [0; 4]));
    }

    fn fmt_qc(&mut self, u: u64) {
        let quoted = quote_rune(Self::rune(u), self.f.plus);
        self.pad(&quoted);
    }

    /// `s` cut to the precision, counted in characters.
    fn truncate<'s>(&self, s: &'s str) -> &'s str {
        if self.f.prec_present
            && let Some((i, _)) = s.char_indices().nth(self.prec)
        {
            return &s[..i];
        }
        s
    }

    fn fmt_s(&mut self, s: &str) {
        let s = self.truncate(s);
        self.pad(s);
    }

    /// Go's `fmtSbx`: the bytes of `s` in hexadecimal.
    fn fmt_sx(&mut self, s: &str, upper: bool) {
        let digits: &[u8; 17] = if upper {
            b"0123456789ABCDEFX"
        } else {
            b"0123456789abcdefx"
        };
        let mut length = s.len();
        if self.f.prec_present && self.prec < length {
            length = self.prec;
        }
        let mut width = 2 * length;
        if width == 0 {
            if self.f.wid_present {
                self.write_padding(self.wid);
            }
            return;
        }
        if self.f.space {
            if self.f.sharp {
                width *= 2;
            }
            width += length - 1;
        } else if self.f.sharp {
            width += 2;
        }
        if self.f.wid_present && self.wid > width && !self.f.minus {
            self.write_padding(self.wid - width);
        }
        if self.f.sharp {
            self.buf.push('0');
            self.buf.push(char::from(digits[16]));
        }
        for (i, b) in s.bytes().take(length).enumerate() {
            if self.f.space && i > 0 {
                self.buf.push(' ');
                if self.f.sharp {
                    self.buf.push('0');
                    self.buf.push(char::from(digits[16]));
                }
            }
            self.buf.push(char::from(digits[usize::from(b >> 4)]));
            self.buf.push(char::from(digits[usize::from(b & 0xf)]));
        }
        if self.f.wid_present && self.wid > width && self.f.minus {
            self.write_padding(self.wid - width);
        }
    }

    /// Go's `fmtQ`: a quoted string, back-quoted with `#` when possible.
    fn fmt_q(&mut self, s: &str) {
        let s = self.truncate(s);
        if self.f.sharp && can_backquote(s) {
            self.pad(&format!("`{s}`"));
        } else {
            let quoted = quote(s, self.f.plus);
            self.pad(&quoted);
        }
    }

    /// Go's `fmtFloat` for a strconv verb and default precision.
    fn fmt_float(&mut self, x: f64, verb: char, default_prec: i32) {
        let prec = if self.f.prec_present {
            i32::try_from(self.prec).unwrap_or(i32::MAX)
        } else {
            default_prec
        };
        let fmt = if verb == 'F' { b'f' } else { verb as u8 };
        self.fmt_float_text(format_float(x, fmt, prec), verb, prec);
    }

    /// The sign, `#` and padding handling of Go's `fmtFloat`, applied to the
    /// formatted number `text`.
    fn fmt_float_text(&mut self, text: String, verb: char, prec: i32) {
        let mut num = if text.starts_with(['-', '+']) {
            text
        } else {
            format!("+{text}")
        };
        if self.f.space && num.starts_with('+') && !self.f.plus {
            num.replace_range(..1, " ");
        }
        if num[1..].starts_with(['I', 'N']) {
            if num[1..].starts_with('N') && !self.f.space && !self.f.plus {
                num.remove(0);
            }
            self.pad_spaces(&num);
            return;
        }
        if self.f.sharp && verb != 'b' {
            num = sharp_float(num, verb, prec);
        }
        if self.f.plus || !num.starts_with('+') {
            if self.f.zero && !self.f.minus && self.f.wid_present && self.wid > num.len() {
                let (sign, digits) = num.split_at(1);
                self.buf.push_str(sign);
                self.write_padding(self.wid - num.len());
                self.buf.push_str(digits);
                return;
            }
            self.pad(&num);
            return;
        }
        self.pad(&num[1..]);
    }
}

/// The `#` flag for floats: always a decimal point, and for `%g` the
/// trailing zeros up to the precision (Go's `fmtFloat`).
fn sharp_float(num: String, verb: char, prec: i32) -> String {
    let mut digits = match verb {
        'v' | 'g' | 'G' | 'x' => {
            if prec == -1 {
                6
            } else {
                prec
            }
        }
        _ => 0,
    };
    let exponent_marks: &[char] = if matches!(verb, 'x' | 'X') {
        &['p', 'P']
    } else {
        &['e', 'E', 'p', 'P']
    };
    let split = num[1..].find(exponent_marks).map_or(num.len(), |i| i + 1);
    let (body, tail) = num.split_at(split);
    let mut body = body.to_string();
    let mut has_point = false;
    let mut saw_nonzero = false;
    for c in body[1..].chars() {
        if c == '.' {
            has_point = true;
            continue;
        }
        if c != '0' {
            saw_nonzero = true;
        }
        if saw_nonzero {
            digits -= 1;
        }
    }
    if !has_point {
        if body.len() == 2 && body.ends_with('0') {
            digits -= 1;
        }
        body.push('.');
    }
    while digits > 0 {
        body.push('0');
        digits -= 1;
    }
    body.push_str(tail);
    body
}

/// Go's `parsenum`: a decimal number at `bytes[i..]`; too-large numbers are
/// malformed and consume the rest of the format.
fn parse_num(bytes: &[u8], start: usize) -> (usize, bool, usize) {
    let mut num = 0usize;
    let mut i = start;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        if num > MAX_WIDTH {
            return (0, false, bytes.len());
        }
        num = num * 10 + usize::from(bytes[i] - b'0');
        i += 1;
    }
    (num, i > start, i)
}

/// Go's `parseArgNumber`: `[n]` at the start of `bytes`, as a zero-based
/// index (none for `[0]`), the bytes consumed, and whether it parsed.
fn parse_arg_number(bytes: &[u8]) -> (Option<usize>, usize, bool) {
    if bytes.len() < 3 {
        return (None, 1, false);
    }
    match bytes.iter().position(|&b| b == b']') {
        Some(close) => {
            let (n, ok, next) = parse_num(&bytes[..close], 1);
            if !ok || next != close {
                return (None, close + 1, false);
            }
            (n.checked_sub(1), close + 1, true)
        }
        None => (None, 1, false),
    }
}

/// Go's `intFromArg`: the argument for a `*` width or precision.
fn int_from_arg(args: &[Value], arg_num: usize) -> (i64, bool, usize) {
    let Some(arg) = args.get(arg_num) else {
        return (0, false, arg_num);
    };
    match arg.as_i64() {
        Some(n) if n.unsigned_abs() <= MAX_WIDTH as u64 => (n, true, arg_num + 1),
        _ => (0, false, arg_num + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(format: &str, args: &[Value]) -> String {
        sprintf(format, args)
    }

    fn s(text: &str) -> Value {
        Value::from(text)
    }

    #[test]
    fn decimal_verb_prints_integers_with_width_and_flags() {
        let n = Value::from(42);
        assert_eq!(
            f(
                "%d|%5d|%-5d|%05d|%+d|% d",
                &[n.clone(), n.clone(), n.clone(), n.clone(), n.clone(), n]
            ),
            "42|   42|42   |00042|+42| 42"
        );
        assert_eq!(
            f("%05d|%.3d|%8.3d", &[Value::from(-42), Value::from(7), Value::from(7)]),
            "-0042|007|     007"
        );
    }

    #[test]
    fn other_integer_bases_match_go() {
        let n = Value::from(255);
        assert_eq!(
            f(
                "%x %X %#x %o %#o %O %b %#b",
                &[
                    n.clone(),
                    n.clone(),
                    n.clone(),
                    n.clone(),
                    n.clone(),
                    n.clone(),
                    n.clone(),
                    n
                ]
            ),
            "ff FF 0xff 377 0377 0o377 11111111 0b11111111"
        );
        assert_eq!(f("%x", &[Value::from(-255)]), "-ff");
    }

    #[test]
    fn characters_and_code_points_print_from_integers() {
        assert_eq!(
            f(
                "%c|%q|%U|%#U",
                &[Value::from(65), Value::from(65), Value::from(0x1F600), Value::from(120)]
            ),
            "A|'A'|U+1F600|U+0078 'x'"
        );
        assert_eq!(f("%c", &[Value::from(-1)]), "\u{FFFD}");
    }

    #[test]
    fn float_verbs_match_go() {
        let x = Value::from(1.23456);
        assert_eq!(
            f(
                "%f|%.2f|%8.3f|%-8.1f|%e|%E|%g|%G",
                &[
                    x.clone(),
                    x.clone(),
                    x.clone(),
                    x.clone(),
                    x.clone(),
                    x.clone(),
                    x.clone(),
                    x
                ]
            ),
            "1.234560|1.23|   1.235|1.2     |1.234560e+00|1.234560E+00|1.23456|1.23456"
        );
        assert_eq!(
            f(
                "%08.2f|%+.1f|% .1f",
                &[Value::from(-3.5), Value::from(2.0), Value::from(2.0)]
            ),
            "-0003.50|+2.0| 2.0"
        );
        assert_eq!(
            f(
                "%g|%g|%.3g|%#g",
                &[
                    Value::from(1e6),
                    Value::from(1e-5),
                    Value::from(1234.5678),
                    Value::from(1.0)
                ]
            ),
            "1e+06|1e-05|1.23e+03|1.00000"
        );
        assert_eq!(
            f("%F|%x|%#.0f", &[Value::from(1.5), Value::from(1.5), Value::from(3.0)]),
            "1.500000|0x1.8p+00|3."
        );
    }

    #[test]
    fn float_verbs_accept_integers() {
        assert_eq!(f("%.2f|%e", &[Value::from(5), Value::from(5)]), "5.00|5.000000e+00");
    }

    #[test]
    fn integer_verbs_accept_floats_without_fraction() {
        assert_eq!(
            f("%d|%x|%05d", &[Value::from(3.0), Value::from(255.0), Value::from(-2.0)]),
            "3|ff|-0002"
        );
    }

    #[test]
    fn integer_verb_on_a_fractional_float_is_a_bad_verb() {
        assert_eq!(f("%d", &[Value::from(2.5)]), "%!d(float64=2.5)");
    }

    #[test]
    fn v_verb_prints_floats_without_needless_fraction_or_exponent() {
        assert_eq!(
            f(
                "%v %v %v %v %v",
                &[
                    Value::from(3.0),
                    Value::from(2.5),
                    Value::from(1500000.0),
                    Value::from(1e21),
                    Value::from(1e-7)
                ]
            ),
            "3 2.5 1500000 1e+21 1e-07"
        );
    }

    #[test]
    fn string_verbs_match_go() {
        let v = s("héllo");
        assert_eq!(
            f(
                "%s|%8s|%-8s|%.2s|%q|%x|% X|%#q",
                &[
                    v.clone(),
                    v.clone(),
                    v.clone(),
                    v.clone(),
                    v.clone(),
                    s("hi"),
                    s("hi"),
                    s("a\"b")
                ]
            ),
            "héllo|   héllo|héllo   |hé|\"héllo\"|6869|68 69|`a\"b`"
        );
        assert_eq!(f("%+q|%#v", &[s("é"), s("x")]), "\"\\u00e9\"|\"x\"");
    }

    #[test]
    fn booleans_print_with_t_and_v() {
        assert_eq!(
            f("%t %v %5t", &[Value::Bool(true), Value::Bool(false), Value::Bool(true)]),
            "true false  true"
        );
    }

    #[test]
    fn containers_print_as_json() {
        let v = Value::from_json(r#"{"a":[1,"x"]}"#).unwrap();
        assert_eq!(
            f(
                "%v|%s|%+v|%q",
                &[v.clone(), v.clone(), v.clone(), Value::array([Value::from(1)])]
            ),
            r#"{"a":[1,"x"]}|{"a":[1,"x"]}|{"a":[1,"x"]}|"[1]""#
        );
    }

    #[test]
    fn wrong_types_missing_and_extra_arguments_are_reported_inline() {
        assert_eq!(f("%d", &[s("hi")]), "%!d(string=hi)");
        assert_eq!(f("%d %s", &[Value::from(1)]), "1 %!s(MISSING)");
        assert_eq!(
            f("%d", &[Value::from(1), s("x"), Value::Null]),
            "1%!(EXTRA string=x, <nil>)"
        );
        assert_eq!(f("%z", &[Value::from(1)]), "%!z(int=1)");
        assert_eq!(f("%", &[]), "%!(NOVERB)");
        assert_eq!(f("%d", &[Value::array([])]), "%!d([]interface {}=[])");
    }

    #[test]
    fn nil_prints_as_go_nil() {
        assert_eq!(
            f("%v|%s|%T", &[Value::Null, Value::Null, Value::Null]),
            "<nil>|%!s(<nil>)|<nil>"
        );
    }

    #[test]
    fn star_takes_width_and_precision_from_arguments() {
        assert_eq!(
            f(
                "%*d|%-*d|%.*f",
                &[
                    Value::from(4),
                    Value::from(7),
                    Value::from(3),
                    Value::from(7),
                    Value::from(1),
                    Value::from(2.25)
                ]
            ),
            "   7|7  |2.2"
        );
        assert_eq!(f("%*d", &[s("x"), Value::from(7)]), "%!(BADWIDTH)7");
        assert_eq!(f("%.*d", &[s("x"), Value::from(7)]), "%!(BADPREC)7");
    }

    #[test]
    fn explicit_argument_indexes_reorder() {
        assert_eq!(f("%[2]d %[1]d", &[Value::from(1), Value::from(2)]), "2 1");
        assert_eq!(f("%[3]d", &[Value::from(1)]), "%!d(BADINDEX)");
    }

    #[test]
    fn huge_widths_and_precisions_are_honoured_or_refused() {
        assert_eq!(f("%.100000U", &[Value::from(65)]).len(), 100_002);
        assert_eq!(f("%100000d", &[Value::from(1)]).len(), 100_000);
        assert_eq!(f("%100000000d", &[Value::from(1)]), "%!(NOVERB)%!(EXTRA int=1)");
    }

    #[test]
    fn percent_literal_takes_no_argument() {
        assert_eq!(f("100%%", &[]), "100%");
    }

    #[test]
    fn type_verb_names_go_types() {
        assert_eq!(
            f(
                "%T %T %T %T",
                &[Value::from(1), Value::from(1.5), s("x"), Value::empty_object()]
            ),
            "int float64 string map[string]interface {}"
        );
    }

    #[test]
    fn sprint_spaces_operands_unless_one_is_a_string() {
        assert_eq!(
            sprint(&[Value::from(1), Value::from(2), s("a"), Value::from(3), s("b"), s("c")]),
            "1 2a3bc"
        );
        assert_eq!(sprint(&[Value::Null]), "<nil>");
    }

    #[test]
    fn sprintln_always_spaces_and_ends_with_newline() {
        assert_eq!(sprintln(&[s("a"), s("b"), Value::from(1)]), "a b 1\n");
    }
}
