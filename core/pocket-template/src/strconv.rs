//! The parts of Go's `strconv` that `printf` needs: float formatting in every
//! verb (`%e %f %g %b %x`), string and rune quoting, and `IsPrint`.

/// More digits than any f64 has after its decimal point (1074) or in its
/// exact decimal expansion (767).
const EXACT_DIGITS: usize = 1100;

/// Decimal digits `0.d1d2d3... × 10^dp`, without trailing zeros; zero has no digits.
struct Decimal {
    digits: Vec<u8>,
    dp: i32,
}

impl Decimal {
    /// Parses Rust's `{:e}` output for a non-negative finite number: `d.ddde±x`.
    fn from_exponential(text: &str) -> Decimal {
        let (mantissa, exponent) = text.split_once('e').unwrap_or((text, "0"));
        let exponent: i32 = exponent.parse().unwrap_or(0);
        let digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
        Decimal::normalized(digits, exponent + 1)
    }

    /// Parses Rust's `{:.N}` output for a non-negative finite number: `ddd.ddd`.
    fn from_fixed(text: &str) -> Decimal {
        let whole = text.split_once('.').map_or(text, |(w, _)| w);
        let digits: Vec<u8> = text.bytes().filter(u8::is_ascii_digit).collect();
        let dp = i32::try_from(whole.len()).unwrap_or(i32::MAX);
        Decimal::normalized(digits, dp)
    }

    /// Drops leading zeros (moving the point) and trailing zeros.
    fn normalized(mut digits: Vec<u8>, mut dp: i32) -> Decimal {
        let leading = digits.iter().take_while(|&&d| d == b'0').count();
        digits.drain(..leading);
        dp -= i32::try_from(leading).unwrap_or(0);
        while digits.last() == Some(&b'0') {
            digits.pop();
        }
        if digits.is_empty() {
            dp = 0;
        }
        Decimal { digits, dp }
    }

    fn nd(&self) -> i32 {
        i32::try_from(self.digits.len()).unwrap_or(i32::MAX)
    }

    fn digit(&self, i: i32) -> u8 {
        usize::try_from(i)
            .ok()
            .and_then(|i| self.digits.get(i))
            .copied()
            .unwrap_or(b'0')
    }
}

/// Go's `strconv.FormatFloat(x, fmt, prec, 64)` for fmt in `e E f g G b x X`;
/// a negative `prec` asks for the shortest representation that round-trips.
pub(crate) fn format_float(x: f64, fmt: u8, prec: i32) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    let negative = x.is_sign_negative();
    match fmt {
        b'b' => return format_binary(x),
        b'x' | b'X' => return format_hex(x, prec, fmt),
        _ => {}
    }
    let a = x.abs();
    let shortest = prec < 0;
    let mut prec = prec;
    let digits = if shortest {
        let d = Decimal::from_exponential(&format!("{a:e}"));
        prec = match fmt {
            b'e' | b'E' => d.nd() - 1,
            b'f' => (d.nd() - d.dp).max(0),
            _ => d.nd(),
        };
        d
    } else {
        // Rust rounds these exactly, halfway cases to even, as Go's strconv
        // does. Past EXACT_DIGITS every digit is zero, which the formatting
        // below pads in; Rust's formatter refuses precisions that large.
        let p = usize::try_from(prec).unwrap_or(0).min(EXACT_DIGITS);
        match fmt {
            b'e' | b'E' => Decimal::from_exponential(&format!("{a:.p$e}")),
            b'f' => Decimal::from_fixed(&format!("{a:.p$}")),
            _ => {
                if prec == 0 {
                    prec = 1;
                }
                let p = usize::try_from(prec - 1).unwrap_or(0).min(EXACT_DIGITS);
                Decimal::from_exponential(&format!("{a:.p$e}"))
            }
        }
    };
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    format_digits(&mut out, &digits, shortest, prec, fmt);
    out
}

/// Go's `formatDigits`.
fn format_digits(out: &mut String, d: &Decimal, shortest: bool, prec: i32, fmt: u8) {
    match fmt {
        b'e' | b'E' => format_e(out, d, prec, fmt),
        b'f' => format_f(out, d, prec),
        _ => {
            let mut eprec = prec;
            if eprec > d.nd() && d.nd() >= d.dp {
                eprec = d.nd();
            }
            // %e is used if the exponent from the conversion is less than -4
            // or greater than or equal to the precision; the shortest form
            // decides with precision 6.
            if shortest {
                eprec = 6;
            }
            let exponent = d.dp - 1;
            if exponent < -4 || exponent >= eprec {
                let prec = prec.min(d.nd());
                format_e(out, d, prec - 1, fmt + b'e' - b'g');
                return;
            }
            let prec = if prec > d.dp { d.nd() } else { prec };
            format_f(out, d, (prec - d.dp).max(0));
        }
    }
}

