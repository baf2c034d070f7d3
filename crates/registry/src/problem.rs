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
}

impl ProblemKind {
    pub fn type_uri(self) -> &'static str {
        match self {
            ProblemKind::NotFound => "/problems/not-found",
            ProblemKind::MethodNotAllowed => "/problems/method-not-allowed",
            ProblemKind::Unavailable => "/problems/unavailable",
        }
    }

    fn title(self) -> &'static str {
        match self {
            ProblemKind::NotFound => "Not found",
            ProblemKind::MethodNotAllowed => "Method not allowed",
            ProblemKind::Unavailable => "Service unavailable",
        }
    }

    fn status(self) -> StatusCode {
        match self {
            ProblemKind::NotFound => StatusCode::NOT_FOUND,
            ProblemKind::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ProblemKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
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
}

impl Problem {
    pub fn new(kind: ProblemKind, detail: impl Into<String>) -> Self {
        Problem {
            type_uri: kind.type_uri().to_owned(),
            title: kind.title().to_owned(),
            status: kind.status().as_u16(),
            detail: detail.into(),
        }
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
