//! Kinds of identity document a registrant can hold (national ID, passport, birth certificate…)
//! and the IDs themselves.
//!
//! Mirrors OpenG2P's `g2p.id.type` (a name and an `id_validation` regex) and `g2p.reg.id`
//! (`id_type`, `value`, `expiry_date`, `status`).

use serde::{Deserialize, Serialize};
use time::Date;

use crate::error::DomainError;
use crate::ids::IdTypeCode;
use crate::record::{impl_record, RecordKind, RecordMeta};
use crate::validate::text::{required_code, required_line, MAX_LINE_CHARS};
use crate::validate::{code, compile_id_pattern, indexed, Validate, ValidationErrors};

/// Longest ID value accepted, in characters.
pub const MAX_ID_VALUE_CHARS: usize = 100;

/// A kind of ID configured for a deployment, e.g. code `national_id`, name "National ID",
/// pattern `[0-9]{8}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct IdType {
    #[serde(flatten)]
    pub meta: RecordMeta,
    /// Stable code that IDs refer to.
    pub code: IdTypeCode,
    /// Name shown to people.
    pub name: String,
    /// Regular expression an ID value must match in full (see
    /// [`crate::validate::id_pattern`]); `None` accepts any value.
    #[serde(default)]
    pub validation_regex: Option<String>,
}

impl_record!(IdType, RecordKind::IdType);

impl IdType {
    /// Whether `value` matches this type's pattern (always true without one).
    ///
    /// A pattern that does not compile is [`DomainError::InvalidIdPattern`]: an administrator
    /// must fix the ID type, so it is not reported as the value's fault.
    pub fn matches(&self, value: &str) -> Result<bool, DomainError> {
        match &self.validation_regex {
            None => Ok(true),
            Some(pattern) => compile_id_pattern(pattern)
                .map(|regex| regex.is_match(value))
                .map_err(|err| DomainError::InvalidIdPattern {
                    id_type: self.code.to_string(),
                    reason: err.to_string(),
                }),
        }
    }
}

impl Validate for IdType {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        errors.merge(self.meta.validate());
        required_code(&mut errors, "code", "ID type code", self.code.as_str());
        required_line(
            &mut errors,
            "name",
            "ID type name",
            &self.name,
            MAX_LINE_CHARS,
        );
        if let Some(pattern) = &self.validation_regex {
            if let Err(err) = compile_id_pattern(pattern) {
                errors.push(
                    "validation_regex",
                    code::INVALID_FORMAT,
                    format!("Correct the validation pattern; it is not a valid regular expression: {err}"),
                );
            }
        }
        errors.into_result()
    }
}

/// Whether an ID has been checked against its issuer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum IdStatus {
    /// Recorded as given; not yet checked (the usual state for IDs taken down offline).
    #[default]
    Unverified,
    /// Confirmed by the issuer or by sight of the document.
    Valid,
    /// Found not to be genuine, or not this person's.
    Invalid,
}

/// One ID a registrant holds (OpenG2P `reg_ids` entry). A registrant holds at most one ID of
/// each type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RegistrantId {
    /// Which kind of ID this is.
    pub id_type: IdTypeCode,
    /// The ID number as printed on the document.
    pub value: String,
    /// Last day the document is valid, if it expires.
    #[serde(default, with = "crate::date_format::option")]
    pub expiry_date: Option<Date>,
    #[serde(default)]
    pub status: IdStatus,
}

impl RegistrantId {
    /// Whether the document has expired by `today` (it is still valid on its expiry date).
    pub fn is_expired(&self, today: Date) -> bool {
        self.expiry_date.is_some_and(|expiry| expiry < today)
    }

    /// Checks the value against the pattern of `id_type`, which must be the ID's own type.
    pub fn check_against(&self, id_type: &IdType) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        if id_type.code != self.id_type {
            errors.push(
                "id_type",
                code::WRONG_REFERENCE,
                format!(
                    "This ID is a {}, not a {}; check the ID type.",
                    self.id_type, id_type.code
                ),
            );
            return errors.into_result();
        }
        match id_type.matches(&self.value) {
            Ok(true) => {}
            Ok(false) => errors.push(
                "value",
                code::PATTERN_MISMATCH,
                format!(
                    "This does not look like a {} number; check it against the document.",
                    id_type.name
                ),
            ),
            Err(err) => errors.push(
                "value",
                code::MISCONFIGURED,
                format!("{} numbers cannot be checked because the ID type is set up wrongly ({err}); ask an administrator.", id_type.name),
            ),
        }
        errors.into_result()
    }
}

impl Validate for RegistrantId {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        required_code(&mut errors, "id_type", "ID type", self.id_type.as_str());
        required_line(
            &mut errors,
            "value",
            "ID number",
            &self.value,
            MAX_ID_VALUE_CHARS,
        );
        errors.into_result()
    }
}

