//! The programme rules, on every path that writes an application or a form version: REST and
//! sync push through [`super::write::prepare`], status moves through
//! [`super::applications::transition`].
//!
//! - **One application per person per programme**, unless the programme allows several: a live
//!   application that is not rejected holds the unique key [`application_key`], so a second one
//!   is refused inside the writing transaction (`storage/plan.rs`), however many devices push at
//!   once. Rejecting or deleting the first lets it go.
//! - **Required documents before submit**: an application moves to `submitted` only while the
//!   applicant has a live, not rejected document of each kind the programme requires
//!   ([`doorstep_domain::Programme::missing_documents`], the rule the app shows too).
//! - **Applications close on the programme's closing day**: a draft is not submitted once its
//!   programme's `applications_close_on` has ended everywhere on Earth
//!   ([`doorstep_domain::Programme::takes_submissions_at`]; `/problems/applications-closed`).
//! - **Form versions are immutable**: a form definition, once written, is never replaced,
//!   changed or deleted, and a new one is exactly the programme's latest version + 1 (two
//!   publishing at once: the version's unique key lets one in, the other is told to publish
//!   again). An application keeps the version it was filled in on, so a draft started on
//!   version N is still submitted after N+1 is published.

use doorstep_domain::sync::MutationOp;
use doorstep_domain::{
    Application, ApplicationStatus, Document, DocumentKind, FieldError, FormDefinition, Programme,
    RecordId, RecordKind,
};

use super::ApiError;
use crate::problem::{Problem, ProblemKind};
use crate::resources::Typed;
use crate::state::AppState;
use crate::storage::model::UNIQUE_KEY_PREFIX;
use crate::storage::{ListQuery, RecordIndex, Visibility};

/// Most documents of one applicant read to decide what is missing (a person has a handful).
const MAX_DOCUMENTS_READ: u32 = 1000;

/// The unique key an application holds while it keeps its programme from taking another one by
/// the same applicant.
pub fn application_key(application: &Application) -> String {
    format!(
        "{UNIQUE_KEY_PREFIX}application:{}:{}",
        application.programme_id, application.applicant_id
    )
}

/// The programme rules of one write by [`super::write::prepare`]: the keys an application holds
/// join its `index`; a form version is checked against the programme's versions.
pub async fn check(
    state: &AppState,
    op: MutationOp,
    typed: &Typed,
    index: &mut RecordIndex,
) -> Result<(), ApiError> {
    match typed {
        Typed::Application(application) => {
            index
                .keys
                .extend(application_keys(state, application).await?);
            Ok(())
        }
        Typed::FormDefinition(form) => form_version(state, op, form).await,
        _ => Ok(()),
    }
}

/// The unique keys `application` holds as it will be stored: [`application_key`] while it
/// holds its programme's place and the programme takes one application per person.
pub async fn application_keys(
    state: &AppState,
    application: &Application,
) -> Result<Vec<String>, ApiError> {
    if !application.holds_programme_place() {
        return Ok(Vec::new());
    }
    let programme = programme(state, application.programme_id).await?;
    Ok(keys_in(application, &programme))
}

/// As [`application_keys`], with the programme at hand.
pub fn keys_in(application: &Application, programme: &Programme) -> Vec<String> {
    match application.holds_programme_place() && !programme.allow_multiple_applications {
        true => vec![application_key(application)],
        false => Vec::new(),
    }
}

/// The programme an application or form belongs to (its existence is checked with the
/// record's other references).
pub async fn programme(state: &AppState, id: RecordId) -> Result<Programme, ApiError> {
    let stored = state
        .storage
        .get(*id.as_uuid())
        .await?
        .filter(|r| r.kind == RecordKind::Programme)
        .ok_or_else(|| ApiError::not_found("programme", id))?;
    serde_json::from_value(stored.body).map_err(|e| {
        ApiError::new(
            ProblemKind::Internal,
            format!("a stored programme is unreadable: {e}"),
        )
    })
}

