//! A reviewer's decisions on a document (verified or rejected) and on a payment account
//! (verified or failed): `POST /v1/review/documents/{id}/verification` and
//! `POST /v1/review/financial-accounts/{id}/verification`.
//!
//! A decision is a change of the record itself (its `verification_status` and `review`: who,
//! when, why), made through the one write pipeline as a decision ([`WriteRequest::decision`],
//! the only write that may change them, and only them), so it lands in the record's audit trail
//! and syncs to the person's devices like any change. It is committed together with the
//! notification telling the person, in their language; a retry with the same Idempotency-Key
//! gets the first answer.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use doorstep_domain::api::{AccountDecision, DocumentDecision};
use doorstep_domain::notification::NotificationKind;
use doorstep_domain::sync::MutationOp;
use doorstep_domain::validate::text::MAX_TEXT_CHARS;
use doorstep_domain::{
    ActorId, DocumentStatus, FieldError, RecordKind, Review, VerificationStatus,
};
use serde::de::DeserializeOwned;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::access::{self, Caller};
use crate::api::records::load_typed;
use crate::api::write::{commit, prepare, WriteRequest};
use crate::api::{if_match, mutation, notify, ApiError};
use crate::messages::{self, Event};
use crate::problem::{Problem, ProblemKind};
use crate::resources::{Collection, Typed};
use crate::state::AppState;
use crate::storage::model::UNIQUE_KEY_PREFIX;
use crate::storage::{Expect, ListQuery, Visibility};

/// Mark a document verified or rejected.
#[utoipa::path(post, path = "/v1/review/documents/{id}/verification", tag = "review",
    params(("id" = Uuid, Path),
           ("If-Match" = Option<String>, Header, nullable = false, pattern = r#"^(W/)?"?[0-9]+"?$"#, description = "The revision the decision was made on; a stale one gets 412"),
           ("Idempotency-Key" = Option<String>, Header, nullable = false, min_length = 1, max_length = 255, pattern = "^[!-~]+$", description = "Retry-safe key")),
    request_body = DocumentDecision,
    responses((status = 200, description = "The document with the decision", body = doorstep_domain::Document,
               headers(("ETag" = String, description = "The document's new revision"))),
              (status = 400, description = "A malformed id, body, If-Match or header, or a decision other than verified or rejected", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "Only staff and admins verify documents", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No such document, or one outside the caller's areas", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "The document was deleted", body = Problem, content_type = "application/problem+json"),
              (status = 412, description = "Stale: the document changed since that revision; `current` holds it now", body = Problem, content_type = "application/problem+json"),
              (status = 413, description = "The body is larger than 2 MiB", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "A rejection without a reason, a reason longer than 4000 characters, or the Idempotency-Key was used for another request", body = Problem, content_type = "application/problem+json"),
              crate::openapi::SignedInErrors),
    security(("bearer" = [])))]
pub async fn document(
    State(state): State<AppState>,
    caller: Caller,
    method: Method,
    uri: Uri,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    if !access::may_decide(caller.role(), RecordKind::Document) {
        return Err(ApiError::forbidden(
            "Documents are verified by registry staff at the review desk.",
        ));
    }
    let asked: DocumentDecision = read(
        &body,
        r#"{"status": "verified"} or {"status": "rejected", "reason": "…"}"#,
    )?;
    let refused = match asked.status {
        DocumentStatus::Verified => false,
        DocumentStatus::Rejected => true,
        DocumentStatus::Pending => return Err(neither("verified or rejected")),
    };
    let decision = Decision {
        status: serde_json::json!(asked.status),
        reason: reason(asked.reason, refused)?,
    };
    decide(
        &state,
        &caller,
        Request::new(&method, &uri, &headers, &body),
        Collection::Documents,
        id,
        decision,
    )
    .await
}

