//! Checks on free text and short codes shared by every entity.

use super::{code, ValidationErrors};

/// Longest name part (given name, family name…), in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// Longest single line of free text (a title, an address line), in characters.
pub const MAX_LINE_CHARS: usize = 200;
/// Longest multi-line free text (a description, a note), in characters.
pub const MAX_TEXT_CHARS: usize = 4000;
/// Longest code (ID type, programme, provider), in characters.
pub const MAX_CODE_CHARS: usize = 64;

/// Whether `code` is a short stable code: 1–64 of `a-z`, `0-9`, `_`, `-`, `.`, starting with a
/// letter or digit. Codes name things in configuration (`national_id`, `mpesa`, `esignet`) and
/// are never shown to people, so one lower-case spelling avoids `Passport` vs `passport`.
pub fn is_valid_code(code: &str) -> bool {
    let bytes = code.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_CODE_CHARS
        && bytes[0].is_ascii_alphanumeric()
        && bytes.iter().all(|&b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-' | b'.')
        })
}

/// Whether `code` has the shape of an ISO 3166-1 alpha-2 country code: two upper-case ASCII
/// letters. Only the shape is checked; whether the code is assigned is left to the caller's list
/// of countries it operates in.
pub fn is_valid_country_code(code: &str) -> bool {
    code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase())
}

/// Whether `bic` has the shape of a SWIFT BIC (ISO 9362): 4 letters (institution), 2 letters
/// (country), 2 letters or digits (location), optionally 3 letters or digits (branch), upper case.
pub fn is_valid_bic(bic: &str) -> bool {
    let b = bic.as_bytes();
    let upper_alnum = |c: &u8| c.is_ascii_uppercase() || c.is_ascii_digit();
    matches!(b.len(), 8 | 11)
        && b[..6].iter().all(u8::is_ascii_uppercase)
        && b[6..].iter().all(upper_alnum)
}

