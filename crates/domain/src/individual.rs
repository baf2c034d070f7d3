//! A person in the registry (OpenG2P: an individual registrant, `res.partner` with
//! `is_group = false`).
//!
//! Contact details, bank accounts, documents and group memberships are separate records that
//! point at the individual, so each can be edited and synced on its own.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::id_type::{check_registrant_ids, validate_registrant_ids, IdType, RegistrantId};
use crate::ids::{IdTypeCode, RecordId};
use crate::liveness::liveness_due;
use crate::record::{impl_record, RecordKind, RecordMeta};
use crate::validate::text::{optional_line, MAX_LINE_CHARS, MAX_NAME_CHARS};
use crate::validate::{code, is_valid_code, is_valid_language_tag, Validate, ValidationErrors};

/// A registered person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Individual {
    #[serde(flatten)]
    pub meta: RecordMeta,
    /// First name(s). May be empty for people known by one name, if `family_name` is given.
    #[serde(default)]
    pub given_name: String,
    /// Surname. May be empty for people known by one name, if `given_name` is given.
    #[serde(default)]
    pub family_name: String,
    /// Any other name: middle name, patronymic, clan name.
    #[serde(default)]
    pub addl_name: Option<String>,
    /// Date of birth, `YYYY-MM-DD`.
    #[serde(default, with = "crate::date_format::option")]
    pub birthdate: Option<Date>,
    /// The birth date is an estimate (e.g. only the year is known; the date is then set to a
    /// convention such as 1 July). Eligibility by age should allow for that.
    #[serde(default)]
    pub birthdate_not_exact: bool,
    /// Place of birth as the person states it.
    #[serde(default)]
    pub birth_place: Option<String>,
    #[serde(default)]
    pub gender: Option<Gender>,
    #[serde(default)]
    pub civil_status: Option<CivilStatus>,
    /// Main occupation, as the person states it.
    #[serde(default)]
    pub occupation: Option<String>,
    /// Code of an income bracket from the deployment's list (e.g. `q1`…`q5`); brackets differ
    /// per country, so they are configured, not built in.
    #[serde(default)]
    pub income_bracket: Option<String>,
    /// Difficulties in everyday functioning (Washington Group Short Set).
    #[serde(default)]
    pub disability: Disability,
    /// Language the person wants to be addressed in, as a BCP 47 tag (`sw`, `en-KE`).
    #[serde(default)]
    pub preferred_language: Option<String>,
    /// Id of the [`crate::document::Document`] holding the person's photo.
    #[serde(default)]
    pub photo: Option<RecordId>,
    /// Identity documents held, at most one per ID type.
    #[serde(default)]
    pub reg_ids: Vec<RegistrantId>,
    /// When the person last passed a liveness check (proof they are alive and present).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub last_liveness_check: Option<OffsetDateTime>,
    /// People the duplicate check ([`crate::duplicates`]) found alike whom the person saving this
    /// record judged to be someone else ("Is this the same person?" → "No, a different
    /// person"). Kept on the record so staff can review the decision; the registry's own check
    /// does not raise these again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_duplicate_of: Vec<RecordId>,
}

/// The most "not a duplicate of" decisions one record keeps (a check shows a handful).
pub const MAX_NOT_DUPLICATE_OF: usize = 20;

impl_record!(Individual, RecordKind::Individual);

impl Individual {
    /// A new individual with only a name; everything else is empty.
    pub fn new(
        meta: RecordMeta,
        given_name: impl Into<String>,
        family_name: impl Into<String>,
    ) -> Self {
        Self {
            meta,
            given_name: given_name.into(),
            family_name: family_name.into(),
            addl_name: None,
            birthdate: None,
            birthdate_not_exact: false,
            birth_place: None,
            gender: None,
            civil_status: None,
            occupation: None,
            income_bracket: None,
            disability: Disability::default(),
            preferred_language: None,
            photo: None,
            reg_ids: Vec::new(),
            last_liveness_check: None,
            not_duplicate_of: Vec::new(),
        }
    }