/// A new form version must be the programme's latest + 1; a published one never changes.
async fn form_version(
    state: &AppState,
    op: MutationOp,
    form: &FormDefinition,
) -> Result<(), ApiError> {
    let latest = state
        .storage
        .latest_form_version(*form.programme_id.as_uuid())
        .await?;
    let next = latest.map_or(1, |v| v + 1);
    match op {
        MutationOp::Update | MutationOp::Delete => Err(ApiError::new(
            ProblemKind::Conflict,
            format!(
                "Version {} of this form is published and never changes, so every application keeps the form it was filled in on. Publish the changed form as a new version ({next}).",
                form.version
            ),
        )),
        MutationOp::Create if form.version != next => Err(ApiError::from(
            Problem::new(
                ProblemKind::Conflict,
                match latest {
                    Some(latest) => format!(
                        "The programme's latest form is version {latest}: publish this one as version {next}."
                    ),
                    None => "The programme has no form yet: publish this one as version 1.".into(),
                },
            )
            .with_errors(vec![FieldError {
                field: "version".into(),
                code: doorstep_domain::validate::code::OUT_OF_RANGE.into(),
                message: format!("Use version {next}."),
            }]),
        )),
        MutationOp::Create => Ok(()),
    }
}

/// The applicant's live documents (theirs and their applications') that `visibility` shows,
/// at most [`MAX_DOCUMENTS_READ`], newest first.
pub async fn documents_of(
    state: &AppState,
    applicant: RecordId,
    visibility: &Visibility,
) -> Result<Vec<Document>, ApiError> {
    let mut query = ListQuery::new(RecordKind::Document, visibility.clone(), MAX_DOCUMENTS_READ);
    query.owner_id = Some(*applicant.as_uuid());
    let mut documents: Vec<Document> = state
        .storage
        .list(&query)
        .await?
        .into_iter()
        .filter_map(|r| serde_json::from_value(r.body).ok())
        .collect();
    documents.sort_by_key(|d: &Document| std::cmp::Reverse(d.captured_at));
    Ok(documents)
}

/// Refuse a draft's submission at `now` once its programme's closing day is over (everywhere on
/// Earth: [`Programme::takes_submissions_at`]). An application the office asked more of was
/// sent in time, so its answers are taken whatever the day.
pub fn check_open(
    programme: &Programme,
    from: ApplicationStatus,
    now: time::OffsetDateTime,
) -> Result<(), ApiError> {
    match (from, programme.applications_close_on) {
        (ApplicationStatus::Draft, Some(close)) if !programme.takes_submissions_at(now) => {
            let day = doorstep_domain::date_format::format(close);
            Err(ApiError::from(
                Problem::new(
                    ProblemKind::ApplicationsClosed,
                    format!(
                        "Applications to {} closed on {day}, so this application can no longer be submitted. It stays as a draft; ask the office if you think it should be taken.",
                        programme.name
                    ),
                )
                .with_errors(vec![FieldError {
                    field: "applications_close_on".into(),
                    code: doorstep_domain::validate::code::DATE_ORDER.into(),
                    message: format!("Applications closed on {day}."),
                }]),
            ))
        }
        _ => Ok(()),
    }
}

/// Refuse to take `application` as submitted while its applicant lacks a document the
/// programme requires, naming each missing kind.
pub async fn check_submit(
    state: &AppState,
    application: &Application,
    programme: &Programme,
) -> Result<(), ApiError> {
    if programme.required_documents.is_empty() {
        return Ok(());
    }
    let documents = documents_of(state, application.applicant_id, &Visibility::All).await?;
    let missing = programme.missing_documents(&documents);
    if missing.is_empty() {
        return Ok(());
    }
    Err(ApiError::from(
        Problem::new(
            ProblemKind::DocumentsMissing,
            format!(
                "The application cannot be submitted yet: {} requires {} from the applicant. Add {} (a rejected document must be sent again), then submit.",
                programme.name,
                missing
                    .iter()
                    .map(|k| kind_words(*k))
                    .collect::<Vec<_>>()
                    .join(", "),
                if missing.len() == 1 { "it" } else { "them" },
            ),
        )
        .with_errors(
            missing
                .iter()
                .map(|kind| FieldError {
                    field: format!("required_documents.{}", kind_code(*kind)),
                    code: doorstep_domain::validate::code::REQUIRED.into(),
                    message: format!("Add {}.", kind_words(*kind)),
                })
                .collect(),
        ),
    ))
}

/// A document kind's wire name (`id_card`).
pub fn kind_code(kind: DocumentKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// A document kind in English words.
pub fn kind_words(kind: DocumentKind) -> &'static str {
    match kind {
        DocumentKind::IdCard => "an ID card",
        DocumentKind::ProofOfAddress => "a proof of address",
        DocumentKind::IncomeCertificate => "an income certificate",
        DocumentKind::Photo => "a photo",
        DocumentKind::Consent => "a signed consent",
        DocumentKind::Other => "the other document asked for",
    }
}
