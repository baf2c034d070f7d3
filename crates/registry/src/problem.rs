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
    /// A field agent acts for a person whose consent is required and not on record.
    ConsentRequired,
    /// The registry no longer serves this device or agent (lost, handed over, left).
    Revoked,
    /// The record exists already or the change clashes with its current state.
    Conflict,
    /// An application cannot be submitted before the applicant has sent each document its
    /// programme requires (`errors` names each missing kind).
    DocumentsMissing,
    /// A draft application cannot be submitted after its programme's closing day.
    ApplicationsClosed,
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
    /// The request took longer than the server allows and was stopped.
    Timeout,
    /// The identity provider refuses the registry's own sign-in client (`invalid_client`): its
    /// registration or keys are wrong, no retry helps, and only the registry's operator can fix it.
    SignInMisconfigured,
    /// A liveness step-up's proof does not pass (`errors[0].code` says why); nothing recorded.
    LivenessRefused,
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
            ProblemKind::ConsentRequired => "/problems/consent-required",
            ProblemKind::Revoked => "/problems/revoked",
            ProblemKind::Conflict => "/problems/conflict",
            ProblemKind::DocumentsMissing => "/problems/documents-missing",
            ProblemKind::ApplicationsClosed => "/problems/applications-closed",
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
            ProblemKind::Timeout => "/problems/timeout",
            ProblemKind::SignInMisconfigured => "/problems/signin-misconfigured",
            ProblemKind::LivenessRefused => "/problems/liveness-refused",
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
            ProblemKind::ConsentRequired => "Consent required",
            ProblemKind::Revoked => "Device or account withdrawn",
            ProblemKind::Conflict => "Conflict",
            ProblemKind::DocumentsMissing => "Documents missing",
            ProblemKind::ApplicationsClosed => "Applications closed",
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
            ProblemKind::Timeout => "Request took too long",
            ProblemKind::SignInMisconfigured => "Sign-in is misconfigured",
            ProblemKind::LivenessRefused => "Liveness check not accepted",
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
            ProblemKind::Forbidden | ProblemKind::ConsentRequired | ProblemKind::Revoked => {
                StatusCode::FORBIDDEN
            }
            ProblemKind::Conflict
            | ProblemKind::DocumentsMissing
            | ProblemKind::ApplicationsClosed => StatusCode::CONFLICT,
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
            ProblemKind::Timeout => StatusCode::REQUEST_TIMEOUT,
            // A fault of the server's set-up, not of the request, and not temporary (not 503).
            ProblemKind::SignInMisconfigured => StatusCode::INTERNAL_SERVER_ERROR,
            ProblemKind::LivenessRefused => StatusCode::UNPROCESSABLE_ENTITY,
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

/// The kind of problem a bare error status stands for, for answers made below the handlers.
fn kind_of_status(status: StatusCode) -> Option<ProblemKind> {
    Some(match status {
        StatusCode::BAD_REQUEST => ProblemKind::BadRequest,
        StatusCode::UNAUTHORIZED => ProblemKind::Unauthenticated,
        StatusCode::FORBIDDEN => ProblemKind::Forbidden,
        StatusCode::NOT_FOUND => ProblemKind::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => ProblemKind::MethodNotAllowed,
        StatusCode::REQUEST_TIMEOUT => ProblemKind::Timeout,
        StatusCode::CONFLICT => ProblemKind::Conflict,
        StatusCode::PAYLOAD_TOO_LARGE => ProblemKind::TooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ProblemKind::UnsupportedMediaType,
        StatusCode::TOO_MANY_REQUESTS => ProblemKind::RateLimited,
        StatusCode::INTERNAL_SERVER_ERROR => ProblemKind::Internal,
        StatusCode::SERVICE_UNAVAILABLE => ProblemKind::Unavailable,
        _ => return None,
    })
}

/// Longest plain-text error body read to become a problem's detail.
const MAX_PLAIN_ERROR: usize = 16 * 1024;

/// Errors that axum and tower answer by themselves come as plain text or without a body: a body
/// over the size limit (413), a path parameter that does not parse (400), a request that took too
/// long (408). This response mapper turns every such error into problem+json, so that every
/// error of the API has one format; the plain text becomes the detail. Other headers (e.g.
/// `Retry-After`, `WWW-Authenticate`) are kept.
pub async fn plain_errors_as_problems(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let plain = match response.headers().get(header::CONTENT_TYPE) {
        None => true,
        Some(value) => value.to_str().is_ok_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("text/plain")
        }),
    };
    if !plain {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, MAX_PLAIN_ERROR)
        .await
        .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_owned())
        .unwrap_or_default();
    let detail = match status {
        StatusCode::PAYLOAD_TOO_LARGE => {
            "The request body is larger than this route accepts (2 MiB for a record, 16 MiB for a sync batch). Send less at a time.".to_owned()
        }
        StatusCode::REQUEST_TIMEOUT => {
            "The request took longer than the server allows and was stopped. Try again; send large files through /v1/uploads, which resumes.".to_owned()
        }
        _ if !text.is_empty() => text,
        _ => status.canonical_reason().unwrap_or("Error").to_owned(),
    };
    let problem = match kind_of_status(status) {
        Some(kind) => Problem::new(kind, detail),
        None => Problem {
            type_uri: "about:blank".to_owned(),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail,
            errors: None,
            current: None,
        },
    };
    let mut response = problem.into_response();
    *response.status_mut() = status;
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            response
                .headers_mut()
                .entry(name)
                .or_insert_with(|| value.clone());
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body_json(response: Response) -> serde_json::Value {
        let bytes = axum::body::to_bytes(response.into_body(), 64 * 1024)
            .await
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn bare_errors_become_problems_and_keep_their_headers() {
        // What tower's timeout answers: a status, no body, no content type.
        let mut timeout = StatusCode::REQUEST_TIMEOUT.into_response();
        timeout
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        let response = plain_errors_as_problems(timeout).await;
        assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        assert_eq!(response.headers()[header::RETRY_AFTER], "5");
        let body = body_json(response).await;
        assert_eq!(body["type"], "/problems/timeout");
        assert_eq!(body["status"], 408);

        // What axum's extractors answer: plain text, which becomes the detail.
        let plain = (StatusCode::BAD_REQUEST, "Invalid URL: not a UUID").into_response();
        let body = body_json(plain_errors_as_problems(plain).await).await;
        assert_eq!(body["type"], "/problems/bad-request");
        assert_eq!(body["detail"], "Invalid URL: not a UUID");

        // A status without a problem kind of its own still gets a problem body.
        let teapot = (StatusCode::IM_A_TEAPOT, "short and stout").into_response();
        let body = body_json(plain_errors_as_problems(teapot).await).await;
        assert_eq!(body["type"], "about:blank");
        assert_eq!(body["status"], 418);
    }

    #[tokio::test]
    async fn problems_json_and_successes_pass_unchanged() {
        let problem = Problem::new(ProblemKind::Conflict, "taken").into_response();
        let body = body_json(plain_errors_as_problems(problem).await).await;
        assert_eq!(body["detail"], "taken");
        let json = (
            StatusCode::BAD_REQUEST,
            axum::Json(serde_json::json!({"error": "x"})),
        )
            .into_response();
        let response = plain_errors_as_problems(json).await;
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
        let ok = (StatusCode::OK, "plain success").into_response();
        let response = plain_errors_as_problems(ok).await;
        assert!(response.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/plain"));
    }
}
