//! The review desk: what registry staff decide about documents and payment accounts, and the
//! wire types of the desk's routes (the queue, verifications, announcements, one case opened).
//!
//! A decision lives in the record it is about ([`Review`] in a [`crate::Document`] or a
//! [`crate::FinancialAccount`]), so it syncs to the applicant's device with the record; who made
//! it and when is also in the record's audit trail on the registry. The routes' paths are in
//! [`crate::api::paths`].

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::application::ApplicationStatus;
use crate::document::{DocumentKind, DocumentStatus};
use crate::finance::VerificationStatus;
use crate::ids::ActorId;
use crate::notification::{MAX_BODY_CHARS, MAX_TITLE_CHARS};
use crate::validate::text::{optional_text, required_line, required_text, MAX_TEXT_CHARS};
use crate::validate::{code, ValidationErrors};

/// A reviewer's decision on a document or an account: who, when, and why (required when the
/// answer is no, and shown to the person so they know what to send instead).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Review {
    /// The reviewer's actor id, as the audit trail names them.
    pub by: ActorId,
    /// Server time of the decision.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Why the document was rejected or the account could not be verified.
    #[serde(default)]
    pub reason: Option<String>,
}

/// Checks a record's review against its status: a refusal says why, an undecided record carries
/// no decision (the field is `review`).
pub(crate) fn check_review(
    errors: &mut ValidationErrors,
    review: Option<&Review>,
    refused: bool,
    undecided: bool,
) {
    match review {
        None if refused => errors.push(
            "review",
            code::REQUIRED,
            "Say why, in a note for the person: what is wrong and what to send instead.",
        ),
        Some(_) if undecided => errors.push(
            "review",
            code::INCONSISTENT,
            "A record that is not decided carries no decision.",
        ),
        Some(review) => {
            if review.by.as_str().trim().is_empty() {
                errors.push("review.by", code::REQUIRED, "Record who decided.");
            }
            optional_text(
                errors,
                "review.reason",
                "reason",
                review.reason.as_deref(),
                MAX_TEXT_CHARS,
            );
            if refused && review.reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
                errors.push(
                    "review.reason",
                    code::REQUIRED,
                    "Say why, in a note for the person: what is wrong and what to send instead.",
                );
            }
        }
        None => {}
    }
}

/// The languages the registry writes to applicants in. Anything else reads English.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum Language {
    En,
    Fr,
    Ar,
}

impl Language {
    pub const ALL: [Language; 3] = [Language::En, Language::Fr, Language::Ar];

    /// The language a BCP 47 tag (`fr-CM`, `ar`, `sw-KE`) asks for, by its primary subtag;
    /// English for none or one the registry does not write.
    pub fn of_tag(tag: Option<&str>) -> Language {
        let primary = tag
            .and_then(|t| t.split(['-', '_']).next())
            .map(str::to_ascii_lowercase);
        match primary.as_deref() {
            Some("fr") => Language::Fr,
            Some("ar") => Language::Ar,
            _ => Language::En,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Fr => "fr",
            Language::Ar => "ar",
        }
    }
}

/// Query of `GET /v1/review/queue`: which applications, from where.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct ReviewQueueQuery {
    /// Applications to this programme only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(nullable = false))]
    pub programme: Option<Uuid>,
    /// Applications in this status only; without it, those waiting for the office (`submitted`
    /// and `under_review`). Drafts are the applicant's own and never queued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(nullable = false))]
    pub status: Option<ApplicationStatus>,
    /// Applications filed under this area code or an area below it (`KE.30` covers `KE.30.2`);
    /// for staff limited to some areas, within them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        param(
            nullable = false,
            min_length = 1,
            max_length = 64,
            pattern = "^[!-~]+$"
        )
    )]
    pub area: Option<String>,
    /// Only applications whose last status change is before this instant (RFC 3339), e.g. those
    /// waiting for more than a week.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        param(nullable = false, value_type = String, format = DateTime)
    )]
    pub waiting_since_before: Option<String>,
    /// The `next_after` of the previous page; absent to start with the longest waiting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(nullable = false))]
    pub after: Option<String>,
    /// Applications per page, 1 to 100 (default 25).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        param(nullable = false, minimum = 1, maximum = 100)
    )]
    pub limit: Option<u32>,
}