/// Go's `fmtE`: `d.dddde±dd`.
fn format_e(out: &mut String, d: &Decimal, prec: i32, fmt: u8) {
    out.push(char::from(d.digit(0)));
    if prec > 0 {
        out.push('.');
        for i in 1..=prec {
            out.push(char::from(d.digit(i)));
        }
    }
    out.push(char::from(fmt));
    let exponent = if d.digits.is_empty() { 0 } else { d.dp - 1 };
    out.push(if exponent < 0 { '-' } else { '+' });
    out.push_str(&format!("{:02}", exponent.unsigned_abs()));
}

/// Go's `fmtF`: `ddd.ddd`.
fn format_f(out: &mut String, d: &Decimal, prec: i32) {
    if d.dp > 0 {
        for i in 0..d.dp {
            out.push(char::from(d.digit(i)));
        }
    } else {
        out.push('0');
    }
    if prec > 0 {
        out.push('.');
        for i in 1..=prec {
            out.push(char::from(d.digit(d.dp + i - 1)));
        }
    }
}

/// The sign, mantissa and binary exponent of a float, as Go's `genericFtoa` splits it.
fn split_bits(x: f64) -> (bool, u64, i32) {
    let bits = x.to_bits();
    let negative = bits >> 63 != 0;
    let mut exponent = ((bits >> 52) & 0x7ff) as i32;
    let mut mantissa = bits & ((1 << 52) - 1);
    if exponent == 0 {
        exponent += 1;
    } else {
        mantissa |= 1 << 52;
    }
    (negative, mantissa, exponent - 1023)
}

/// Go's `%b` for floats: `-ddddp±ddd`, a decimal mantissa and binary exponent.
fn format_binary(x: f64) -> String {
    let (negative, mantissa, exponent) = split_bits(x);
    let exponent = exponent - 52;
    let sign = if negative { "-" } else { "" };
    let plus = if exponent >= 0 { "+" } else { "" };
    format!("{sign}{mantissa}p{plus}{exponent}")
}

/// Go's `fmtX`: `-0x1.yyyyp±dd`, hexadecimal mantissa and binary exponent.
fn format_hex(x: f64, prec: i32, fmt: u8) -> String {
    let (negative, mut mantissa, mut exponent) = split_bits(x);
    if mantissa == 0 {
        exponent = 0;
    }
    // Shift so the leading 1 (if any) is at bit 60.
    mantissa <<= 60 - 52;
    while mantissa != 0 && mantissa & (1 << 60) == 0 {
        mantissa <<= 1;
        exponent -= 1;
    }
    if (0..15).contains(&prec) {
        let shift = prec.unsigned_abs() * 4;
        let extra = (mantissa << shift) & ((1 << 60) - 1);
        mantissa >>= 60 - shift;
        if extra | (mantissa & 1) > 1 << 59 {
            mantissa += 1;
        }
        mantissa <<= 60 - shift;
        if mantissa & (1 << 61) != 0 {
            mantissa >>= 1;
            exponent += 1;
        }
    }
    let hex: &[u8; 16] = if fmt == b'X' {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    out.push('0');
    out.push(char::from(fmt));
    out.push(if (mantissa >> 60) & 1 == 1 { '1' } else { '0' });
    mantissa <<= 4;
    let nibble = |m: u64| char::from(hex[((m >> 60) & 15) as usize]);
    if prec < 0 && mantissa != 0 {
        out.push('.');
        while mantissa != 0 {
            out.push(nibble(mantissa));
            mantissa <<= 4;
        }
    } else if prec > 0 {
        out.push('.');
        for _ in 0..prec {
            out.push(nibble(mantissa));
            mantissa <<= 4;
        }
    }
    out.push(if fmt == b'X' { 'P' } else { 'p' });
    out.push(if exponent < 0 { '-' } else { '+' });
    out.push_str(&format!("{:02}", exponent.unsigned_abs()));
    out
}

/// Go's `strconv.Quote` (or `QuoteToASCII` when `ascii_only`).
pub(crate) fn quote(s: &str, ascii_only: bool) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        escape_rune(&mut out, c, '"', ascii_only);
    }
    out.push('"');
    out
}

/// Go's `strconv.QuoteRune` (or `QuoteRuneToASCII` when `ascii_only`).
pub(crate) fn quote_rune(c: char, ascii_only: bool) -> String {
    let mut out = String::from('\'');
    escape_rune(&mut out, c, '\'', ascii_only);
    out.push('\'');
    out
}

/// Go's `appendEscapedRune`.
fn escape_rune(out: &mut String, c: char, quote: char, ascii_only: bool) {
    if c == quote || c == '\\' {
        out.push('\\');
        out.push(c);
        return;
    }
    let printable = if ascii_only {
        c.is_ascii() && is_print(c)
    } else {
        is_print(c)
    };
    if printable {
        out.push(c);
        return;
    }
    match c {
        '\u{7}' => out.push_str("\\a"),
        '\u{8}' => out.push_str("\\b"),
        '\u{c}' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{b}' => out.push_str("\\v"),
        c if c < ' ' || c == '\u{7f}' => out.push_str(&format!("\\x{:02x}", u32::from(c))),
        c if u32::from(c) < 0x10000 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
        c => out.push_str(&format!("\\U{:08x}", u32::from(c))),
    }
}

