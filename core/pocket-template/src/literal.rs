//! Values of Go literals in templates: numbers, quoted strings and characters.

use pocket_value::Value;

/// The value of a number token, typed as Go types an untyped template
/// constant: integers (decimal, `0x`, `0o`, `0b`, leading-`0` octal, `_`
/// separators) are ints; anything with `.`, an exponent or `p` is a float.
pub(crate) fn number(text: &str) -> Result<Value, String> {
    let illegal = || format!("illegal number syntax: {text:?}");
    let clean;
    let digits = if text.contains('_') {
        if !underscores_ok(text) {
            return Err(illegal());
        }
        clean = text.replace('_', "");
        clean.as_str()
    } else {
        text
    };
    let (negative, unsigned) = match digits.as_bytes().first() {
        Some(b'-') => (true, &digits[1..]),
        Some(b'+') => (false, &digits[1..]),
        _ => (false, digits),
    };
    if let Some(magnitude) = parse_unsigned(unsigned) {
        let value = if negative {
            0i64.checked_sub_unsigned(magnitude)
        } else {
            i64::try_from(magnitude).ok()
        };
        return value.map(Value::from).ok_or_else(|| format!("{text} overflows int"));
    }
    let float = if is_hex(unsigned) {
        parse_hex_float(unsigned)
    } else {
        unsigned.parse::<f64>().ok()
    };
    match float {
        Some(f) if f.is_finite() && text.contains(['.', 'e', 'E', 'p', 'P']) => {
            Ok(Value::from(if negative { -f } else { f }))
        }
        Some(f) if f.is_finite() && unsigned.bytes().all(|b| b.is_ascii_digit()) => {
            Err(format!("integer overflow: {text:?}"))
        }
        _ => Err(illegal()),
    }
}

fn is_hex(s: &str) -> bool {
    s.len() > 2 && s.starts_with('0') && matches!(s.as_bytes()[1], b'x' | b'X')
}

