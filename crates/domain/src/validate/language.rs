//! Language tags (BCP 47 / RFC 5646), e.g. `sw`, `en-KE`, `sr-Latn-RS`, `es-419`.
//!
//! Only the shape is checked, not whether each subtag is registered with IANA: the app needs a
//! tag it can hand to translation and text-to-speech tooling, and those fall back gracefully on
//! subtags they do not know.

use std::sync::LazyLock;

use regex::Regex;

/// Longest tag accepted. RFC 5646 sets no limit; real tags are far shorter.
pub const MAX_LANGUAGE_TAG_LEN: usize = 64;

/// RFC 5646 `langtag` and private-use grammar, case-insensitive, without the grandfathered
/// irregular tags (`i-klingon` and friends) nobody registers people in.
static LANGUAGE_TAG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)^(?:",
        // language: 2–3 letters with up to three extended subtags, or a 5–8 letter language
        r"(?:[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{5,8})",
        r"(?:-[a-z]{4})?",                           // script
        r"(?:-(?:[a-z]{2}|[0-9]{3}))?",              // region
        r"(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*", // variants
        r"(?:-[a-wyz0-9](?:-[a-z0-9]{2,8})+)*",      // extensions
        r"(?:-x(?:-[a-z0-9]{1,8})+)?",               // private use
        r"|x(?:-[a-z0-9]{1,8})+",                    // private use only
        r")$"
    ))
    .expect("the language tag pattern is valid")
});

/// Whether `tag` has the shape of a BCP 47 language tag.
pub fn is_valid_language_tag(tag: &str) -> bool {
    tag.len() <= MAX_LANGUAGE_TAG_LEN && LANGUAGE_TAG.is_match(tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_real_tags() {
        for good in [
            "en",
            "sw",
            "fil",
            "en-KE",
            "es-419",
            "sr-Latn-RS",
            "zh-Hant-TW",
            "zh-yue-HK",
            "de-CH-1996",
            "en-US-u-ca-gregory",
            "en-x-field",
            "x-doorstep",
            "EN-ke",
        ] {
            assert!(is_valid_language_tag(good), "{good}");
        }
    }

    #[test]
    fn refuses_non_tags() {
        for bad in [
            "",
            "e",
            "kiswahili",
            "en_KE",
            "en-",
            "-en",
            "en--KE",
            "en-K",
            "en-KE-",
            "en KE",
            "en-u",
            "ki-Swahili-long-variant-name",
        ] {
            assert!(!is_valid_language_tag(bad), "{bad}");
        }
    }
}