/// Go's `strconv.CanBackquote`: no control characters but tab, no back quote, no BOM.
pub(crate) fn can_backquote(s: &str) -> bool {
    s.chars()
        .all(|c| !((c < ' ' && c != '\t') || c == '`' || c == '\u{7f}' || c == '\u{feff}'))
}

/// Go's `unicode.IsPrint`: letters, marks, numbers, punctuation, symbols and
/// the ASCII space. Without Unicode's category tables this excludes controls,
/// format characters, separators other than U+0020, private-use code points
/// and noncharacters; unassigned code points count as printable.
pub(crate) fn is_print(c: char) -> bool {
    if c.is_ascii() {
        return c == ' ' || c.is_ascii_graphic();
    }
    let u = u32::from(c);
    let format = matches!(
        u,
        0xAD | 0x600..=0x605
            | 0x61C
            | 0x6DD
            | 0x70F
            | 0x890..=0x891
            | 0x8E2
            | 0x180E
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x2064
            | 0x2066..=0x206F
            | 0xFEFF
            | 0xFFF9..=0xFFFB
            | 0x110BD
            | 0x110CD
            | 0x13430..=0x1343F
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0001
            | 0xE0020..=0xE007F
    );
    let private_use = matches!(u, 0xE000..=0xF8FF | 0xF0000..=0xFFFFD | 0x100000..=0x10FFFD);
    let noncharacter = matches!(u, 0xFDD0..=0xFDEF) || (u & 0xFFFE) == 0xFFFE;
    !(c.is_control() || c.is_whitespace() || format || private_use || noncharacter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e_format_matches_go() {
        assert_eq!(format_float(1234.5678, b'e', 6), "1.234568e+03");
        assert_eq!(format_float(0.0, b'e', 2), "0.00e+00");
        assert_eq!(format_float(-1e-10, b'E', 1), "-1.0E-10");
        assert_eq!(format_float(1e100, b'e', -1), "1e+100");
    }

    #[test]
    fn f_format_rounds_halfway_to_even_like_go() {
        assert_eq!(format_float(1.23456, b'f', 2), "1.23");
        assert_eq!(format_float(2.5, b'f', 0), "2");
        assert_eq!(format_float(0.125, b'f', 2), "0.12");
        assert_eq!(format_float(0.006, b'f', 2), "0.01");
        assert_eq!(format_float(-0.001, b'f', 2), "-0.00");
        assert_eq!(format_float(1e21, b'f', -1), "1000000000000000000000");
    }

    #[test]
    fn g_format_switches_to_exponent_like_go() {
        assert_eq!(format_float(100000.0, b'g', -1), "100000");
        assert_eq!(format_float(1000000.0, b'g', -1), "1e+06");
        assert_eq!(format_float(0.0001, b'g', -1), "0.0001");
        assert_eq!(format_float(0.00001, b'g', -1), "1e-05");
        assert_eq!(format_float(123.456, b'g', 4), "123.5");
        assert_eq!(format_float(100.0, b'g', 2), "1e+02");
        assert_eq!(format_float(1.0, b'g', 3), "1");
        assert_eq!(format_float(0.0, b'g', -1), "0");
    }

    #[test]
    fn binary_and_hex_float_formats_match_go() {
        assert_eq!(format_float(1.0, b'b', -1), "4503599627370496p-52");
        assert_eq!(format_float(1.0, b'x', -1), "0x1p+00");
        assert_eq!(format_float(3.0, b'X', -1), "0X1.8P+01");
        assert_eq!(format_float(1.0 / 3.0, b'x', 3), "0x1.555p-02");
    }

    #[test]
    fn huge_precisions_pad_with_zeros() {
        let text = format_float(0.5, b'f', 100_000);
        assert_eq!(text.len(), 100_002);
        assert!(text.starts_with("0.5000") && text.ends_with("000"));
        assert_eq!(format_float(1.0, b'e', 2000).len(), 2006);
    }

    #[test]
    fn special_floats_use_go_names() {
        assert_eq!(format_float(f64::NAN, b'g', -1), "NaN");
        assert_eq!(format_float(f64::NEG_INFINITY, b'f', 2), "-Inf");
    }

    #[test]
    fn quoting_escapes_like_go() {
        assert_eq!(quote("a\"b\\\n\u{7f}é\u{200b}", false), r#""a\"b\\\n\x7fé\u200b""#);
        assert_eq!(quote("é😀", true), r#""\u00e9\U0001f600""#);
        assert_eq!(quote_rune('\'', false), r"'\''");
        assert_eq!(quote_rune('x', false), "'x'");
    }

    #[test]
    fn backquoting_needs_plain_text() {
        assert!(can_backquote("a\tb"));
        assert!(!can_backquote("a`b"));
        assert!(!can_backquote("a\nb"));
    }

    #[test]
    fn printability_follows_unicode_categories() {
        assert!(is_print('a') && is_print(' ') && is_print('é') && is_print('😀'));
        assert!(!is_print('\n') && !is_print('\u{a0}') && !is_print('\u{200b}'));
        assert!(!is_print('\u{e000}') && !is_print('\u{fffe}'));
    }
}