    /// Name for display: given name, additional name, family name, separated by spaces.
    pub fn display_name(&self) -> String {
        [
            self.given_name.trim(),
            self.addl_name.as_deref().unwrap_or("").trim(),
            self.family_name.trim(),
        ]
        .into_iter()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
    }

    /// Age in whole years on `today`, if the birth date is known and not in the future.
    pub fn age_on(&self, today: Date) -> Option<u32> {
        let birth = self.birthdate?;
        if birth > today {
            return None;
        }
        let had_birthday = (today.month(), today.day()) >= (birth.month(), birth.day());
        let years = today.year() - birth.year() - i32::from(!had_birthday);
        u32::try_from(years).ok()
    }

    /// The person's ID of a given type, if recorded.
    pub fn id_of_type(&self, id_type: &IdTypeCode) -> Option<&RegistrantId> {
        self.reg_ids.iter().find(|id| &id.id_type == id_type)
    }

    /// Whether a new liveness check is due on `today`, given the programme's interval.
    pub fn liveness_due(&self, interval_days: u32, today: Date) -> bool {
        liveness_due(self.last_liveness_check, interval_days, today)
    }

    /// Rules that depend on the date: the birth date must not be in the future.
    pub fn check_dates(&self, today: Date) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        if self.birthdate.is_some_and(|birth| birth > today) {
            errors.push(
                "birthdate",
                code::DATE_ORDER,
                "The birth date is in the future; check the year.",
            );
        }
        errors.into_result()
    }

    /// Checks the person's IDs against the ID types configured on the server.
    pub fn check_ids(&self, id_types: &[IdType]) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        errors.nest("reg_ids", check_registrant_ids(&self.reg_ids, id_types));
        errors.into_result()
    }
}

impl Validate for Individual {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        errors.merge(self.meta.validate());

        if self.given_name.trim().is_empty() && self.family_name.trim().is_empty() {
            errors.push(
                "given_name",
                code::REQUIRED,
                "Enter the person's name: a given name, a family name, or both.",
            );
        }
        optional_line(
            &mut errors,
            "given_name",
            "given name",
            non_empty(&self.given_name),
            MAX_NAME_CHARS,
        );
        optional_line(
            &mut errors,
            "family_name",
            "family name",
            non_empty(&self.family_name),
            MAX_NAME_CHARS,
        );
        optional_line(
            &mut errors,
            "addl_name",
            "additional name",
            self.addl_name.as_deref(),
            MAX_NAME_CHARS,
        );

        if self.birthdate_not_exact && self.birthdate.is_none() {
            errors.push(
                "birthdate_not_exact",
                code::INCONSISTENT,
                "Enter an estimated birth date, or untick \"birth date is not exact\".",
            );
        }
        optional_line(
            &mut errors,
            "birth_place",
            "place of birth",
            self.birth_place.as_deref(),
            MAX_LINE_CHARS,
        );
        optional_line(
            &mut errors,
            "occupation",
            "occupation",
            self.occupation.as_deref(),
            MAX_LINE_CHARS,
        );

        if let Some(bracket) = &self.income_bracket {
            if !is_valid_code(bracket) {
                errors.push(
                    "income_bracket",
                    code::INVALID_FORMAT,
                    "Choose an income bracket from the list.",
                );
            }
        }
        if let Some(tag) = &self.preferred_language {
            if !is_valid_language_tag(tag) {
                errors.push(
                    "preferred_language",
                    code::INVALID_FORMAT,
                    "Choose a language from the list (a language code such as sw or en-KE).",
                );
            }
        }
        errors.nest("reg_ids", validate_registrant_ids(&self.reg_ids));
        if self.not_duplicate_of.len() > MAX_NOT_DUPLICATE_OF {
            errors.push(
                "not_duplicate_of",
                code::TOO_LONG,
                format!("Keep at most {MAX_NOT_DUPLICATE_OF} \"not the same person\" decisions."),
            );
        }
        if self.not_duplicate_of.contains(&self.meta.id) {
            errors.push(
                "not_duplicate_of",
                code::INCONSISTENT,
                "A person cannot be marked as not a duplicate of themself.",
            );
        }
        errors.into_result()
    }
}

