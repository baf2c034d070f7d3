//! Social protection programmes and the application forms people fill in to join them.
//!
//! Forms are Form.io JSON, as in OpenG2P's self-service portal, so the same form definitions can
//! be used in both. A form is versioned: an application records the version it was filled in
//! against, and a new version never changes what an earlier application means.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime, UtcOffset};

use std::collections::HashSet;

use crate::application::Application;
use crate::document::{Document, DocumentKind};
use crate::ids::RecordId;
use crate::record::{impl_record, RecordKind, RecordMeta};
use crate::validate::text::{
    optional_text, required_code, required_line, MAX_LINE_CHARS, MAX_TEXT_CHARS,
};
use crate::validate::{code, Validate, ValidationErrors};

/// A programme people can apply to, e.g. a cash transfer for older persons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Programme {
    #[serde(flatten)]
    pub meta: RecordMeta,
    /// Short stable code used in reports and exchanges (`opct_2024`).
    pub code: String,
    /// Name shown to people.
    pub name: String,
    /// What the programme offers and who it is for, in plain language.
    #[serde(default)]
    pub description: Option<String>,
    /// Whether one person may send more than one application (OpenG2P's "multiple form
    /// submission"); otherwise a second one is refused while the first is open or approved.
    #[serde(default)]
    pub allow_multiple_applications: bool,
    /// Documents an applicant must have sent (one of each kind) before the application is
    /// complete; the app shows what is still missing.
    #[serde(default)]
    pub required_documents: Vec<DocumentKind>,
    /// A field agent may act for an applicant only once the applicant's consent is on record
    /// (the registry refuses their writes otherwise).
    #[serde(default)]
    pub requires_consent: bool,
    /// The last day applications are taken: a draft is no longer submitted once this day has
    /// ended everywhere on Earth ([`Programme::takes_submissions_at`]); people with a draft are
    /// reminded before it. None: applications stay open.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::date_format::option"
    )]
    pub applications_close_on: Option<Date>,
    /// Days between liveness checks for people whose application the office has (submitted or
    /// approved); None: the registry's interval. A person in several programmes follows the
    /// shortest ([`crate::liveness::LivenessRule::for_applicant`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liveness_interval_days: Option<u32>,
    /// Days after a liveness check's due day before it is overdue, for the same people; None:
    /// the registry's grace. Likewise the shortest counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liveness_grace_days: Option<u32>,
}

impl_record!(Programme, RecordKind::Programme);

/// Shortest and longest liveness interval, and longest grace, a programme may set (the
/// registry's own settings have the same bounds).
pub const MAX_LIVENESS_DAYS: u32 = 3660;

/// The first year a closing day may be in: an earlier one is a typing slip.
const FIRST_CLOSING_YEAR: i32 = 2000;

/// UTC−12, the last offset on Earth where a calendar day ends ("anywhere on Earth").
const LAST_OFFSET: UtcOffset = match UtcOffset::from_hms(-12, 0, 0) {
    Ok(offset) => offset,
    Err(_) => panic!("-12:00 is a valid offset"),
};

impl Programme {
    /// Whether a draft application may be submitted at `now`. Without a closing day, always;
    /// with one, until that day has ended everywhere on Earth (it ends last at UTC−12). The
    /// registry knows no programme time zone, and this way nobody is refused while it is still
    /// the closing day where they are.
    pub fn takes_submissions_at(&self, now: OffsetDateTime) -> bool {
        self.applications_close_on
            .is_none_or(|close| now.to_offset(LAST_OFFSET).date() <= close)
    }