/// Checks a list of IDs on their own: each ID's fields, and at most one ID per type (a second
/// ID of a type already listed is reported on its `id_type`).
///
/// Paths are `[i].…` with `i` the position in `ids`; callers nest them under their field name.
pub fn validate_registrant_ids(ids: &[RegistrantId]) -> Result<(), ValidationErrors> {
    let mut errors = ValidationErrors::new();
    for (index, id) in ids.iter().enumerate() {
        errors.nest(&indexed("", index), id.validate());
        if ids[..index]
            .iter()
            .any(|earlier| earlier.id_type == id.id_type)
        {
            errors.push(
                format!("{}.id_type", indexed("", index)),
                code::DUPLICATE,
                format!(
                    "This person already has a {} listed; keep only one and correct or remove the other.",
                    id.id_type
                ),
            );
        }
    }
    errors.into_result()
}

/// Checks each ID against the configured ID types: the type must exist and the value must match
/// its pattern. Deleted ID types count as unknown. Paths as in [`validate_registrant_ids`].
pub fn check_registrant_ids(
    ids: &[RegistrantId],
    id_types: &[IdType],
) -> Result<(), ValidationErrors> {
    let mut errors = ValidationErrors::new();
    for (index, id) in ids.iter().enumerate() {
        let path = indexed("", index);
        match id_types
            .iter()
            .find(|id_type| id_type.code == id.id_type && !id_type.meta.is_deleted())
        {
            Some(id_type) => errors.nest(&path, id.check_against(id_type)),
            None => errors.push(
                format!("{path}.id_type"),
                code::UNKNOWN_REFERENCE,
                format!(
                    "`{}` is not an ID type used here; choose one from the list.",
                    id.id_type
                ),
            ),
        }
    }
    errors.into_result()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ActorId;
    use time::macros::{date, datetime};

    fn id_type(code: &str, pattern: Option<&str>) -> IdType {
        IdType {
            meta: RecordMeta::new(
                "0190b6a2-8a3e-7c1d-9f00-00000000000a".parse().unwrap(),
                datetime!(2024-01-01 0:00 UTC),
                ActorId::new("admin"),
            ),
            code: code.into(),
            name: "National ID".into(),
            validation_regex: pattern.map(Into::into),
        }
    }

    fn reg_id(code: &str, value: &str) -> RegistrantId {
        RegistrantId {
            id_type: code.into(),
            value: value.into(),
            expiry_date: None,
            status: IdStatus::Unverified,
        }
    }

    #[test]
    fn value_must_match_pattern_in_full() {
        let national = id_type("national_id", Some("[0-9]{8}"));
        assert_eq!(national.validate(), Ok(()));
        assert_eq!(national.matches("12345678"), Ok(true));
        assert_eq!(national.matches("1234567"), Ok(false));
        assert_eq!(
            reg_id("national_id", "12345678").check_against(&national),
            Ok(())
        );
        let errors = reg_id("national_id", "1234-5678")
            .check_against(&national)
            .unwrap_err();
        assert!(errors.has("value", code::PATTERN_MISMATCH));
    }

    #[test]
    fn broken_pattern_is_a_clear_configuration_error() {
        let broken = id_type("national_id", Some("[0-9"));
        assert!(broken
            .validate()
            .unwrap_err()
            .has("validation_regex", code::INVALID_FORMAT));
        match broken.matches("1") {
            Err(DomainError::InvalidIdPattern { id_type, reason }) => {
                assert_eq!(id_type, "national_id");
                assert!(!reason.is_empty());
            }
            other => panic!("expected InvalidIdPattern, got {other:?}"),
        }
        let errors = reg_id("national_id", "1")
            .check_against(&broken)
            .unwrap_err();
        assert!(errors.has("value", code::MISCONFIGURED));
    }

    #[test]
    fn no_pattern_accepts_any_value() {
        assert_eq!(id_type("passport", None).matches("anything"), Ok(true));
    }

    #[test]
    fn at_most_one_id_per_type() {
        let ids = [
            reg_id("national_id", "12345678"),
            reg_id("passport", "A1234567"),
            reg_id("national_id", "87654321"),
        ];
        let errors = validate_registrant_ids(&ids).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors}");
        assert!(errors.has("[2].id_type", code::DUPLICATE));
        assert_eq!(validate_registrant_ids(&ids[..2]), Ok(()));
    }

    #[test]
    fn ids_are_checked_against_configured_types() {
        let types = [id_type("national_id", Some("[0-9]{8}"))];
        let ids = [
            reg_id("national_id", "12345678"),
            reg_id("voter_card", "V1"),
        ];
        let errors = check_registrant_ids(&ids, &types).unwrap_err();
        assert!(errors.has("[1].id_type", code::UNKNOWN_REFERENCE));
        assert_eq!(errors.len(), 1);
    }

    #[test]
    fn expiry_is_inclusive() {
        let mut id = reg_id("passport", "A1");
        id.expiry_date = Some(date!(2030 - 06 - 30));
        assert!(!id.is_expired(date!(2030 - 06 - 30)));
        assert!(id.is_expired(date!(2030 - 07 - 01)));
    }

    #[test]
    fn blank_value_and_bad_code_are_refused() {
        let errors = reg_id("National ID", " ").validate().unwrap_err();
        assert!(errors.has("id_type", code::INVALID_FORMAT));
        assert!(errors.has("value", code::REQUIRED));
    }
}