/// `Some(text)` unless `text` is blank, so absent name parts skip the optional-text rules
/// (whether at least one name is given is checked separately).
fn non_empty(text: &str) -> Option<&str> {
    (!text.trim().is_empty()).then_some(text)
}

/// Gender as the person states it. `None` on the record means it was not asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum Gender {
    Female,
    Male,
    Other,
    /// Asked, and the person chose not to say.
    Undisclosed,
}

/// Marital or partnership status (OpenG2P `civil_status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum CivilStatus {
    Single,
    Married,
    /// Living together without being married (customary or informal union).
    Cohabiting,
    Separated,
    Divorced,
    Widowed,
}

/// How much difficulty a person has with one activity, in the Washington Group's four answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum DifficultyLevel {
    NoDifficulty,
    SomeDifficulty,
    ALotOfDifficulty,
    CannotDoAtAll,
}

impl DifficultyLevel {
    /// Whether this answer counts as a disability under the Washington Group's recommended
    /// cut-off ("a lot of difficulty" or worse).
    pub fn is_disability(self) -> bool {
        self >= DifficultyLevel::ALotOfDifficulty
    }
}

/// Answers to the Washington Group Short Set on functioning, one per domain; `None` means the
/// question was not asked or not answered.
///
/// Recording the level rather than a yes/no flag keeps the survey answer itself, so programmes
/// can apply their own cut-off and statistics stay comparable across countries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Disability {
    /// Seeing, even if wearing glasses.
    #[serde(default)]
    pub seeing: Option<DifficultyLevel>,
    /// Hearing, even if using a hearing aid.
    #[serde(default)]
    pub hearing: Option<DifficultyLevel>,
    /// Walking or climbing steps.
    #[serde(default)]
    pub walking: Option<DifficultyLevel>,
    /// Remembering or concentrating.
    #[serde(default)]
    pub cognition: Option<DifficultyLevel>,
    /// Self-care, such as washing all over or dressing.
    #[serde(default)]
    pub self_care: Option<DifficultyLevel>,
    /// Communicating in one's usual language: understanding or being understood.
    #[serde(default)]
    pub communication: Option<DifficultyLevel>,
}

impl Disability {
    /// The six answers, in Short Set order.
    pub fn answers(&self) -> [Option<DifficultyLevel>; 6] {
        [
            self.seeing,
            self.hearing,
            self.walking,
            self.cognition,
            self.self_care,
            self.communication,
        ]
    }

