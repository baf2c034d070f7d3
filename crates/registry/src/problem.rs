//! Errors as RFC 9457 "problem details" (`application/problem+json`).
//!
//! Every error the API returns has a stable `type` URI that clients may branch on, a short
//! `title`, the HTTP `status`, and a `detail` a person can act on. The `type` URIs are relative
//! references under `/problems/`; they name the kind of problem and never change meaning.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// The kinds of problem this API reports. Adding one is fine; renaming one breaks clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    NotFound,
    MethodNotAllowed,
    Unavailable,
    /// The request body or parameters are malformed (not JSON, wrong shape, bad header).
    BadRequest,
    /// Well-formed but breaks a rule of the model (the `errors` list says which field).
    Invalid,
    /// No usable credentials: missing, malformed, expired or untrusted bearer token.
    Unauthenticated,
    /// The caller is known but may not do this.
    Forbidden,
    /// The record exists already or the change clashes with its current state.
    Conflict,
    /// `If-Match` named a revision that is no longer current.
    StaleRevision,
    /// A write that must be conditional came without `If-Match`.
    PreconditionRequired,
    /// An `Idempotency-Key` was reused for a different request.
    IdempotencyKeyReused,
    /// The body is larger than the limit.
    TooLarge,
    /// The content type (declared or sniffed) is not accepted.
    UnsupportedMediaType,
    /// Too many requests from this caller; retry after the `Retry-After` delay.
    RateLimited,
    /// A tus upload offset or length does not match the server's.
    UploadMismatch,
    /// The finished upload's SHA-256 is not the one announced.
    ChecksumMismatch,
    /// A sync cursor from another registry (or a rebuilt one): start the pull from scratch.
    CursorReset,
    /// Something failed on the server; the detail says what the caller can do.
    Internal,
}

impl ProblemKind {
    pub fn type_uri(self) -> &'static str {
        match self {
            ProblemKind::NotFound => "/problems/not-found",
            ProblemKind::MethodNotAllowed => "/problems/method-not-allowed",
            ProblemKind::Unavailable => "/problems/unavailable",
            ProblemKind::BadRequest => "/problems/bad-request",
            ProblemKind::Invalid => "/problems/invalid",
            ProblemKind::Unauthenticated => "/problems/unauthenticated",
            ProblemKind::Forbidden => "/problems/forbidden",
            ProblemKind::Conflict => "/problems/conflict",
            ProblemKind::StaleRevision => "/problems/stale-revision",
            ProblemKind::PreconditionRequired => "/problems/precondition-required",
            ProblemKind::IdempotencyKeyReused => "/problems/idempotency-key-reused",
            ProblemKind::TooLarge => "/problems/too-large",
            ProblemKind::UnsupportedMediaType => "/problems/unsupported-media-type",
            ProblemKind::RateLimited => "/problems/rate-limited",
            ProblemKind::UploadMismatch => "/problems/upload-mismatch",
            ProblemKind::ChecksumMismatch => "/problems/checksum-mismatch",
            ProblemKind::CursorReset => "/problems/cursor-reset",
            ProblemKind::Internal => "/problems/internal",
        }
    }

    fn title(self) -> &'static str {
        match self {
            ProblemKind::NotFound => "Not found",
            ProblemKind::MethodNotAllowed => "Method not allowed",
            ProblemKind::Unavailable => "Service unavailable",
            ProblemKind::BadRequest => "Bad request",
            ProblemKind::Invalid => "Invalid record",
            ProblemKind::Unauthenticated => "Sign-in required",
            ProblemKind::Forbidden => "Not allowed",
            ProblemKind::Conflict => "Conflict",
            ProblemKind::StaleRevision => "Record changed since you read it",
            ProblemKind::PreconditionRequired => "If-Match required",
            ProblemKind::IdempotencyKeyReused => "Idempotency key reused",
            ProblemKind::TooLarge => "Too large",
            ProblemKind::UnsupportedMediaType => "Unsupported media type",
            ProblemKind::RateLimited => "Too many requests",
            ProblemKind::UploadMismatch => "Upload offset mismatch",
            ProblemKind::ChecksumMismatch => "Checksum mismatch",
            ProblemKind::CursorReset => "Sync cursor from another registry",
            ProblemKind::Internal => "Internal error",
        }
    }

    fn status(self) -> StatusCode {
        match self {
            ProblemKind::NotFound => StatusCode::NOT_FOUND,
            ProblemKind::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ProblemKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ProblemKind::BadRequest => StatusCode::BAD_REQUEST,
            ProblemKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
            ProblemKind::Unauthenticated => StatusCode::UNAUTHORIZED,
            ProblemKind::Forbidden => StatusCode::FORBIDDEN,
            ProblemKind::Conflict => StatusCode::CONFLICT,
            ProblemKind::StaleRevision => StatusCode::PRECONDITION_FAILED,
            ProblemKind::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
            ProblemKind::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            ProblemKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ProblemKind::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ProblemKind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ProblemKind::UploadMismatch => StatusCode::CONFLICT,
            ProblemKind::ChecksumMismatch => StatusCode::from_u16(460).expect("valid status"),
            ProblemKind::CursorReset => StatusCode::CONFLICT,
            ProblemKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// One problem-details body.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// Stable identifier of the kind of problem, e.g. `/problems/not-found`.
    #[serde(rename = "type")]
    pub type_uri: String,
    /// Short summary of the kind of problem; the same for every occurrence.
    pub title: String,
    /// The HTTP status code, repeated for clients that only see the body.
    pub status: u16,
    /// What happened this time and what to do about it.
    pub detail: String,
    /// For `/problems/invalid`: one entry per field that needs fixing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<doorstep_domain::FieldError>>,
    /// For `/problems/stale-revision` and `/problems/conflict`: the record as it is now, so the
    /// client can merge without another round trip.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub current: Option<serde_json::Value>,
}

impl Problem {
    pub fn new(kind: ProblemKind, detail: impl Into<String>) -> Self {
        Problem {
            type_uri: kind.type_uri().to_owned(),
            title: kind.title().to_owned(),
            status: kind.status().as_u16(),
            detail: detail.into(),
            errors: None,
            current: None,
        }
    }

    /// Attach the per-field errors of a refused record.
    pub fn with_errors(mut self, errors: Vec<doorstep_domain::FieldError>) -> Self {
        self.errors = Some(errors);
        self
    }

    /// Attach the current version of the record the request clashed with.
    pub fn with_current(mut self, current: serde_json::Value) -> Self {
        self.current = Some(current);
        self
    }

    pub fn kind_is(&self, kind: ProblemKind) -> bool {
        self.type_uri == kind.type_uri()
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, axum::Json(self)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        response
    }
}

/// Any path no route matches.
pub async fn not_found(uri: axum::http::Uri) -> Problem {
    Problem::new(
        ProblemKind::NotFound,
        format!(
            "There is nothing at {}. The API is described at /openapi.json.",
            uri.path()
        ),
    )
}

/// A known path asked with a method it does not support.
pub async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> Problem {
    Problem::new(
        ProblemKind::MethodNotAllowed,
        format!(
            "{} does not accept {method}. The API is described at /openapi.json.",
            uri.path()
        ),
    )
}