/// One row of the review queue: what a reviewer needs to choose what to open next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ReviewQueueItem {
    pub application_id: Uuid,
    /// The application's revision (send it as `If-Match` with a decision).
    pub rev: u64,
    pub status: ApplicationStatus,
    /// Server time of the application's last status change, RFC 3339 UTC.
    pub waiting_since: String,
    pub programme_id: Uuid,
    pub programme_name: String,
    /// The form version the answers belong to.
    pub form_version: u32,
    pub applicant_id: Uuid,
    /// Given and family name (and additional name, if any), as registered.
    pub applicant_name: String,
    /// The area code the application is filed under.
    pub area: Option<String>,
    /// The applicant's documents not yet verified or rejected.
    pub documents_pending: u32,
}

/// A page of the review queue, longest waiting first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ReviewQueuePage {
    pub items: Vec<ReviewQueueItem>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next_after: Option<String>,
}

/// Everything a reviewer sees of one application (`GET /v1/review/applications/{id}`), read
/// only: the answers with the form version they were given on, the applicant, their documents
/// and payment accounts, and what the programme still needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ReviewCase {
    pub application: crate::Application,
    pub programme: crate::Programme,
    /// The form version the application was filled in on (absent if it was never published).
    pub form: Option<crate::FormDefinition>,
    pub applicant: crate::Individual,
    /// The applicant's documents (theirs and their applications'), newest first, not deleted.
    pub documents: Vec<crate::Document>,
    /// The applicant's payment accounts, not deleted.
    pub accounts: Vec<crate::FinancialAccount>,
    /// Document kinds the programme requires that the applicant has not sent (or that were
    /// rejected).
    pub missing_documents: Vec<DocumentKind>,
    /// The statuses a reviewer may move the application to from here.
    pub next_statuses: Vec<ApplicationStatus>,
}

/// Body of `POST /v1/review/documents/{id}/verification`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DocumentDecision {
    /// `verified` or `rejected`.
    pub status: DocumentStatus,
    /// Required when rejecting: what is wrong, in words for the person.
    #[serde(default)]
    pub reason: Option<String>,
}

/// Body of `POST /v1/review/financial-accounts/{id}/verification`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AccountDecision {
    /// `verified` or `failed`.
    pub status: VerificationStatus,
    /// Required when the account could not be verified: what the person should check.
    #[serde(default)]
    pub reason: Option<String>,
}

/// An announcement's wording in one more language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AnnouncementText {
    pub language: Language,
    pub title: String,
    pub body: String,
}

/// Body of `POST /v1/review/announcements`: a message to everyone with an application to a
/// programme (in the caller's areas), one notification each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AnnouncementRequest {
    /// Minted by the sender (UUIDv7): sending the same announcement again notifies nobody twice.
    pub id: Uuid,
    pub programme_id: Uuid,
    /// The title and message for people whose language has no translation below.
    pub title: String,
    pub body: String,
    /// The same message in other languages (at most one per language).
    #[serde(default)]
    pub translations: Vec<AnnouncementText>,
    /// Only applicants whose application is filed under this area (or below).
    #[serde(default)]
    pub area: Option<String>,
    /// Only applicants with an application in this status.
    #[serde(default)]
    pub status: Option<ApplicationStatus>,
}

