//! Phone numbers in E.164 form (`+254712345678`).
//!
//! Numbers are stored in one canonical form so the same person typed twice is recognisably the
//! same number, and so SMS gateways can dial them from anywhere. ITU-T E.164 allows at most 15
//! digits after the `+`, and a country code never starts with 0.

/// Most digits an E.164 number can have (country code included), per ITU-T E.164.
pub const E164_MAX_DIGITS: usize = 15;

/// Fewest digits Doorstep accepts. E.164 sets no minimum; 8 catches numbers typed without
/// their country code or cut short, at the cost of refusing the very shortest national plans
/// (Niue, Tokelau: 7 digits with country code).
pub const E164_MIN_DIGITS: usize = 8;

/// Whether `number` is in E.164 form: `+`, then 8–15 digits of which the first (the start of
/// the country code) is not 0. No spaces or punctuation.
pub fn is_e164(number: &str) -> bool {
    let Some(digits) = number.strip_prefix('+') else {
        return false;
    };
    (E164_MIN_DIGITS..=E164_MAX_DIGITS).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

/// Turns a number as people write it into E.164, or `None` if that cannot be done safely.
///
/// Spaces, hyphens, dots, slashes and brackets are dropped, and an international `00` prefix
/// becomes `+`. A number written nationally (no `+` or `00`) is completed with
/// `default_calling_code` (digits only, e.g. `"254"` for Kenya) after dropping one leading trunk
/// `0`; without a default it is refused rather than guessed.
pub fn normalize_phone_number(input: &str, default_calling_code: Option<&str>) -> Option<String> {
    let mut compact = String::with_capacity(input.len());
    for c in input.trim().chars() {
        match c {
            ' ' | '\u{a0}' | '-' | '.' | '/' | '(' | ')' => {}
            '+' if compact.is_empty() => compact.push('+'),
            c if c.is_ascii_digit() => compact.push(c),
            _ => return None,
        }
    }
    let e164 = if compact.starts_with('+') {
        compact
    } else if let Some(rest) = compact.strip_prefix("00") {
        format!("+{rest}")
    } else {
        let calling_code = default_calling_code?;
        if calling_code.is_empty() || !calling_code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let national = compact.strip_prefix('0').unwrap_or(&compact);
        format!("+{calling_code}{national}")
    };
    is_e164(&e164).then_some(e164)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_e164_numbers() {
        for good in [
            "+254712345678",
            "+14155552671",
            "+442071838750",
            "+12345678",
            "+123456789012345",
        ] {
            assert!(is_e164(good), "{good}");
        }
    }

    #[test]
    fn invalid_e164_numbers() {
        for bad in [
            "254712345678",      // no +
            "+0254712345678",    // country code starts with 0
            "+1234567",          // too short
            "+1234567890123456", // 16 digits
            "+254 712 345 678",  // spaces
            "+254-712345678",    // punctuation
            "+25471234567a",     // letter
            "+",
            "",
            "++254712345678",
            "+２５４712345678", // full-width digits
        ] {
            assert!(!is_e164(bad), "{bad}");
        }
    }

    #[test]
    fn normalising_written_numbers() {
        assert_eq!(
            normalize_phone_number(" +254 712-345 678 ", None).as_deref(),
            Some("+254712345678")
        );
        assert_eq!(
            normalize_phone_number("00 44 (20) 7183 8750", None).as_deref(),
            Some("+442071838750")
        );
        assert_eq!(
            normalize_phone_number("0712 345 678", Some("254")).as_deref(),
            Some("+254712345678")
        );
        assert_eq!(normalize_phone_number("0712 345 678", None), None);
        assert_eq!(normalize_phone_number("0712 345 678", Some("+254")), None);
        assert_eq!(normalize_phone_number("+254 71x", None), None);
        assert_eq!(normalize_phone_number("+25+4712345678", None), None);
        assert_eq!(normalize_phone_number("+0712345678", None), None);
    }
}