    /// The required document kinds (in the programme's order) of which `documents` — the
    /// applicant's own: linked to them or to their applications — hold no document that
    /// [`Document::counts_as_sent`]. The app shows these as still to send; the registry refuses
    /// to take an application as submitted while any are missing.
    pub fn missing_documents<'a>(
        &self,
        documents: impl IntoIterator<Item = &'a Document>,
    ) -> Vec<DocumentKind> {
        let have: HashSet<DocumentKind> = documents
            .into_iter()
            .filter(|d| d.counts_as_sent())
            .map(|d| d.kind)
            .collect();
        let mut missing: Vec<DocumentKind> = Vec::new();
        for kind in &self.required_documents {
            if !have.contains(kind) && !missing.contains(kind) {
                missing.push(*kind);
            }
        }
        missing
    }

    /// Whether someone whose applications to this programme are `existing` may start another:
    /// always where the programme allows several, else only once every earlier one was
    /// rejected or deleted (see [`Application::holds_programme_place`]).
    pub fn admits_another_application<'a>(
        &self,
        existing: impl IntoIterator<Item = &'a Application>,
    ) -> bool {
        self.allow_multiple_applications
            || existing
                .into_iter()
                .all(|a| a.programme_id != self.meta.id || !a.holds_programme_place())
    }
}

impl Validate for Programme {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        errors.merge(self.meta.validate());
        required_code(&mut errors, "code", "programme code", &self.code);
        required_line(
            &mut errors,
            "name",
            "programme name",
            &self.name,
            MAX_LINE_CHARS,
        );
        optional_text(
            &mut errors,
            "description",
            "description",
            self.description.as_deref(),
            MAX_TEXT_CHARS,
        );
        if self
            .applications_close_on
            .is_some_and(|close| close.year() < FIRST_CLOSING_YEAR)
        {
            errors.push(
                "applications_close_on",
                code::OUT_OF_RANGE,
                "Enter the closing day with its full year, such as 2026-06-30.",
            );
        }
        if self
            .liveness_interval_days
            .is_some_and(|days| !(1..=MAX_LIVENESS_DAYS).contains(&days))
        {
            errors.push(
                "liveness_interval_days",
                code::OUT_OF_RANGE,
                format!("Enter a number of days between 1 and {MAX_LIVENESS_DAYS}, or leave it empty to follow the registry's interval."),
            );
        }
        if self
            .liveness_grace_days
            .is_some_and(|days| days > MAX_LIVENESS_DAYS)
        {
            errors.push(
                "liveness_grace_days",
                code::OUT_OF_RANGE,
                format!("Enter a number of days between 0 and {MAX_LIVENESS_DAYS}, or leave it empty to follow the registry's grace."),
            );
        }
        errors.into_result()
    }
}

/// One version of a programme's application form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FormDefinition {
    #[serde(flatten)]
    pub meta: RecordMeta,
    pub programme_id: RecordId,
    /// 1 for the first version, increasing by one with each change.
    pub version: u32,
    /// The Form.io form definition (an object with a `components` list), rendered as is by
    /// the app. The registry accepts only the subset it can check a submission against
    /// ([`crate::formio::check_definition`]): anything needing JavaScript, an unknown component
    /// type or option is refused, each problem naming the component (`errors[].field` such as
    /// `schema.components[2].customConditional`).
    pub schema: serde_json::Value,
}

impl_record!(FormDefinition, RecordKind::FormDefinition);

impl Validate for FormDefinition {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        errors.merge(self.meta.validate());
        if self.programme_id.is_nil() {
            errors.push(
                "programme_id",
                code::REQUIRED,
                "Choose the programme this form belongs to.",
            );
        }
        if self.version == 0 {
            errors.push("version", code::OUT_OF_RANGE, "Form versions start at 1.");
        }
        let has_components = self
            .schema
            .get("components")
            .is_some_and(serde_json::Value::is_array);
        if !self.schema.is_object() || !has_components {
            errors.push(
                "schema",
                code::INVALID_FORMAT,
                "The form must be a Form.io form definition: an object with a \"components\" list. Export it again from the form builder.",
            );
        }
        errors.into_result()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ActorId;
    use serde_json::json;
    use time::macros::{date, datetime};

