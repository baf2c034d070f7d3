//! Social protection programmes and the application forms people fill in to join them.
//!
//! Forms are Form.io JSON, as in OpenG2P's self-service portal, so the same form definitions can
//! be used in both. A form is versioned: an application records the version it was filled in
//! against, and a new version never changes what an earlier application means.

use serde::{Deserialize, Serialize};

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
}

impl_record!(Programme, RecordKind::Programme);

impl Programme {
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
    use time::macros::datetime;

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
        };
        assert_eq!(programme.validate(), Ok(()));
        programme.code = "OPCT 2024".into();
        programme.name.clear();
        let errors = programme.validate().unwrap_err();
        assert!(errors.has("code", code::INVALID_FORMAT));
        assert!(errors.has("name", code::REQUIRED));
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
