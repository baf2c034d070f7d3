//! The few pieces of JavaScript's value semantics that Form.io's checks and json-logic-js rely
//! on, so the server computes what the citizen's web view computes: truthiness, `Number(x)`,
//! `parseFloat(x)`, `String(x)` (including how numbers print), `==`, `===`, `<`, the UTF-16
//! length behind `value.length`, and `String.prototype.trim`.
//!
//! Values are JSON plus `undefined`. Objects and arrays are compared by identity in JavaScript;
//! here two of them are never equal (a form comparing whole objects is not something the
//! builder produces).

use std::cmp::Ordering;

use serde_json::{Map, Number, Value};

/// A JavaScript value as json-logic-js sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum Js {
    Undefined,
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Arr(Vec<Js>),
    Obj(Map<String, Value>),
}

impl Js {
    /// A JSON value as JavaScript holds it (numbers become doubles, as in `JSON.parse`).
    pub fn from_json(value: &Value) -> Js {
        match value {
            Value::Null => Js::Null,
            Value::Bool(b) => Js::Bool(*b),
            Value::Number(n) => Js::Num(n.as_f64().unwrap_or(f64::NAN)),
            Value::String(s) => Js::Str(s.clone()),
            Value::Array(items) => Js::Arr(items.iter().map(Js::from_json).collect()),
            Value::Object(map) => Js::Obj(map.clone()),
        }
    }

    /// The value as `JSON.stringify` would store it: `NaN` and infinities become `null`, whole
    /// numbers are written without a fraction, `undefined` becomes `null`.
    pub fn to_json(&self) -> Value {
        match self {
            Js::Undefined | Js::Null => Value::Null,
            Js::Bool(b) => Value::Bool(*b),
            Js::Num(n) => number_to_json(*n),
            Js::Str(s) => Value::String(s.clone()),
            Js::Arr(items) => Value::Array(items.iter().map(Js::to_json).collect()),
            Js::Obj(map) => Value::Object(map.clone()),
        }
    }

    pub fn is_nullish(&self) -> bool {
        matches!(self, Js::Undefined | Js::Null)
    }
}

/// A double as JSON, the way `JSON.stringify` writes it.
pub fn number_to_json(n: f64) -> Value {
    if !n.is_finite() {
        return Value::Null;
    }
    // 2^53: beyond it a double is not an exact integer for every value, and JSON.stringify
    // writes large whole numbers in full anyway; i64 holds them exactly up to 2^63.
    if n.fract() == 0.0 && n.abs() < 9.2e18 {
        return Value::Number(Number::from(n as i64));
    }
    Number::from_f64(n).map_or(Value::Null, Value::Number)
}

/// JavaScript's `!!value` (plain JavaScript: an empty array is truthy).
pub fn truthy(value: &Js) -> bool {
    match value {
        Js::Undefined | Js::Null => false,
        Js::Bool(b) => *b,
        Js::Num(n) => *n != 0.0 && !n.is_nan(),
        Js::Str(s) => !s.is_empty(),
        Js::Arr(_) | Js::Obj(_) => true,
    }
}

/// json-logic-js's truthiness: JavaScript's, except that an empty array is false.
pub fn logic_truthy(value: &Js) -> bool {
    match value {
        Js::Arr(items) => !items.is_empty(),
        other => truthy(other),
    }
}

/// Whether `c` is white space or a line terminator to JavaScript (`\s`, `trim()`).
pub fn is_js_space(c: char) -> bool {
    matches!(
        c,
        '\u{0009}'
            | '\u{000A}'
            | '\u{000B}'
            | '\u{000C}'
            | '\u{000D}'
            | '\u{0020}'
            | '\u{00A0}'
            | '\u{1680}'
            | '\u{2000}'
            ..='\u{200A}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202F}'
                | '\u{205F}'
                | '\u{3000}'
                | '\u{FEFF}'
    )
}

/// `String.prototype.trim()`.
pub fn trim(s: &str) -> &str {
    s.trim_matches(is_js_space)
}

