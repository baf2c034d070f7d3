//! A field's `validate.pattern` and the e-mail check, as Form.io runs them in the browser, run
//! with the `regex` crate (linear time: a careless pattern cannot hang the registry).
//!
//! Form.io (@formio/core `validateRegexPattern`) tests `new RegExp("^" + pattern + "$")`
//! against the whole value, with no flags: the anchors are pasted around the text, not around a
//! group, so `a|b` means "starts with a, or ends with b", exactly as here. JavaScript's syntax
//! differs from the `regex` crate's, so a pattern is translated first:
//!
//! - `\d`, `\w`, `\b` are ASCII-only in JavaScript (`[0-9]`, `[0-9A-Za-z_]`); `\s` is
//!   JavaScript's white-space list; `.` is any character but `\n`, `\r`, U+2028, U+2029. The
//!   translation spells these out, so they mean what they mean in the browser.
//! - An unknown escape of a letter (`\a`) is the letter itself in JavaScript; `[` inside a class
//!   is a plain character; `{` that does not start a repetition is a plain brace.
//! - Back-references (`\1`, `\k<name>`) and look-around (`(?=`, `(?!`, `(?<=`, `(?<!`) have no
//!   linear-time equivalent: such patterns are refused when the form is checked.
//! - JavaScript (without the `u` flag) sees text as UTF-16 units, Rust as characters: `.` or
//!   `{n}` around characters outside the Basic Multilingual Plane (emoji) count them once here and
//!   twice in the browser. Patterns for names, numbers and codes do not meet this.

use regex::{Regex, RegexBuilder};

/// Longest pattern a form may set, in characters.
pub const MAX_PATTERN_CHARS: usize = 500;
/// Cap on a compiled pattern's size in bytes.
const MAX_COMPILED_BYTES: usize = 256 * 1024;

/// JavaScript's `\s`.
const JS_SPACE: &str =
    r"\t\n\x0B\x0C\r \xA0\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}\x{FEFF}";
/// JavaScript's `.` without the `s` flag.
const JS_DOT: &str = r"[^\n\r\x{2028}\x{2029}]";

/// Compiles a Form.io `validate.pattern` as Form.io applies it: anchored with `^…$`.
pub fn compile(pattern: &str) -> Result<Regex, String> {
    if pattern.chars().count() > MAX_PATTERN_CHARS {
        return Err(format!("is longer than {MAX_PATTERN_CHARS} characters"));
    }
    let translated = translate(pattern)?;
    RegexBuilder::new(&format!("^{translated}$"))
        .size_limit(MAX_COMPILED_BYTES)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(_) => "is too complex".to_owned(),
            other => format!(
                "cannot be read ({})",
                other
                    .to_string()
                    .lines()
                    .last()
                    .unwrap_or("syntax error")
                    .trim()
            ),
        })
}

/// The e-mail pattern of @formio/core's `validateEmail`, byte for byte.
const FORMIO_EMAIL: &str = r#"^(([^<>()[\]\\.,;:\s@"]+(\.[^<>()[\]\\.,;:\s@"]+)*)|(".+"))@((\[[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}])|(([a-zA-Z\-0-9]+\.)+[a-zA-Z]{2,}))$"#;

/// Form.io's e-mail check (an `email` field's value must match it).
pub fn formio_email() -> &'static Regex {
    static EMAIL: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    EMAIL.get_or_init(|| {
        let translated = translate(FORMIO_EMAIL).expect("Form.io's e-mail pattern translates");
        Regex::new(&translated).expect("Form.io's e-mail pattern compiles")
    })
}

