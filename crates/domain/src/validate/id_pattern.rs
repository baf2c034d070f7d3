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

#[cfg(test)]
mod tests {
    use super::*;

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
