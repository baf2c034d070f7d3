//! One error type for the `/v1` handlers, turned into problem+json.

use axum::response::{IntoResponse, Response};

use crate::problem::{Problem, ProblemKind};
use crate::resources::BodyError;
use crate::storage::{CommitError, StorageError};

/// A problem to answer with, built from the library errors below so handlers can use `?` — or
/// the stored answer to a repeated idempotent request, which also ends the handler early.
#[derive(Debug)]
pub struct ApiError(Box<Problem>, Option<Box<Response>>);

impl ApiError {
    pub fn new(kind: ProblemKind, detail: impl Into<String>) -> Self {
        ApiError(Box::new(Problem::new(kind, detail)), None)
    }

    /// End the handler with this already-made answer (a replay).
    pub fn answer(response: Response) -> Self {
        ApiError(
            Box::new(Problem::new(ProblemKind::Conflict, "replayed")),
            Some(Box::new(response)),
        )
    }

    /// The problem this error answers with.
    pub fn problem(&self) -> &Problem {
        &self.0
    }

    /// The answer for a record the caller may not see, or that does not exist: the same, so
    /// that ids of other people's records cannot be probed.
    pub fn not_found(what: &str, id: impl std::fmt::Display) -> Self {
        ApiError::new(
            ProblemKind::NotFound,
            format!("There is no {what} {id}, or you may not see it."),
        )
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        ApiError::new(ProblemKind::Forbidden, detail)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self.1 {
            Some(response) => *response,
            None => (*self.0).into_response(),
        }
    }
}

impl From<Problem> for ApiError {
    fn from(p: Problem) -> Self {
        ApiError(Box::new(p), None)
    }
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        // The detail goes to the log, not to the caller: it may name tables or hosts.
        tracing::error!(error = %e, "storage error");
        ApiError::new(
            ProblemKind::Unavailable,
            "The registry's database did not answer. Nothing was changed; try again in a moment.",
        )
    }
}

impl From<CommitError> for ApiError {
    fn from(e: CommitError) -> Self {
        match e {
            CommitError::Stale { expected, current } => ApiError::from(
                Problem::new(
                    ProblemKind::StaleRevision,
                    format!(
                        "You changed revision {expected}, but the record is now at revision {}. \
                         Merge your change into the current record (included) and send it with If-Match: \"{}\".",
                        current.rev, current.rev
                    ),
                )
                .with_current(current.body),
            ),
            CommitError::Exists { current } => ApiError::new(
                ProblemKind::Conflict,
                format!(
                    "A record with id {} exists already. To change it, use PUT with If-Match.",
                    current.id
                ),
            ),
            CommitError::Missing { kind, id } => ApiError::not_found(kind.as_str(), id),
            CommitError::Duplicate { key, holder } => ApiError::new(
                ProblemKind::Conflict,
                duplicate_message(&key, holder),
            ),
            CommitError::Replay(_) => ApiError::new(
                ProblemKind::Conflict,
                "This request was already applied with the same Idempotency-Key.",
            ),
            CommitError::Storage(e) => e.into(),
        }
    }
}

fn duplicate_message(key: &str, holder: uuid::Uuid) -> String {
    let key = key
        .strip_prefix(crate::storage::model::UNIQUE_KEY_PREFIX)
        .unwrap_or(key);
    if key.starts_with("head:") {
        format!("The household already has a head (membership {holder}). End that membership or change its role first.")
    } else if key.starts_with("preferred:") {
        format!("Another account ({holder}) is already chosen for payments. Unset it first.")
    } else if key.starts_with("application:") {
        // Not the holder's id: the other application may be one the caller cannot see.
        "This person already has an application to this programme that is not rejected, and the programme takes one per person. Continue that application instead of starting another.".to_owned()
    } else if let Some(version) = key.strip_prefix("form:").and_then(|k| k.rsplit(':').next()) {
        format!("Version {version} of this programme's form was published meanwhile (form {holder}). Look at it, then publish yours as the next version.")
    } else if key.starts_with("id:") {
        // Never the holder's record id: whoever types a number must not learn whose it is.
        "This ID number is already registered for another person. Check the number; if it is right, search for the person (an agent or the registry office can find the record) instead of registering them again.".to_owned()
    } else {
        format!("{key} is already used by record {holder}.")
    }
}

impl From<BodyError> for ApiError {
    fn from(e: BodyError) -> Self {
        match e {
            BodyError::Shape(message) => ApiError::new(
                ProblemKind::BadRequest,
                format!("The record could not be read: {message}."),
            ),
            BodyError::UnknownFields(fields) => ApiError::new(
                ProblemKind::BadRequest,
                format!(
                    "Unknown field(s): {}. Check the spelling against /openapi.json.",
                    fields.join(", ")
                ),
            ),
            BodyError::Invalid(errors) => {
                let summary = errors
                    .iter()
                    .map(|e| e.message.as_str())
                    .collect::<Vec<_>>()
                    .join(" ");
                ApiError::from(Problem::new(ProblemKind::Invalid, summary).with_errors(errors))
            }
        }
    }
}