impl AnnouncementRequest {
    /// Checks the wording (and one translation per language).
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let texts = std::iter::once((String::new(), &self.title, &self.body)).chain(
            self.translations
                .iter()
                .enumerate()
                .map(|(i, t)| (format!("translations[{i}]."), &t.title, &t.body)),
        );
        for (prefix, title, body) in texts {
            required_line(
                &mut errors,
                &format!("{prefix}title"),
                "title",
                title,
                MAX_TITLE_CHARS,
            );
            required_text(
                &mut errors,
                &format!("{prefix}body"),
                "message",
                body,
                MAX_BODY_CHARS,
            );
        }
        for (i, t) in self.translations.iter().enumerate() {
            if self.translations[..i]
                .iter()
                .any(|o| o.language == t.language)
            {
                errors.push(
                    format!("translations[{i}].language"),
                    code::DUPLICATE,
                    "Give each language once.",
                );
            }
        }
        errors.into_result()
    }

    /// The title and body for someone reading `language`.
    pub fn text_for(&self, language: Language) -> (&str, &str) {
        self.translations
            .iter()
            .find(|t| t.language == language)
            .map_or((self.title.as_str(), self.body.as_str()), |t| {
                (t.title.as_str(), t.body.as_str())
            })
    }
}

/// Answer of `POST /v1/review/announcements`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AnnouncementReceipt {
    pub id: Uuid,
    pub programme_id: Uuid,
    /// Applicants notified by this request.
    pub notified: u32,
    /// Applicants an earlier sending of the same announcement had notified already.
    pub already_notified: u32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn languages_come_from_the_primary_subtag() {
        assert_eq!(Language::of_tag(Some("fr-CM")), Language::Fr);
        assert_eq!(Language::of_tag(Some("AR")), Language::Ar);
        assert_eq!(Language::of_tag(Some("sw-KE")), Language::En);
        assert_eq!(Language::of_tag(None), Language::En);
        assert_eq!(Language::of_tag(Some("")), Language::En);
    }

    fn announcement() -> AnnouncementRequest {
        serde_json::from_value(json!({
            "id": "0190b6a2-8a3e-7c1d-9f00-000000000001",
            "programme_id": "0190b6a2-8a3e-7c1d-9f00-000000000002",
            "title": "Payments move", "body": "Payments are on the 5th from June.",
            "translations": [{"language": "fr", "title": "Paiements", "body": "Le 5 dès juin."}]
        }))
        .unwrap()
    }

    #[test]
    fn an_announcement_reads_in_the_persons_language_or_the_default() {
        let a = announcement();
        assert_eq!(a.validate(), Ok(()));
        assert_eq!(a.text_for(Language::Fr).0, "Paiements");
        assert_eq!(a.text_for(Language::Ar).0, "Payments move");
    }

    #[test]
    fn an_announcement_needs_words_and_one_text_per_language() {
        let mut a = announcement();
        a.title = " ".into();
        a.translations.push(a.translations[0].clone());
        a.translations[1].body = String::new();
        let errors = a.validate().unwrap_err();
        assert!(errors.has("title", code::REQUIRED), "{errors:?}");
        assert!(errors.has("translations[1].body", code::REQUIRED));
        assert!(errors.has("translations[1].language", code::DUPLICATE));
    }

    #[test]
    fn a_refusal_says_why_and_an_open_record_carries_no_decision() {
        let review = Review {
            by: ActorId::new("staff:otieno"),
            at: time::macros::datetime!(2026-11-01 8:00 UTC),
            reason: None,
        };
        let mut errors = ValidationErrors::new();
        check_review(&mut errors, Some(&review), true, false);
        assert!(errors.has("review.reason", code::REQUIRED));
        let mut errors = ValidationErrors::new();
        check_review(&mut errors, None, true, false);
        assert!(errors.has("review", code::REQUIRED));
        let mut errors = ValidationErrors::new();
        check_review(&mut errors, Some(&review), false, true);
        assert!(errors.has("review", code::INCONSISTENT));
        let mut errors = ValidationErrors::new();
        check_review(&mut errors, Some(&review), false, false);
        assert!(errors.is_empty());
    }
}
