//! International Bank Account Numbers (ISO 13616).
//!
//! An IBAN is a country code, two check digits and a national account number (BBAN) whose
//! length is fixed per country. The check digits make almost every typing mistake detectable
//! (ISO 7064 MOD 97-10 catches every single wrong digit and most swaps), which is why payment
//! files built from a registry should carry IBANs wherever a country uses them.
//!
//! IBANs are stored in their electronic form: upper case, no spaces ([`normalize_iban`]).

use serde::{Deserialize, Serialize};

/// Shortest IBAN of any country (Norway).
pub const MIN_IBAN_LEN: usize = 15;
/// Longest IBAN any country may issue (ISO 13616).
pub const MAX_IBAN_LEN: usize = 34;

/// IBAN length per country (ISO 3166-1 alpha-2), from the SWIFT IBAN registry: every SEPA
/// country plus the other countries that issue IBANs and are common in payment files.
/// Sorted by country code for binary search.
const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AE", 23),
    ("AL", 28),
    ("AT", 20),
    ("AZ", 28),
    ("BA", 20),
    ("BE", 16),
    ("BG", 22),
    ("BH", 22),
    ("BI", 27),
    ("BR", 29),
    ("BY", 28),
    ("CH", 21),
    ("CR", 22),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DJ", 27),
    ("DK", 18),
    ("DO", 28),
    ("EE", 20),
    ("EG", 29),
    ("ES", 24),
    ("FI", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GE", 22),
    ("GI", 23),
    ("GL", 18),
    ("GR", 27),
    ("GT", 28),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IL", 23),
    ("IQ", 23),
    ("IS", 26),
    ("IT", 27),
    ("JO", 30),
    ("KW", 30),
    ("KZ", 20),
    ("LB", 28),
    ("LC", 32),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("LY", 25),
    ("MC", 27),
    ("MD", 24),
    ("ME", 22),
    ("MK", 19),
    ("MR", 27),
    ("MT", 31),
    ("MU", 30),
    ("NL", 18),
    ("NO", 15),
    ("PK", 24),
    ("PL", 28),
    ("PS", 29),
    ("PT", 25),
    ("QA", 29),
    ("RO", 24),
    ("RS", 22),
    ("SA", 24),
    ("SC", 31),
    ("SD", 18),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("ST", 25),
    ("SV", 28),
    ("TL", 23),
    ("TN", 24),
    ("TR", 26),
    ("UA", 29),
    ("VA", 22),
    ("VG", 24),
    ("XK", 20),
];

/// Why a text is not a valid IBAN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum IbanError {
    /// Something other than upper-case letters and digits, or not country letters then digits.
    #[error("an IBAN starts with two capital letters and two digits, followed by only capital letters and digits")]
    InvalidCharacters,
    /// The first two letters are not a country that issues IBANs (as far as this table knows).
    #[error("the country code does not belong to a country that uses IBANs")]
    UnknownCountry,
    /// The length does not match the country's IBAN length.
    #[error("an IBAN from this country has {expected} characters, this one has {actual}")]
    WrongLength { expected: usize, actual: usize },
    /// The check digits do not match the rest: at least one character was mistyped.
    #[error("the check digits do not match: a character is probably mistyped")]
    BadChecksum,
}

/// IBAN length for a country code, if the country issues IBANs.
pub fn iban_length(country: &str) -> Option<usize> {
    IBAN_LENGTHS
        .binary_search_by(|(code, _)| (*code).cmp(country))
        .ok()
        .map(|index| IBAN_LENGTHS[index].1)
}

/// Countries with a known IBAN length, as `(country code, length)` pairs.
pub fn iban_countries() -> impl Iterator<Item = (&'static str, usize)> {
    IBAN_LENGTHS.iter().copied()
}