/// Whether `hash` is a SHA-256 digest in lower-case hexadecimal (64 characters).
pub fn is_sha256_hex(hash: &str) -> bool {
    hash.len() == 64
        && hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Whether `text` contains a control character; line breaks and tabs count unless
/// `allow_line_breaks`.
pub fn has_control_characters(text: &str, allow_line_breaks: bool) -> bool {
    text.chars()
        .any(|c| c.is_control() && !(allow_line_breaks && matches!(c, '\n' | '\r' | '\t')))
}

/// The first invisible formatting character in `text` that has no place in a stored name or
/// line of text, if any: direction overrides, embeddings, isolates and marks (U+202A–U+202E,
/// U+2066–U+2069, U+200E, U+200F, U+061C), which can make a name display as another name;
/// zero-width spaces, word joiners and byte-order marks (U+200B, U+2060, U+FEFF), which make two
/// equal-looking names compare unequal; and the other invisible format characters (Unicode
/// category Cf) listed below. Zero-width (non-)joiners (U+200C, U+200D) are part of correct
/// spelling in Persian, Kurdish and Indic scripts, so they are allowed inside a word and
/// refused at the edges of words.
pub fn hidden_character(text: &str) -> Option<char> {
    let chars: Vec<char> = text.chars().collect();
    chars.iter().enumerate().find_map(|(i, &c)| {
        let refused = match c {
            '\u{200C}' | '\u{200D}' => {
                let before = i.checked_sub(1).map(|j| chars[j]);
                let after = chars.get(i + 1).copied();
                // Inside a word: letters or the marks that join them (a virama is a mark).
                let in_word = |c: Option<char>| {
                    c.is_some_and(|c| {
                        !c.is_whitespace()
                            && !c.is_control()
                            && !c.is_ascii_punctuation()
                            && !matches!(c, '\u{200C}' | '\u{200D}')
                    })
                };
                !(in_word(before) && in_word(after))
            }
            '\u{00AD}' // soft hyphen
            | '\u{034F}' // combining grapheme joiner
            | '\u{061C}' // Arabic letter mark
            | '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' // Hangul fillers (look blank)
            | '\u{180E}' // Mongolian vowel separator
            | '\u{200B}' // zero-width space
            | '\u{200E}' | '\u{200F}' // left-to-right and right-to-left marks
            | '\u{202A}'..='\u{202E}' // embeddings and overrides
            | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
            | '\u{2066}'..='\u{2069}' // isolates
            | '\u{206A}'..='\u{206F}' // deprecated format characters
            | '\u{FEFF}' // byte-order mark, zero-width no-break space
            | '\u{FFF9}'..='\u{FFFB}' // interlinear annotation
            | '\u{E0000}'..='\u{E007F}' => true, // tag characters
            _ => false,
        };
        refused.then_some(c)
    })
}

/// Checks a required single-line text: not blank, at most `max_chars`, no control characters.
pub(crate) fn required_line(
    errors: &mut ValidationErrors,
    field: &str,
    label: &str,
    value: &str,
    max_chars: usize,
) {
    if value.trim().is_empty() {
        errors.push(field, code::REQUIRED, format!("Enter the {label}."));
    } else {
        line_rules(errors, field, label, value, max_chars, false);
    }
}

/// Checks an optional single-line text: if given, not blank, at most `max_chars`, no control
/// characters.
pub(crate) fn optional_line(
    errors: &mut ValidationErrors,
    field: &str,
    label: &str,
    value: Option<&str>,
    max_chars: usize,
) {
    if let Some(value) = value {
        if value.trim().is_empty() {
            errors.push(
                field,
                code::REQUIRED,
                format!("Enter the {label}, or leave it out entirely."),
            );
        } else {
            line_rules(errors, field, label, value, max_chars, false);
        }
    }
}

/// Checks a required multi-line text: not blank, at most `max_chars`, no control characters
/// other than line breaks and tabs.
pub(crate) fn required_text(
    errors: &mut ValidationErrors,
    field: &str,
    label: &str,
    value: &str,
    max_chars: usize,
) {
    if value.trim().is_empty() {
        errors.push(field, code::REQUIRED, format!("Enter the {label}."));
    } else {
        line_rules(errors, field, label, value, max_chars, true);
    }
}

/// Checks an optional multi-line text, like [`required_text`] when given.
pub(crate) fn optional_text(
    errors: &mut ValidationErrors,
    field: &str,
    label: &str,
    value: Option<&str>,
    max_chars: usize,
) {
    if let Some(value) = value {
        line_rules(errors, field, label, value, max_chars, true);
    }
}

/// Checks a required code (see [`is_valid_code`]).
pub(crate) fn required_code(errors: &mut ValidationErrors, field: &str, label: &str, value: &str) {
    if value.is_empty() {
        errors.push(field, code::REQUIRED, format!("Enter the {label}."));
    } else if !is_valid_code(value) {
        errors.push(
            field,
            code::INVALID_FORMAT,
            format!(
                "Use only lower-case letters, digits, '_', '-' and '.' in the {label} \
                 (at most {MAX_CODE_CHARS}), for example national_id."
            ),
        );
    }
}

fn line_rules(
    errors: &mut ValidationErrors,
    field: &str,
    label: &str,
    value: &str,
    max_chars: usize,
    allow_line_breaks: bool,
) {
    let chars = value.chars().count();
    if chars > max_chars {
        errors.push(
            field,
            code::TOO_LONG,
            format!("Shorten the {label} to at most {max_chars} characters (it has {chars})."),
        );
    }
    if has_control_characters(value, allow_line_breaks) {
        let what = if allow_line_breaks {
            "special control characters"
        } else {
            "line breaks and special control characters"
        };
        errors.push(
            field,
            code::CONTROL_CHARACTERS,
            format!("Remove {what} from the {label}."),
        );
    } else if let Some(c) = hidden_character(value) {
        errors.push(
            field,
            code::CONTROL_CHARACTERS,
            format!(
                "Remove the invisible character U+{:04X} from the {label}: direction overrides, \
                 zero-width spaces and byte-order marks can make text look like something else.",
                c as u32
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_formatting_characters_are_found() {
        for bad in [
            "Amina\u{202E}ognihdO",
            "\u{FEFF}Amina",
            "Ami\u{200B}na",
            "\u{2066}Amina\u{2069}",
            "Amina\u{200F}",
            "\u{200C}Amina",
            "Amina \u{200D}",
            "Ami\u{E0041}na",
        ] {
            assert!(hidden_character(bad).is_some(), "{bad:?}");
        }
        // Persian spelling needs a zero-width non-joiner between letters; Arabic, accents and
        // Devanagari conjuncts are ordinary text.
        for good in [
            "می\u{200C}خواهم",
            "क्\u{200D}ष",
            "Amina Odhiambo",
            "أمينة",
            "Zoë O'Brien-Müller",
        ] {
            assert_eq!(hidden_character(good), None, "{good:?}");
        }
    }

    #[test]
    fn codes() {
        for good in [
            "national_id",
            "passport",
            "mpesa",
            "q1",
            "a.b-c_d",
            "9lives",
        ] {
            assert!(is_valid_code(good), "{good}");
        }
        let too_long = "a".repeat(MAX_CODE_CHARS + 1);
        for bad in [
            "",
            "National_ID",
            "_x",
            "has space",
            "ümlaut",
            too_long.as_str(),
        ] {
            assert!(!is_valid_code(bad), "{bad}");
        }
    }

    #[test]
    fn bics() {
        for good in ["DEUTDEFF", "DEUTDEFF500", "NEDSZAJJXXX", "KCBLKENX"] {
            assert!(is_valid_bic(good), "{good}");
        }
        for bad in [
            "DEUTDEF",
            "deutdeff",
            "DEU1DEFF",
            "DEUTDEFF50",
            "DEUTDEFF5000",
        ] {
            assert!(!is_valid_bic(bad), "{bad}");
        }
    }

    #[test]
    fn country_codes_and_hashes() {
        assert!(is_valid_country_code("KE"));
        assert!(!is_valid_country_code("ke"));
        assert!(!is_valid_country_code("KEN"));
        let hash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert!(is_sha256_hex(hash));
        assert!(!is_sha256_hex(&hash.to_uppercase()));
        assert!(!is_sha256_hex(&hash[1..]));
        assert!(!is_sha256_hex(&hash.replace('e', "g")));
    }

    #[test]
    fn text_rules() {
        let mut errors = ValidationErrors::new();
        required_line(&mut errors, "a", "name", "  ", 10);
        required_line(&mut errors, "b", "name", "Amina\nx", 10);
        required_line(&mut errors, "c", "name", "Ngozi Okonjo", 5);
        optional_line(&mut errors, "d", "name", None, 5);
        required_text(&mut errors, "e", "note", "line one\nline two", 100);
        required_line(&mut errors, "f", "name", "Ñandú", 5);
        assert!(errors.has("a", code::REQUIRED));
        assert!(errors.has("b", code::CONTROL_CHARACTERS));
        assert!(errors.has("c", code::TOO_LONG));
        assert_eq!(errors.len(), 3, "{errors}");
    }
}