    fn meta(n: u8) -> RecordMeta {
        RecordMeta::new(
            format!("0190b6a2-8a3e-7c1d-9f00-0000000000{n:02x}")
                .parse()
                .unwrap(),
            datetime!(2024-05-01 8:00 UTC),
            ActorId::new("admin"),
        )
    }

    fn form(version: u32, schema: serde_json::Value) -> FormDefinition {
        FormDefinition {
            meta: meta(2),
            programme_id: meta(1).id,
            version,
            schema,
        }
    }

    #[test]
    fn programme_rules() {
        let mut programme = Programme {
            meta: meta(1),
            code: "opct_2024".into(),
            name: "Older Persons Cash Transfer".into(),
            description: Some(
                "Monthly support for people aged 70 and over.\nPaid by M-Pesa.".into(),
            ),
            allow_multiple_applications: false,
            required_documents: vec![DocumentKind::IdCard],
            requires_consent: false,
            applications_close_on: Some(date!(2024 - 12 - 31)),
            liveness_interval_days: Some(180),
            liveness_grace_days: Some(0),
        };
        assert_eq!(programme.validate(), Ok(()));
        programme.code = "OPCT 2024".into();
        programme.name.clear();
        programme.applications_close_on = Some(date!(0024 - 12 - 31));
        programme.liveness_interval_days = Some(0);
        programme.liveness_grace_days = Some(MAX_LIVENESS_DAYS + 1);
        let errors = programme.validate().unwrap_err();
        assert!(errors.has("code", code::INVALID_FORMAT));
        assert!(errors.has("name", code::REQUIRED));
        assert!(errors.has("applications_close_on", code::OUT_OF_RANGE));
        assert!(errors.has("liveness_interval_days", code::OUT_OF_RANGE));
        assert!(errors.has("liveness_grace_days", code::OUT_OF_RANGE));
    }

    /// The closing day counts until it has ended everywhere: at UTC−12 it ends last, at
    /// 12:00 UTC the next day.
    #[test]
    fn submissions_are_taken_until_the_closing_day_has_ended_everywhere() {
        let mut programme: Programme = serde_json::from_value(json!({
            "id": "0190b6a2-8a3e-7c1d-9f00-000000000001",
            "created_at": "2024-05-01T08:00:00Z", "updated_at": "2024-05-01T08:00:00Z",
            "created_by": "admin", "code": "cash", "name": "Cash",
        }))
        .unwrap();
        assert_eq!(programme.applications_close_on, None);
        assert!(programme.takes_submissions_at(datetime!(9999-01-01 0:00 UTC)));
        programme.applications_close_on = Some(date!(2026 - 06 - 30));
        for (now, open) in [
            (datetime!(2026-06-29 23:00 UTC), true),
            (datetime!(2026-06-30 23:59 UTC), true),
            (datetime!(2026-07-01 11:59:59 UTC), true),
            (datetime!(2026-07-01 12:00 UTC), false),
            // The same instants, written in another offset.
            (datetime!(2026-07-01 14:59:59 +03:00), true),
            (datetime!(2026-07-01 15:00 +03:00), false),
            (datetime!(2026-08-01 0:00 UTC), false),
        ] {
            assert_eq!(programme.takes_submissions_at(now), open, "{now}");
        }
        // On the wire as a calendar day; left out when not set.
        let wire = serde_json::to_value(&programme).unwrap();
        assert_eq!(wire["applications_close_on"], "2026-06-30");
        assert!(wire.get("liveness_interval_days").is_none());
    }