/// The electronic form of an IBAN as people write it: spaces dropped, letters upper-cased.
/// (`"de89 3704 0044 0532 0130 00"` → `"DE89370400440532013000"`).
pub fn normalize_iban(input: &str) -> String {
    input
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Whether `account` looks like an IBAN rather than a national account number: the letters of
/// a country that issues IBANs followed by two digits. Accounts that look like IBANs are held to
/// the IBAN rules, so a mistyped IBAN is not silently stored as a "plain" number.
pub fn looks_like_iban(account: &str) -> bool {
    let bytes = account.as_bytes();
    bytes.len() >= 4
        && bytes[2].is_ascii_digit()
        && bytes[3].is_ascii_digit()
        && account.get(..2).and_then(iban_length).is_some()
}

/// Checks an IBAN in electronic form (see [`normalize_iban`]): characters, country, length and
/// check digits.
pub fn validate_iban(iban: &str) -> Result<(), IbanError> {
    let bytes = iban.as_bytes();
    let shape_ok = bytes.len() >= 4
        && bytes[..2].iter().all(u8::is_ascii_uppercase)
        && bytes[2..4].iter().all(u8::is_ascii_digit)
        && bytes[4..]
            .iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if !shape_ok {
        return Err(IbanError::InvalidCharacters);
    }
    let expected = iban_length(&iban[..2]).ok_or(IbanError::UnknownCountry)?;
    if bytes.len() != expected {
        return Err(IbanError::WrongLength {
            expected,
            actual: bytes.len(),
        });
    }
    // ISO 13616 check digits run from 02 to 98; 00, 01 and 99 are never issued.
    let check: u8 = iban[2..4]
        .parse()
        .map_err(|_| IbanError::InvalidCharacters)?;
    if !(2..=98).contains(&check) || mod97(iban[4..].bytes().chain(iban[..4].bytes())) != 1 {
        return Err(IbanError::BadChecksum);
    }
    Ok(())
}

/// The two check digits that make `country` + digits + `bban` a valid IBAN, or `None` if the
/// country or BBAN cannot form one (unknown country, wrong BBAN length, bad characters).
/// This is how an IBAN is "computed" from a national account number.
pub fn iban_check_digits(country: &str, bban: &str) -> Option<String> {
    let length = iban_length(country)?;
    let bban_ok = bban.len() + 4 == length
        && bban
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if !bban_ok {
        return None;
    }
    let remainder = mod97(bban.bytes().chain(country.bytes()).chain(*b"00"));
    Some(format!("{:02}", 98 - remainder))
}

/// ISO 7064 MOD 97-10 over IBAN characters: digits count as themselves, letters A–Z as 10–35.
/// Computed piecewise so it never needs big integers.
fn mod97(chars: impl Iterator<Item = u8>) -> u32 {
    chars.fold(0, |remainder, c| match c {
        b'0'..=b'9' => (remainder * 10 + u32::from(c - b'0')) % 97,
        _ => (remainder * 100 + u32::from(c - b'A') + 10) % 97,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Published examples from the SWIFT IBAN registry and national banks.
    const VALID: &[&str] = &[
        "GB82WEST12345698765432",
        "DE89370400440532013000",
        "FR1420041010050500013M02606",
        "NL91ABNA0417164300",
        "BE68539007547034",
        "CH9300762011623852957",
        "NO9386011117947",
        "ES9121000418450200051332",
        "IT60X0542811101000000123456",
        "AT611904300234573201",
        "PL61109010140000071219812874",
        "MT84MALT011000012345MTLCAST001S",
    ];

    #[test]
    fn table_is_sorted_and_within_bounds() {
        assert!(IBAN_LENGTHS.windows(2).all(|pair| pair[0].0 < pair[1].0));
        assert!(IBAN_LENGTHS
            .iter()
            .all(|(_, len)| (MIN_IBAN_LEN..=MAX_IBAN_LEN).contains(len)));
    }

    #[test]
    fn published_ibans_are_valid() {
        for iban in VALID {
            assert_eq!(validate_iban(iban), Ok(()), "{iban}");
            assert!(looks_like_iban(iban));
        }
    }

    #[test]
    fn flipping_a_check_digit_is_caught() {
        assert_eq!(
            validate_iban("GB83WEST12345698765432"),
            Err(IbanError::BadChecksum)
        );
        assert_eq!(
            validate_iban("DE89370400440532013001"),
            Err(IbanError::BadChecksum)
        );
        // Swapping two neighbouring characters.
        assert_eq!(
            validate_iban("GB82WEST12345698765423"),
            Err(IbanError::BadChecksum)
        );
    }

    #[test]
    fn other_faults_are_named() {
        assert_eq!(
            validate_iban("GB82WEST1234569876543"),
            Err(IbanError::WrongLength {
                expected: 22,
                actual: 21
            })
        );
        assert_eq!(
            validate_iban("ZZ82WEST12345698765432"),
            Err(IbanError::UnknownCountry)
        );
        assert_eq!(
            validate_iban("GB82 WEST 1234 5698 7654 32"),
            Err(IbanError::InvalidCharacters)
        );
        assert_eq!(
            validate_iban("gb82west12345698765432"),
            Err(IbanError::InvalidCharacters)
        );
        assert_eq!(validate_iban(""), Err(IbanError::InvalidCharacters));
    }

    #[test]
    fn reserved_check_digits_are_refused() {
        // Find an account whose correct check digits are 02: 99 ≡ 02 (mod 97), so "99" passes
        // the checksum arithmetic too and only the range rule refuses it.
        let bban = (0..10_000u32)
            .map(|n| format!("WEST123456987{n:05}"))
            .find(|bban| iban_check_digits("GB", bban).as_deref() == Some("02"))
            .expect("some account number has check digits 02");
        assert_eq!(validate_iban(&format!("GB02{bban}")), Ok(()));
        assert_eq!(
            validate_iban(&format!("GB99{bban}")),
            Err(IbanError::BadChecksum)
        );
        for reserved in ["00", "01"] {
            assert_eq!(
                validate_iban(&format!("GB{reserved}{bban}")),
                Err(IbanError::BadChecksum)
            );
        }
    }

    #[test]
    fn computing_check_digits() {
        assert_eq!(
            iban_check_digits("DE", "370400440532013000").as_deref(),
            Some("89")
        );
        assert_eq!(iban_check_digits("DE", "37040044053201300"), None);
        assert_eq!(iban_check_digits("KE", "370400440532013000"), None);
        assert_eq!(iban_check_digits("DE", "37040044053201300a"), None);
    }

    #[test]
    fn normalising_and_recognising() {
        assert_eq!(
            normalize_iban(" de89 3704 0044 0532 0130 00 "),
            "DE89370400440532013000"
        );
        assert!(!looks_like_iban("0123456789"));
        assert!(!looks_like_iban("KE12345678"), "Kenya does not issue IBANs");
        assert!(!looks_like_iban("DEAB"));
    }
}
