//! The validation patterns of ID types (OpenG2P's `id_validation` regex on an ID type).
//!
//! A pattern is written by an administrator, e.g. `[0-9]{8}` for an 8-digit national ID. It must
//! match the *whole* value, so patterns are anchored here rather than trusting every author to
//! add `^…$`. The `regex` crate runs in linear time, so a careless pattern cannot hang the
//! server; its compiled size is capped too, so it cannot exhaust memory.

use regex::{Regex, RegexBuilder};

/// Cap on a compiled pattern's size in bytes; generous for any real ID format.
pub const MAX_COMPILED_PATTERN_BYTES: usize = 256 * 1024;

/// Compiles an ID type's pattern so that it must match the entire value.
pub fn compile_id_pattern(pattern: &str) -> Result<Regex, regex::Error> {
    // Compile the pattern on its own first: text such as `a)|(b` is invalid alone but would
    // balance once wrapped, and then escape the anchors.
    RegexBuilder::new(pattern)
        .size_limit(MAX_COMPILED_PATTERN_BYTES)
        .build()?;
    RegexBuilder::new(&format!("^(?:{pattern})$"))
        .size_limit(MAX_COMPILED_PATTERN_BYTES)
        .build()
}

/// Longest ID number accepted as typed by a person, once spaces and dashes are taken out.
pub const MAX_ID_NUMBER_CHARS: usize = 32;

/// An ID number as a person types it, in the one form it is stored and looked up in: spaces and
/// dashes (which cards print for readability) removed, letters in upper case. `Ok(None)` when
/// nothing was typed; [`code::INVALID_FORMAT`](super::code::INVALID_FORMAT) when what remains is
/// not 1 to [`MAX_ID_NUMBER_CHARS`] ASCII letters and digits. An ID type's own pattern
/// ([`compile_id_pattern`]) is checked on top of this, where the type is known.
pub fn normalize_id_number(typed: &str) -> Result<Option<String>, &'static str> {
    let number: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    if number.is_empty() {
        return Ok(None);
    }
    if number.len() > MAX_ID_NUMBER_CHARS || !number.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(super::code::INVALID_FORMAT);
    }
    Ok(Some(number.to_uppercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_numbers_are_read_as_printed() {
        assert_eq!(
            normalize_id_number(" 12-345 678 "),
            Ok(Some("12345678".into()))
        );
        assert_eq!(
            normalize_id_number("ak 123456"),
            Ok(Some("AK123456".into()))
        );
        assert_eq!(normalize_id_number("  - "), Ok(None));
        for bad in ["12/34", "é123", &"9".repeat(33)] {
            assert_eq!(
                normalize_id_number(bad),
                Err(crate::validate::code::INVALID_FORMAT),
                "{bad}"
            );
        }
    }

    #[test]
    fn patterns_match_whole_values() {
        let regex = compile_id_pattern("[0-9]{8}").unwrap();
        assert!(regex.is_match("12345678"));
        assert!(!regex.is_match("123456789"), "no partial match");
        assert!(!regex.is_match("x12345678"));
        let alternatives = compile_id_pattern("A[0-9]{3}|B[0-9]{2}").unwrap();
        assert!(alternatives.is_match("B12"));
        assert!(
            !alternatives.is_match("A12"),
            "anchoring covers every alternative"
        );
    }

    #[test]
    fn broken_and_huge_patterns_are_refused() {
        assert!(compile_id_pattern("[0-9").is_err());
        assert!(compile_id_pattern("(a").is_err());
        assert!(
            compile_id_pattern("a)|(b").is_err(),
            "cannot escape the anchors"
        );
        assert!(compile_id_pattern("(?:[a-z]{100}){100}").is_err());
    }
}