/// Rewrites JavaScript regular-expression source (no flags) as `regex` crate syntax with the
/// same meaning, or says why it cannot be.
pub fn translate(js: &str) -> Result<String, String> {
    let chars: Vec<char> = js.chars().collect();
    let mut out = String::with_capacity(js.len() + 16);
    let mut i = 0;
    let mut in_class = false;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' {
            let Some(&next) = chars.get(i + 1) else {
                return Err("ends with a lone backslash".into());
            };
            let (text, used) = escape(&chars, i + 1, in_class)?;
            debug_assert!(used >= 1, "{next}");
            out.push_str(&text);
            i += 1 + used;
            continue;
        }
        if in_class {
            match c {
                ']' => {
                    in_class = false;
                    out.push(']');
                }
                // Special inside a Rust class (nested classes and set operations), plain in
                // JavaScript.
                '[' | '&' | '~' => {
                    out.push('\\');
                    out.push(c);
                }
                _ => out.push(c),
            }
            i += 1;
            continue;
        }
        match c {
            '.' => out.push_str(JS_DOT),
            '[' => {
                let negated = chars.get(i + 1) == Some(&'^');
                let body_start = i + 1 + usize::from(negated);
                if chars.get(body_start) == Some(&']') {
                    // `[]` matches nothing, `[^]` anything, in JavaScript.
                    out.push_str(if negated { r"[\s\S]" } else { r"[^\s\S]" });
                    i = body_start + 1;
                    continue;
                }
                in_class = true;
                out.push_str(if negated { "[^" } else { "[" });
                i = body_start;
                continue;
            }
            '(' if chars.get(i + 1) == Some(&'?') => {
                let rest: String = chars[i + 2..].iter().take(3).collect();
                if rest.starts_with('=')
                    || rest.starts_with('!')
                    || rest.starts_with("<=")
                    || rest.starts_with("<!")
                {
                    return Err(
                        "uses look-ahead or look-behind ((?= (?! (?<= (?<!), which the registry cannot check in linear time".into(),
                    );
                }
                if !(rest.starts_with(':') || rest.starts_with('<')) {
                    return Err("uses a group syntax JavaScript does not know".into());
                }
                out.push_str("(?");
                i += 2;
                continue;
            }
            '{' => match repetition(&chars, i) {
                Some(len) => {
                    out.extend(&chars[i..i + len]);
                    i += len;
                    continue;
                }
                None => out.push_str(r"\{"),
            },
            '}' => out.push_str(r"\}"),
            ']' => out.push_str(r"\]"),
            other => out.push(other),
        }
        i += 1;
    }
    if in_class {
        return Err("opens a character class [ that is never closed".into());
    }
    Ok(out)
}

/// `{n}`, `{n,}` or `{n,m}` at `chars[at]`: its length, if it is one.
fn repetition(chars: &[char], at: usize) -> Option<usize> {
    let mut i = at + 1;
    let digits = |i: &mut usize| {
        let start = *i;
        while chars.get(*i).is_some_and(char::is_ascii_digit) {
            *i += 1;
        }
        *i > start
    };
    if !digits(&mut i) {
        return None;
    }
    if chars.get(i) == Some(&',') {
        i += 1;
        digits(&mut i);
    }
    (chars.get(i) == Some(&'}')).then_some(i + 1 - at)
}