/// `value.length` of a JavaScript string: UTF-16 code units, so an emoji counts 2.
pub fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// `String(value)`.
pub fn to_string(value: &Js) -> String {
    match value {
        Js::Undefined => "undefined".into(),
        Js::Null => "null".into(),
        Js::Bool(b) => b.to_string(),
        Js::Num(n) => number_to_string(*n),
        Js::Str(s) => s.clone(),
        Js::Arr(items) => join(items, ","),
        Js::Obj(_) => "[object Object]".into(),
    }
}

/// `Array.prototype.join`: `null` and `undefined` elements print as nothing.
pub fn join(items: &[Js], separator: &str) -> String {
    let mut out = String::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(separator);
        }
        if !item.is_nullish() {
            out.push_str(&to_string(item));
        }
    }
    out
}

/// `Number.prototype.toString()` (ECMAScript's Number::toString with radix 10).
pub fn number_to_string(n: f64) -> String {
    if n.is_nan() {
        return "NaN".into();
    }
    if n == 0.0 {
        return "0".into();
    }
    if n.is_infinite() {
        return if n > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if n < 0.0 {
        return format!("-{}", number_to_string(-n));
    }
    // Rust's `{:e}` prints the shortest digits that read back as the same double, as
    // JavaScript does; only the layout differs.
    let scientific = format!("{n:e}");
    let (mantissa, exponent) = scientific
        .split_once('e')
        .expect("`{:e}` always has an exponent");
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let exponent: i32 = exponent.parse().expect("`{:e}` exponent is an integer");
    let k = digits.len() as i32;
    let point = exponent + 1; // ECMAScript's n: the decimal point sits after `point` digits
    if k <= point && point <= 21 {
        let mut out = digits;
        out.extend(std::iter::repeat_n('0', (point - k) as usize));
        out
    } else if 0 < point && point <= 21 {
        let (int, frac) = digits.split_at(point as usize);
        format!("{int}.{frac}")
    } else if -6 < point && point <= 0 {
        format!("0.{}{digits}", "0".repeat((-point) as usize))
    } else {
        let sign = if point - 1 < 0 { '-' } else { '+' };
        let e = (point - 1).abs();
        if k == 1 {
            format!("{digits}e{sign}{e}")
        } else {
            format!("{}.{}e{sign}{e}", &digits[..1], &digits[1..])
        }
    }
}

/// `Number(value)`.
pub fn to_number(value: &Js) -> f64 {
    match value {
        Js::Undefined => f64::NAN,
        Js::Null => 0.0,
        Js::Bool(b) => f64::from(u8::from(*b)),
        Js::Num(n) => *n,
        Js::Str(s) => string_to_number(s),
        Js::Arr(_) | Js::Obj(_) => string_to_number(&to_string(value)),
    }
}

/// `Number(text)`: the whole text, trimmed, must be a number literal (decimal, `0x`, `0o`,
/// `0b`, `Infinity`); an empty text is 0.
pub fn string_to_number(text: &str) -> f64 {
    let t = trim(text);
    if t.is_empty() {
        return 0.0;
    }
    for (prefix, radix) in [
        ("0x", 16),
        ("0X", 16),
        ("0o", 8),
        ("0O", 8),
        ("0b", 2),
        ("0B", 2),
    ] {
        if let Some(rest) = t.strip_prefix(prefix) {
            if rest.is_empty() || !rest.chars().all(|c| c.is_digit(radix)) {
                return f64::NAN;
            }
            return rest.chars().fold(0.0, |acc, c| {
                acc * f64::from(radix) + f64::from(c.to_digit(radix).expect("checked digit"))
            });
        }
    }
    match decimal_prefix(t) {
        Some((value, used)) if used == t.len() => value,
        _ => f64::NAN,
    }
}

/// `parseFloat(value)`: the longest number literal at the start of `String(value)`.
pub fn parse_float(value: &Js) -> f64 {
    let text = to_string(value);
    let t = text.trim_start_matches(is_js_space);
    decimal_prefix(t).map_or(f64::NAN, |(value, _)| value)
}

/// `parseInt(text, 10)`: optional sign, then the longest run of digits.
pub fn parse_int(text: &str) -> f64 {
    let t = text.trim_start_matches(is_js_space);
    let (sign, rest) = match t.as_bytes().first() {
        Some(b'-') => (-1.0, &t[1..]),
        Some(b'+') => (1.0, &t[1..]),
        _ => (1.0, t),
    };
    let digits: &str = &rest[..rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len())];
    if digits.is_empty() {
        return f64::NAN;
    }
    sign * digits.parse::<f64>().unwrap_or(f64::NAN)
}