/// An unsigned integer in Go syntax (base prefix or leading-zero octal).
fn parse_unsigned(s: &str) -> Option<u64> {
    let (radix, digits) = match s.as_bytes() {
        [b'0', b'x' | b'X', ..] => (16, &s[2..]),
        [b'0', b'o' | b'O', ..] => (8, &s[2..]),
        [b'0', b'b' | b'B', ..] => (2, &s[2..]),
        [b'0', _, ..] => (8, &s[1..]),
        _ => (10, s),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// A hexadecimal float such as `0x1.8p3`; the `p` exponent is required.
fn parse_hex_float(s: &str) -> Option<f64> {
    let (mantissa, exponent) = s[2..].split_once(['p', 'P'])?;
    let exponent: i32 = exponent.parse().ok()?;
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    let mut value = 0f64;
    for c in whole.chars().chain(fraction.chars()) {
        value = value * 16.0 + f64::from(c.to_digit(16)?);
    }
    let scale = exponent.checked_sub(i32::try_from(fraction.len()).ok()?.checked_mul(4)?)?;
    Some(value * 2f64.powi(scale))
}

/// Go's rule for `_` in number literals: only between digits, or right
/// after a base prefix.
fn underscores_ok(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let b = s.as_bytes();
    // '^' start, '0' digit or prefix, '_' underscore, '!' anything else.
    let mut saw = b'^';
    let mut i = 0;
    let mut hex = false;
    if b.len() >= 2 && b[0] == b'0' && matches!(b[1].to_ascii_lowercase(), b'b' | b'o' | b'x') {
        i = 2;
        saw = b'0';
        hex = b[1].eq_ignore_ascii_case(&b'x');
    }
    for &c in &b[i..] {
        if c.is_ascii_digit() || hex && c.is_ascii_hexdigit() {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
    }
    saw != b'_'
}

/// The text of a double-quoted string token, with Go's escapes decoded.
/// Byte escapes (`\xff`, `\377`) that do not form UTF-8 become U+FFFD.
pub(crate) fn string(token: &str) -> Result<String, String> {
    let inner = &token[1..token.len() - 1];
    let mut bytes = Vec::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buf = [0; 4];
            bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        match unescape(&mut chars, '"') {
            Some(Unit::Byte(b)) => bytes.push(b),
            Some(Unit::Char(c)) => {
                let mut buf = [0; 4];
                bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
            None => return Err(format!("invalid escape sequence in string {token}")),
        }
    }
    Ok(String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

/// The text of a back-quoted string token; carriage returns are dropped as Go does.
pub(crate) fn raw_string(token: &str) -> String {
    token[1..token.len() - 1].replace('\r', "")
}

/// The code point of a character constant such as `'a'` or `'\n'`, as an int.
pub(crate) fn character(token: &str) -> Result<Value, String> {
    let malformed = || format!("malformed character constant: {token}");
    let inner = &token[1..token.len() - 1];
    let mut chars = inner.chars();
    let code = match chars.next() {
        Some('\\') => match unescape(&mut chars, '\'').ok_or_else(malformed)? {
            Unit::Byte(b) => u32::from(b),
            Unit::Char(c) => u32::from(c),
        },
        Some('\'') | None => return Err(malformed()),
        Some(c) => u32::from(c),
    };
    if chars.next().is_some() {
        return Err(malformed());
    }
    Ok(Value::from(i64::from(code)))
}

/// What one escape sequence stands for.
enum Unit {
    Byte(u8),
    Char(char),
}

/// Decodes the escape after a backslash; `quote` is the enclosing quote,
/// the only quote that may be escaped.
fn unescape(chars: &mut std::str::Chars<'_>, quote: char) -> Option<Unit> {
    let c = chars.next()?;
    let simple = match c {
        'a' => '\u{7}',
        'b' => '\u{8}',
        'f' => '\u{c}',
        'n' => '\n',
        'r' => '\r',
        't' => '\t',
        'v' => '\u{b}',
        '\\' => '\\',
        '\'' | '"' if c == quote => c,
        'x' => return hex_digits(chars, 2).and_then(|v| u8::try_from(v).ok()).map(Unit::Byte),
        'u' => return hex_digits(chars, 4).and_then(char::from_u32).map(Unit::Char),
        'U' => return hex_digits(chars, 8).and_then(char::from_u32).map(Unit::Char),
        '0'..='7' => {
            let mut value = c.to_digit(8)?;
            for _ in 0..2 {
                value = value * 8 + chars.next()?.to_digit(8)?;
            }
            return u8::try_from(value).ok().map(Unit::Byte);
        }
        _ => return None,
    };
    Some(Unit::Char(simple))
}

fn hex_digits(chars: &mut std::str::Chars<'_>, count: usize) -> Option<u32> {
    let mut value = 0u32;
    for _ in 0..count {
        value = value * 16 + chars.next()?.to_digit(16)?;
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_in_every_base_are_ints() {
        assert_eq!(number("42").unwrap(), Value::from(42));
        assert_eq!(number("-0x1F").unwrap(), Value::from(-31));
        assert_eq!(number("0o17").unwrap(), Value::from(15));
        assert_eq!(number("017").unwrap(), Value::from(15));
        assert_eq!(number("0b101").unwrap(), Value::from(5));
        assert_eq!(number("1_000").unwrap(), Value::from(1000));
        assert_eq!(number("-9223372036854775808").unwrap(), Value::from(i64::MIN));
    }

    #[test]
    fn numbers_with_a_point_or_exponent_are_floats() {
        assert!(matches!(number("1.0").unwrap(), Value::Number(n) if !n.is_integer()));
        assert_eq!(number("2.5e3").unwrap().as_f64(), Some(2500.0));
        assert_eq!(number(".5").unwrap().as_f64(), Some(0.5));
        assert_eq!(number("0x1.8p1").unwrap().as_f64(), Some(3.0));
    }

    #[test]
    fn bad_numbers_are_rejected_with_go_messages() {
        assert_eq!(
            number("9223372036854775808").unwrap_err(),
            "9223372036854775808 overflows int"
        );
        assert_eq!(
            number("99999999999999999999999").unwrap_err(),
            "integer overflow: \"99999999999999999999999\""
        );
        assert_eq!(number("1__0").unwrap_err(), "illegal number syntax: \"1__0\"");
        assert_eq!(number("-").unwrap_err(), "illegal number syntax: \"-\"");
        assert_eq!(number("1e999").unwrap_err(), "illegal number syntax: \"1e999\"");
    }

    #[test]
    fn strings_decode_go_escapes() {
        assert_eq!(
            string(r#""a\n\"b\" \u00e9 \x41 \101 \U0001F600""#).unwrap(),
            "a\n\"b\" é A A 😀"
        );
        assert!(string(r#""\'""#).is_err());
        assert!(string(r#""\q""#).is_err());
        assert!(string(r#""\ud800""#).is_err());
    }

    #[test]
    fn raw_strings_are_verbatim_without_carriage_returns() {
        assert_eq!(raw_string("`a\\n\r\nb`"), "a\\n\nb");
    }

    #[test]
    fn characters_are_code_points() {
        assert_eq!(character("'a'").unwrap(), Value::from(97));
        assert_eq!(character(r"'\n'").unwrap(), Value::from(10));
        assert_eq!(character(r"'\''").unwrap(), Value::from(39));
        assert_eq!(character("'é'").unwrap(), Value::from(233));
        assert!(character("''").is_err());
        assert!(character("'ab'").is_err());
    }
}