/// The escape starting at `chars[at]` (just after the backslash): its translation and how
/// many characters it used.
fn escape(chars: &[char], at: usize, in_class: bool) -> Result<(String, usize), String> {
    let c = chars[at];
    let class_or = |inside: &str, outside: &str| {
        if in_class {
            inside.to_owned()
        } else {
            outside.to_owned()
        }
    };
    let hex = |count: usize| -> Option<u32> {
        let text: String = chars.get(at + 1..at + 1 + count)?.iter().collect();
        (text.len() == count && text.chars().all(|c| c.is_ascii_hexdigit()))
            .then(|| u32::from_str_radix(&text, 16).ok())
            .flatten()
    };
    let code_point = |cp: u32| -> Result<String, String> {
        char::from_u32(cp)
            .map(|ch| format!("\\x{{{:X}}}", ch as u32))
            .ok_or_else(|| "names a lone UTF-16 surrogate (\\uD800–\\uDFFF)".to_owned())
    };
    Ok(match c {
        'd' => (class_or("0-9", "[0-9]"), 1),
        'D' => ("[^0-9]".into(), 1),
        'w' => (class_or("0-9A-Za-z_", "[0-9A-Za-z_]"), 1),
        'W' => ("[^0-9A-Za-z_]".into(), 1),
        's' => (class_or(JS_SPACE, &format!("[{JS_SPACE}]")), 1),
        'S' => (format!("[^{JS_SPACE}]"), 1),
        // `\b` in a class is a backspace.
        'b' => (class_or(r"\x08", r"(?-u:\b)"), 1),
        'B' if !in_class => (r"(?-u:\B)".into(), 1),
        '1'..='9' => {
            return Err(
                "uses a back-reference (\\1…\\9), which the registry cannot check in linear time"
                    .into(),
            )
        }
        '0' if chars.get(at + 1).is_some_and(char::is_ascii_digit) => {
            return Err("uses an octal escape (\\0 followed by digits)".into())
        }
        '0' => (r"\x00".into(), 1),
        't' => (r"\t".into(), 1),
        'n' => (r"\n".into(), 1),
        'r' => (r"\r".into(), 1),
        'v' => (r"\x0B".into(), 1),
        'f' => (r"\x0C".into(), 1),
        'x' => match hex(2) {
            Some(cp) => (code_point(cp)?, 3),
            None => ("x".into(), 1),
        },
        'u' => match hex(4) {
            Some(high @ 0xD800..=0xDBFF) => {
                // A surrogate pair written as two escapes is one character.
                let low = (chars.get(at + 5) == Some(&'\\') && chars.get(at + 6) == Some(&'u'))
                    .then(|| {
                        let text: String = chars.get(at + 7..at + 11)?.iter().collect();
                        u32::from_str_radix(&text, 16).ok()
                    })
                    .flatten()
                    .filter(|low| (0xDC00..=0xDFFF).contains(low));
                match low {
                    Some(low) => (
                        code_point(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))?,
                        11,
                    ),
                    None => return Err("names a lone UTF-16 surrogate (\\uD800–\\uDFFF)".into()),
                }
            }
            Some(cp) => (code_point(cp)?, 5),
            None => ("u".into(), 1),
        },
        'c' => match chars.get(at + 1) {
            Some(letter) if letter.is_ascii_alphabetic() => {
                (format!("\\x{:02X}", (*letter as u32) % 32), 2)
            }
            _ => (r"\\c".into(), 1),
        },
        'k' => return Err("uses a named back-reference (\\k<name>)".into()),
        // Any other letter or digit escaped is that character in JavaScript (Annex B).
        other if other.is_ascii_alphanumeric() => (other.to_string(), 1),
        other => (regex::escape(&other.to_string()), 1),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, value: &str) -> bool {
        compile(pattern).unwrap().is_match(value)
    }

    #[test]
    fn patterns_are_anchored_the_way_formio_anchors_them() {
        assert!(matches("[0-9]{8}", "12345678"));
        assert!(!matches("[0-9]{8}", "123456789"));
        assert!(!matches("[0-9]{8}", "x12345678"));
        // `^a|b$`: starts with a, or ends with b.
        assert!(matches("a|b", "axx"));
        assert!(matches("a|b", "xxb"));
        assert!(!matches("a|b", "xbx"));
        // A pattern that brings its own anchors keeps them.
        assert!(matches(r"^\+[1-9][0-9]{6,14}$", "+254712345678"));
    }

    #[test]
    fn classes_mean_what_they_mean_in_javascript() {
        assert!(
            !matches(r"\d+", "١٢٣"),
            "Arabic-Indic digits are not \\d in JavaScript"
        );
        assert!(matches(r"\d+", "123"));
        assert!(!matches(r"\w+", "é"));
        assert!(matches(r"\s", "\u{FEFF}"));
        assert!(!matches(r"\s", "\u{85}"));
        assert!(!matches(".", "\n"));
        assert!(matches("[^a]", "\n"));
        assert!(matches(r"[\d-]+", "12-3"));
        assert!(matches(r"[[]", "["));
        assert!(matches(r"a&&b", "a&&b"));
        assert!(matches(r"[&&]", "&"));
        assert!(matches(r"\/\a", "/a"));
        assert!(matches(r"a{,2}", "a{,2}"));
        assert!(matches(r"a{2}", "aa"));
        assert!(matches(r"\u00e9\x41", "éA"));
        assert!(matches(r"\uD83D\uDE00", "😀"));
        assert!(matches(r"[^]", "\n"));
        assert!(!matches(r"[]", "a"));
        assert!(matches(r"(?<year>\d{4})-(?:\d\d)", "2024-05"));
        assert!(matches(r"\bab\b", "ab"));
    }

    #[test]
    fn what_cannot_run_in_linear_time_is_refused() {
        for pattern in [
            r"(a)\1", r"(?=a)a", r"(?!a)b", r"(?<=a)b", r"(?<!a)b", r"\k<x>", "[a", r"a\", "(",
            "a{2,1}",
        ] {
            assert!(compile(pattern).is_err(), "{pattern}");
        }
        assert!(compile(&"a".repeat(MAX_PATTERN_CHARS + 1)).is_err());
    }

    #[test]
    fn the_email_check_is_formios() {
        let email = formio_email();
        for ok in [
            "amina@example.org",
            "Amina.O@Example.ORG",
            "a+b@sub.example.co",
            "\"x y\"@example.org",
            "a@[10.0.0.1]",
        ] {
            assert!(email.is_match(ok), "{ok}");
        }
        for bad in [
            "amina@",
            "amina@example",
            " amina@example.org",
            "a b@example.org",
            "a@b.c",
            "a..b@example.org",
            "a@example.org\n",
        ] {
            assert!(!email.is_match(bad), "{bad}");
        }
    }
}