/// The longest StrDecimalLiteral at the start of `t` (sign, digits, fraction, exponent, or
/// `Infinity`), with the number of bytes it used.
fn decimal_prefix(t: &str) -> Option<(f64, usize)> {
    let bytes = t.as_bytes();
    let mut i = 0;
    let negative = match bytes.first() {
        Some(b'+') => {
            i = 1;
            false
        }
        Some(b'-') => {
            i = 1;
            true
        }
        _ => false,
    };
    if t[i..].starts_with("Infinity") {
        let value = if negative {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        };
        return Some((value, i + "Infinity".len()));
    }
    let digits = |from: usize| {
        bytes[from..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let int = digits(i);
    let mut end = i + int;
    let mut frac = 0;
    if bytes.get(end) == Some(&b'.') {
        frac = digits(end + 1);
        if int > 0 || frac > 0 {
            end += 1 + frac;
        }
    }
    if int == 0 && frac == 0 {
        return None;
    }
    if matches!(bytes.get(end), Some(b'e' | b'E')) {
        let mut j = end + 1;
        if matches!(bytes.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let exp = digits(j);
        if exp > 0 {
            end = j + exp;
        }
    }
    // What remains is plain ASCII digits, signs, a point and an exponent: Rust reads it the
    // same way (correctly rounded, as ECMAScript requires).
    let value: f64 = t[..end].parse().ok()?;
    Some((value, end))
}

/// `a === b`.
pub fn strict_equals(a: &Js, b: &Js) -> bool {
    match (a, b) {
        (Js::Undefined, Js::Undefined) | (Js::Null, Js::Null) => true,
        (Js::Bool(x), Js::Bool(y)) => x == y,
        (Js::Num(x), Js::Num(y)) => x == y,
        (Js::Str(x), Js::Str(y)) => x == y,
        _ => false,
    }
}

/// `a == b` (the abstract equality algorithm).
pub fn loose_equals(a: &Js, b: &Js) -> bool {
    match (a, b) {
        (Js::Undefined | Js::Null, Js::Undefined | Js::Null) => true,
        (Js::Undefined | Js::Null, _) | (_, Js::Undefined | Js::Null) => false,
        (Js::Num(_), Js::Num(_)) | (Js::Str(_), Js::Str(_)) | (Js::Bool(_), Js::Bool(_)) => {
            strict_equals(a, b)
        }
        (Js::Arr(_) | Js::Obj(_), Js::Arr(_) | Js::Obj(_)) => false,
        (Js::Num(x), Js::Str(s)) | (Js::Str(s), Js::Num(x)) => *x == string_to_number(s),
        (Js::Bool(x), other) | (other, Js::Bool(x)) => {
            loose_equals(&Js::Num(f64::from(u8::from(*x))), other)
        }
        (Js::Arr(_) | Js::Obj(_), primitive) | (primitive, Js::Arr(_) | Js::Obj(_)) => {
            let object = if matches!(a, Js::Arr(_) | Js::Obj(_)) {
                a
            } else {
                b
            };
            loose_equals(&Js::Str(to_string(object)), primitive)
        }
    }
}

/// `a < b` as an ordering, or `None` where JavaScript answers false both ways (NaN).
pub fn compare(a: &Js, b: &Js) -> Option<Ordering> {
    let primitive = |v: &Js| match v {
        Js::Arr(_) | Js::Obj(_) => Js::Str(to_string(v)),
        other => other.clone(),
    };
    let (a, b) = (primitive(a), primitive(b));
    if let (Js::Str(x), Js::Str(y)) = (&a, &b) {
        // JavaScript compares strings by UTF-16 code units.
        return Some(x.encode_utf16().cmp(y.encode_utf16()));
    }
    to_number(&a).partial_cmp(&to_number(&b))
}

pub fn less(a: &Js, b: &Js) -> bool {
    compare(a, b) == Some(Ordering::Less)
}

pub fn less_or_equal(a: &Js, b: &Js) -> bool {
    matches!(compare(a, b), Some(Ordering::Less | Ordering::Equal))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_as_javascript_prints_them() {
        for (n, text) in [
            (0.0, "0"),
            (-0.0, "0"),
            (1.0, "1"),
            (-1.5, "-1.5"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1e21, "1e+21"),
            (123456789012345680000.0, "123456789012345680000"),
            (1e-7, "1e-7"),
            (0.000001, "0.000001"),
            (1.5e-10, "1.5e-10"),
            (2.5e25, "2.5e+25"),
            (100.0, "100"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
        ] {
            assert_eq!(number_to_string(n), text, "{n}");
        }
    }

    #[test]
    fn text_becomes_a_number_as_in_javascript() {
        for (text, n) in [
            ("", 0.0),
            ("  12  ", 12.0),
            ("1e3", 1000.0),
            (".5", 0.5),
            ("5.", 5.0),
            ("0x1A", 26.0),
            ("-Infinity", f64::NEG_INFINITY),
        ] {
            assert_eq!(string_to_number(text), n, "{text:?}");
        }
        for text in ["12abc", "1,5", "-0x10", ".", "e5", "inf", "NaN"] {
            assert!(string_to_number(text).is_nan(), "{text:?}");
        }
        assert_eq!(parse_float(&Js::Str("12abc".into())), 12.0);
        assert_eq!(parse_float(&Js::Str("  -3.5e2x".into())), -350.0);
        assert_eq!(parse_float(&Js::Str("0x10".into())), 0.0);
        assert!(parse_float(&Js::Bool(true)).is_nan());
        assert!(parse_float(&Js::Null).is_nan());
        assert_eq!(parse_int("05"), 5.0);
        assert_eq!(parse_int("5x"), 5.0);
        assert!(parse_int("").is_nan());
    }

    #[test]
    fn loose_equality_follows_the_abstract_algorithm() {
        let s = |t: &str| Js::Str(t.into());
        assert!(loose_equals(&Js::Num(1.0), &s("1")));
        assert!(loose_equals(&Js::Bool(true), &s("1")));
        assert!(loose_equals(&Js::Null, &Js::Undefined));
        assert!(!loose_equals(&Js::Null, &Js::Num(0.0)));
        assert!(loose_equals(
            &Js::Arr(vec![Js::Num(1.0), Js::Num(2.0)]),
            &s("1,2")
        ));
        assert!(loose_equals(&s(""), &Js::Num(0.0)));
        assert!(!loose_equals(&Js::Num(f64::NAN), &Js::Num(f64::NAN)));
        assert!(!strict_equals(&Js::Num(1.0), &s("1")));
    }

    #[test]
    fn comparisons_coerce_like_javascript() {
        let s = |t: &str| Js::Str(t.into());
        assert!(less(&s("10"), &s("9")), "strings compare as text");
        assert!(!less(&Js::Num(10.0), &s("9")), "a number makes it numeric");
        assert!(!less(&Js::Num(f64::NAN), &Js::Num(1.0)));
        assert!(!less_or_equal(&Js::Num(1.0), &Js::Num(f64::NAN)));
        assert!(less(&Js::Null, &Js::Num(1.0)));
    }

    #[test]
    fn lengths_and_trimming_are_javascripts() {
        assert_eq!(utf16_len("😀😀"), 4);
        assert_eq!(utf16_len("é"), 1);
        assert_eq!(trim("\u{FEFF} a \u{3000}"), "a");
        assert_eq!(
            trim("\u{85}a"),
            "\u{85}a",
            "NEL is not JavaScript white space"
        );
    }

    #[test]
    fn json_round_trip_writes_whole_numbers_plainly() {
        assert_eq!(number_to_json(3.0), serde_json::json!(3));
        assert_eq!(number_to_json(-0.0), serde_json::json!(0));
        assert_eq!(number_to_json(2.5), serde_json::json!(2.5));
        assert_eq!(number_to_json(f64::NAN), Value::Null);
        assert_eq!(
            to_string(&Js::Arr(vec![Js::Null, Js::Num(1.0), Js::Str("a".into())])),
            ",1,a"
        );
    }
}