/// Mark a payment account verified or failed.
#[utoipa::path(post, path = "/v1/review/financial-accounts/{id}/verification", tag = "review",
    params(("id" = Uuid, Path),
           ("If-Match" = Option<String>, Header, nullable = false, pattern = r#"^(W/)?"?[0-9]+"?$"#, description = "The revision the decision was made on; a stale one gets 412"),
           ("Idempotency-Key" = Option<String>, Header, nullable = false, min_length = 1, max_length = 255, pattern = "^[!-~]+$", description = "Retry-safe key")),
    request_body = AccountDecision,
    responses((status = 200, description = "The account with the decision", body = doorstep_domain::FinancialAccount,
               headers(("ETag" = String, description = "The account's new revision"))),
              (status = 400, description = "A malformed id, body, If-Match or header, or a decision other than verified or failed", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "Only staff and admins verify payment accounts", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No such account, or one outside the caller's areas", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "The account was deleted", body = Problem, content_type = "application/problem+json"),
              (status = 412, description = "Stale: the account changed since that revision; `current` holds it now", body = Problem, content_type = "application/problem+json"),
              (status = 413, description = "The body is larger than 2 MiB", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "A failed verification without a reason, a reason longer than 4000 characters, or the Idempotency-Key was used for another request", body = Problem, content_type = "application/problem+json"),
              crate::openapi::SignedInErrors),
    security(("bearer" = [])))]
pub async fn account(
    State(state): State<AppState>,
    caller: Caller,
    method: Method,
    uri: Uri,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    if !access::may_decide(caller.role(), RecordKind::FinancialAccount) {
        return Err(ApiError::forbidden(
            "Payment accounts are verified by registry staff at the review desk.",
        ));
    }
    let asked: AccountDecision = read(
        &body,
        r#"{"status": "verified"} or {"status": "failed", "reason": "…"}"#,
    )?;
    let refused = match asked.status {
        VerificationStatus::Verified => false,
        VerificationStatus::Failed => true,
        VerificationStatus::Unverified | VerificationStatus::Pending => {
            return Err(neither("verified or failed"))
        }
    };
    let decision = Decision {
        status: serde_json::json!(asked.status),
        reason: reason(asked.reason, refused)?,
    };
    decide(
        &state,
        &caller,
        Request::new(&method, &uri, &headers, &body),
        Collection::FinancialAccounts,
        id,
        decision,
    )
    .await
}

/// What a reviewer decided, as it goes into the record.
struct Decision {
    /// The new `verification_status`.
    status: serde_json::Value,
    reason: Option<String>,
}

/// The parts of the request the idempotency claim is made from.
struct Request<'a> {
    method: &'a Method,
    uri: &'a Uri,
    headers: &'a HeaderMap,
    body: &'a [u8],
}

impl<'a> Request<'a> {
    fn new(method: &'a Method, uri: &'a Uri, headers: &'a HeaderMap, body: &'a [u8]) -> Self {
        Request {
            method,
            uri,
            headers,
            body,
        }
    }
}