    fn document(kind: DocumentKind, status: crate::document::DocumentStatus) -> Document {
        let mut json = json!({
            "id": "0190b6a2-8a3e-7c1d-9f00-000000000099",
            "created_at": "2024-05-01T08:00:00Z", "updated_at": "2024-05-01T08:00:00Z",
            "created_by": "agent", "kind": kind, "file_name": "a.pdf",
            "mime_type": "application/pdf", "size_bytes": 10,
            "sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "linked_record": "0190b6a2-8a3e-7c1d-9f00-000000000003",
            "captured_at": "2024-05-01T08:00:00Z", "verification_status": status,
        });
        if status == crate::document::DocumentStatus::Rejected {
            json["review"] =
                json!({"by": "staff:x", "at": "2024-05-02T08:00:00Z", "reason": "Blurred."});
        }
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn missing_documents_leave_out_rejected_and_deleted_ones() {
        use crate::document::DocumentStatus::{Pending, Rejected, Verified};
        let mut programme: Programme = serde_json::from_value(json!({
            "id": "0190b6a2-8a3e-7c1d-9f00-000000000001",
            "created_at": "2024-05-01T08:00:00Z", "updated_at": "2024-05-01T08:00:00Z",
            "created_by": "admin", "code": "cash", "name": "Cash",
            "required_documents": ["id_card", "proof_of_address", "id_card"],
        }))
        .unwrap();
        assert_eq!(
            programme.missing_documents([]),
            [DocumentKind::IdCard, DocumentKind::ProofOfAddress]
        );
        let id_card = document(DocumentKind::IdCard, Pending);
        let rejected = document(DocumentKind::ProofOfAddress, Rejected);
        assert_eq!(
            programme.missing_documents([&id_card, &rejected]),
            [DocumentKind::ProofOfAddress]
        );
        let mut deleted = document(DocumentKind::ProofOfAddress, Verified);
        deleted.meta.soft_delete(datetime!(2024-05-03 8:00 UTC));
        assert_eq!(
            programme.missing_documents([&id_card, &deleted]),
            [DocumentKind::ProofOfAddress]
        );
        let verified = document(DocumentKind::ProofOfAddress, Verified);
        assert!(programme
            .missing_documents([&id_card, &verified])
            .is_empty());
        programme.required_documents.clear();
        assert!(programme.missing_documents([]).is_empty());
    }

    #[test]
    fn one_application_per_programme_unless_it_allows_several() {
        use crate::application::ApplicationStatus;
        let mut programme: Programme = serde_json::from_value(json!({
            "id": "0190b6a2-8a3e-7c1d-9f00-000000000001",
            "created_at": "2024-05-01T08:00:00Z", "updated_at": "2024-05-01T08:00:00Z",
            "created_by": "admin", "code": "cash", "name": "Cash",
        }))
        .unwrap();
        let mut first = Application::new(meta(5), programme.meta.id, meta(6).id, 1, json!({}));
        let mut elsewhere = first.clone();
        elsewhere.programme_id = meta(7).id;
        assert!(programme.admits_another_application([&elsewhere]));
        assert!(!programme.admits_another_application([&first]));
        first.status = ApplicationStatus::Rejected;
        assert!(programme.admits_another_application([&first]));
        first.status = ApplicationStatus::Approved;
        assert!(!programme.admits_another_application([&first]));
        first.meta.soft_delete(datetime!(2024-05-03 8:00 UTC));
        assert!(programme.admits_another_application([&first]));
        first.meta.deleted_at = None;
        programme.allow_multiple_applications = true;
        assert!(programme.admits_another_application([&first]));
    }

    #[test]
    fn form_versions_start_at_one() {
        let schema = json!({"display": "form", "components": []});
        assert_eq!(form(1, schema.clone()).validate(), Ok(()));
        assert!(form(0, schema)
            .validate()
            .unwrap_err()
            .has("version", code::OUT_OF_RANGE));
    }

    #[test]
    fn form_schema_must_look_like_formio() {
        for bad in [
            json!(null),
            json!([]),
            json!({"display": "form"}),
            json!({"components": {}}),
        ] {
            assert!(
                form(1, bad.clone())
                    .validate()
                    .unwrap_err()
                    .has("schema", code::INVALID_FORMAT),
                "{bad}"
            );
        }
    }
}
