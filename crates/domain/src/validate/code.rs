//! Machine-readable reasons carried in [`super::FieldError::code`].
//!
//! They are part of the wire format: the app keys translations and field highlighting on them,
//! so a code, once released, keeps its meaning.

/// A value that must be given is missing or blank.
pub const REQUIRED: &str = "required";
/// Text is longer than allowed.
pub const TOO_LONG: &str = "too_long";
/// A number or size is outside the allowed range.
pub const OUT_OF_RANGE: &str = "out_of_range";
/// Text contains line breaks or other control characters where they are not allowed.
pub const CONTROL_CHARACTERS: &str = "control_characters";
/// The value does not have the expected shape (phone number, e-mail, code, hash…).
pub const INVALID_FORMAT: &str = "invalid_format";
/// The value has the right shape but its check digits do not add up (IBAN).
pub const INVALID_CHECKSUM: &str = "invalid_checksum";
/// The value names a country that this check does not know.
pub const UNKNOWN_COUNTRY: &str = "unknown_country";
/// The value appears twice where it may appear once.
pub const DUPLICATE: &str = "duplicate";
/// Two dates are in the wrong order (an end before its start, a birth in the future).
pub const DATE_ORDER: &str = "date_order";
/// A reference points at something that is not known (an ID type, a group).
pub const UNKNOWN_REFERENCE: &str = "unknown_reference";
/// A reference points at the wrong record (e.g. a membership of another group).
pub const WRONG_REFERENCE: &str = "wrong_reference";
/// An ID value does not match the pattern of its ID type.
pub const PATTERN_MISMATCH: &str = "pattern_mismatch";
/// A setting made by an administrator is broken (e.g. an ID type's pattern); not the person's
/// fault, and not something they can fix on the form.
pub const MISCONFIGURED: &str = "misconfigured";
/// The value is not one of those allowed here (e.g. a file type not accepted for upload).
pub const NOT_ALLOWED: &str = "not_allowed";
/// The fields contradict each other (e.g. an e-mail preferred but no e-mail address given).
pub const INCONSISTENT: &str = "inconsistent";
/// A group with members has no current head.
pub const MISSING_HEAD: &str = "missing_head";
/// A group has more than one current head.
pub const MULTIPLE_HEADS: &str = "multiple_heads";

/// Every code above: the app must have words for each, in every language it speaks (a test in
/// `src-tauri` checks its catalogs).
pub const ALL: &[&str] = &[
    REQUIRED,
    TOO_LONG,
    OUT_OF_RANGE,
    CONTROL_CHARACTERS,
    INVALID_FORMAT,
    INVALID_CHECKSUM,
    UNKNOWN_COUNTRY,
    DUPLICATE,
    DATE_ORDER,
    UNKNOWN_REFERENCE,
    WRONG_REFERENCE,
    PATTERN_MISMATCH,
    MISCONFIGURED,
    NOT_ALLOWED,
    INCONSISTENT,
    MISSING_HEAD,
    MULTIPLE_HEADS,
];