    /// Whether any answer reaches the Washington Group disability cut-off.
    pub fn has_disability(&self) -> bool {
        self.answers()
            .into_iter()
            .flatten()
            .any(DifficultyLevel::is_disability)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id_type::IdStatus;
    use crate::ids::ActorId;
    use time::macros::{date, datetime};

    fn person() -> Individual {
        Individual::new(
            RecordMeta::new(
                "0190b6a2-8a3e-7c1d-9f00-000000000001".parse().unwrap(),
                datetime!(2024-05-01 08:30 UTC),
                ActorId::new("agent:wanjiru"),
            ),
            "Amina",
            "Otieno",
        )
    }

    fn national_id(value: &str) -> RegistrantId {
        RegistrantId {
            id_type: "national_id".into(),
            value: value.into(),
            expiry_date: None,
            status: IdStatus::Valid,
        }
    }

    #[test]
    fn minimal_person_is_valid() {
        assert_eq!(person().validate(), Ok(()));
    }

    #[test]
    fn one_name_is_enough_but_none_is_not() {
        let mut mononym = person();
        mononym.family_name.clear();
        assert_eq!(mononym.validate(), Ok(()));
        mononym.given_name = "  ".into();
        let errors = mononym.validate().unwrap_err();
        assert!(errors.has("given_name", code::REQUIRED));
    }

    #[test]
    fn duplicate_id_type_is_refused() {
        let mut person = person();
        person.reg_ids = vec![national_id("12345678"), national_id("87654321")];
        let errors = person.validate().unwrap_err();
        assert!(
            errors.has("reg_ids[1].id_type", code::DUPLICATE),
            "{errors}"
        );
    }

    #[test]
    fn language_tag_and_income_code_shapes() {
        let mut person = person();
        person.preferred_language = Some("Kiswahili".into());
        person.income_bracket = Some("Low income".into());
        let errors = person.validate().unwrap_err();
        assert!(errors.has("preferred_language", code::INVALID_FORMAT));
        assert!(errors.has("income_bracket", code::INVALID_FORMAT));
        person.preferred_language = Some("sw-KE".into());
        person.income_bracket = Some("q1".into());
        assert_eq!(person.validate(), Ok(()));
    }

    #[test]
    fn estimated_birth_date_needs_a_date() {
        let mut person = person();
        person.birthdate_not_exact = true;
        assert!(person
            .validate()
            .unwrap_err()
            .has("birthdate_not_exact", code::INCONSISTENT));
        person.birthdate = Some(date!(1980 - 07 - 01));
        assert_eq!(person.validate(), Ok(()));
    }

    #[test]
    fn birth_date_in_the_future_is_refused() {
        let mut person = person();
        person.birthdate = Some(date!(2030 - 01 - 01));
        assert!(person
            .check_dates(date!(2024 - 05 - 01))
            .unwrap_err()
            .has("birthdate", code::DATE_ORDER));
        assert_eq!(person.check_dates(date!(2030 - 01 - 01)), Ok(()));
    }

    #[test]
    fn age_counts_whole_years() {
        let mut person = person();
        person.birthdate = Some(date!(2000 - 02 - 29));
        assert_eq!(person.age_on(date!(2024 - 02 - 28)), Some(23));
        assert_eq!(person.age_on(date!(2024 - 02 - 29)), Some(24));
        assert_eq!(person.age_on(date!(1999 - 01 - 01)), None);
    }

    #[test]
    fn display_name_skips_empty_parts() {
        let mut person = person();
        assert_eq!(person.display_name(), "Amina Otieno");
        person.addl_name = Some("Achieng".into());
        assert_eq!(person.display_name(), "Amina Achieng Otieno");
    }

    #[test]
    fn washington_group_cut_off() {
        let mut disability = Disability::default();
        assert!(!disability.has_disability());
        disability.walking = Some(DifficultyLevel::SomeDifficulty);
        assert!(!disability.has_disability());
        disability.seeing = Some(DifficultyLevel::ALotOfDifficulty);
        assert!(disability.has_disability());
    }

    #[test]
    fn wire_format_is_flat_and_snake_case() {
        let mut person = person();
        person.birthdate = Some(date!(1990 - 03 - 15));
        person.disability.hearing = Some(DifficultyLevel::CannotDoAtAll);
        person.reg_ids.push(national_id("12345678"));
        let json = serde_json::to_value(&person).unwrap();
        assert_eq!(json["id"], "0190b6a2-8a3e-7c1d-9f00-000000000001");
        assert_eq!(json["given_name"], "Amina");
        assert_eq!(json["birthdate"], "1990-03-15");
        assert_eq!(json["disability"]["hearing"], "cannot_do_at_all");
        assert_eq!(json["reg_ids"][0]["status"], "valid");
        assert_eq!(serde_json::from_value::<Individual>(json).unwrap(), person);
    }
}