/// Write the decision into the record, through the write pipeline, with the notification
/// telling the person, in one transaction.
async fn decide(
    state: &AppState,
    caller: &Caller,
    request: Request<'_>,
    collection: Collection,
    id: Uuid,
    decision: Decision,
) -> Result<Response, ApiError> {
    let m = mutation(
        state,
        caller,
        request.method,
        request.uri.path(),
        request.headers,
        request.body,
        StatusCode::OK,
    )
    .await?;
    let (stored, _) = load_typed(state, caller, collection, id).await?;
    if let Some(rev) = if_match(request.headers)? {
        if rev != stored.rev {
            return Err(ApiError::from(
                Problem::new(
                    ProblemKind::StaleRevision,
                    format!(
                        "The record is at revision {}, not {rev}. Look at it again before deciding.",
                        stored.rev
                    ),
                )
                .with_current(stored.body),
            ));
        }
    }
    if stored.deleted {
        return Err(ApiError::new(
            ProblemKind::Conflict,
            "This record was deleted; there is nothing to verify.",
        ));
    }
    let now = OffsetDateTime::now_utc();
    let review = Review {
        by: ActorId::new(caller.actor()),
        at: now,
        reason: decision.reason.clone(),
    };
    let mut body = stored.body.clone();
    body["verification_status"] = decision.status;
    body["review"] = serde_json::to_value(&review).expect("reviews serialise");
    body["updated_at"] = serde_json::json!(doorstep_domain::timestamp::format(now));
    let mut write = prepare(
        state,
        caller,
        WriteRequest {
            kind: collection.kind(),
            id,
            op: MutationOp::Update,
            body,
            current: Some(&stored),
            decision: true,
            step_up: false,
        },
    )
    .await?;
    write.expect = Expect::Rev(stored.rev);

    let (typed, _) = crate::resources::parse(write.kind, write.body.clone())?;
    let (kind, event) = match &typed {
        Typed::Document(d) => (
            match d.verification_status {
                // A rejected document must be sent again: the app lists it as something to do.
                DocumentStatus::Rejected => NotificationKind::DocumentRequested,
                _ => NotificationKind::DocumentReview,
            },
            Event::Document {
                kind: d.kind,
                status: d.verification_status,
                reason: decision.reason.as_deref(),
            },
        ),
        Typed::FinancialAccount(a) => (
            NotificationKind::AccountReview,
            Event::Account {
                status: a.verification_status,
                reason: decision.reason.as_deref(),
            },
        ),
        _ => unreachable!("decisions are on documents and accounts"),
    };
    let person = match (write.index.owner_id, write.index.group_id) {
        (Some(person), _) => Some(person),
        // A household's document: its head is told.
        (None, Some(group)) => household_head(state, group).await?,
        (None, None) => None,
    };
    let mut writes = vec![write];
    let recipient = match person {
        Some(person) => notify::recipient(state, person).await?,
        None => None,
    };
    if let Some(to) = recipient {
        let message = messages::message(event, to.language);
        writes.push(notify::write(Uuid::now_v7(), &to, kind, id, message, now)?);
    }
    commit(
        state,
        caller,
        request.headers,
        writes,
        m.claim,
        StatusCode::OK,
    )
    .await
}

/// The current head of a household, if it has one.
async fn household_head(state: &AppState, group: Uuid) -> Result<Option<Uuid>, ApiError> {
    let mut query = ListQuery::new(RecordKind::Membership, Visibility::All, 1);
    query.key = Some(format!("{UNIQUE_KEY_PREFIX}head:{group}"));
    Ok(state
        .storage
        .list(&query)
        .await?
        .first()
        .and_then(|m| m.body.get("individual_id"))
        .and_then(|id| id.as_str())
        .and_then(|id| id.parse().ok()))
}

/// The body as `T`, or 400 showing what to send.
fn read<T: DeserializeOwned>(body: &[u8], example: &str) -> Result<T, ApiError> {
    doorstep_domain::strict_json::from_slice(body)
        .map_err(|e| ApiError::new(ProblemKind::BadRequest, format!("Send {example}: {e}.")))
}

fn neither(allowed: &str) -> ApiError {
    ApiError::new(ProblemKind::BadRequest, format!("A decision is {allowed}."))
}

/// The reason as kept: trimmed, required for a refusal, at most [`MAX_TEXT_CHARS`].
fn reason(reason: Option<String>, refused: bool) -> Result<Option<String>, ApiError> {
    let reason = reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    let problem = match &reason {
        None if refused => Some((
            doorstep_domain::validate::code::REQUIRED,
            "Say why, in words for the person: what is wrong and what to send instead.".to_owned(),
        )),
        Some(r) if r.chars().count() > MAX_TEXT_CHARS => Some((
            doorstep_domain::validate::code::TOO_LONG,
            format!("Shorten the reason to at most {MAX_TEXT_CHARS} characters."),
        )),
        _ => None,
    };
    match problem {
        None => Ok(reason),
        Some((code, message)) => Err(ApiError::from(
            Problem::new(ProblemKind::Invalid, message.clone()).with_errors(vec![FieldError {
                field: "reason".into(),
                code: code.into(),
                message,
            }]),
        )),
    }
}
