//! Document bytes: who may upload (the tus routes in [`crate::uploads`]) and the download of a
//! document's file.
//!
//! A document's metadata is an ordinary record; its bytes live in the content-addressed blob
//! store under the record's `sha256`. The metadata may arrive before the bytes (an offline
//! device syncs the record first and uploads after), so a download of a document whose bytes
//! have not arrived yet says so rather than failing vaguely.

use axum::body::Body;
use axum::extract::{FromRequestParts, Path, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use super::records::load_typed;
use super::ApiError;
use crate::access::Caller;
use crate::blobs::Sha256Hex;
use crate::problem::{Problem, ProblemKind};
use crate::resources::{Collection, Typed};
use crate::state::AppState;
use crate::uploads::UploadOwner;

/// Authenticate byte transfers: the caller's actor id owns their uploads. `OPTIONS` (tus
/// discovery) carries nothing personal and needs no token.
pub async fn upload_owner(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.method() == Method::OPTIONS {
        return next.run(request).await;
    }
    let (mut parts, body) = request.into_parts();
    let caller = match Caller::from_request_parts(&mut parts, &state).await {
        Ok(caller) => caller,
        Err(rejection) => return rejection,
    };
    parts.extensions.insert(UploadOwner(caller.actor()));
    parts.extensions.insert(caller);
    next.run(Request::from_parts(parts, body)).await
}

/// Download a document's file.
#[utoipa::path(get, path = "/v1/documents/{id}/content", tag = "documents",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The file, streamed as an attachment, in the document's `mime_type`",
               content((crate::uploads::http::UploadBytes = "application/pdf"),
                  (crate::uploads::http::UploadBytes = "image/png"),
                  (crate::uploads::http::UploadBytes = "image/jpeg"),
                  (crate::uploads::http::UploadBytes = "image/webp"),
                  (crate::uploads::http::UploadBytes = "image/tiff"),
                  (crate::uploads::http::UploadBytes = "image/heic"),
                  (crate::uploads::http::UploadBytes = "image/heif")),
               headers(("Content-Disposition" = String, description = "`attachment; filename=\"…\"`"),
                       ("ETag" = String, description = "`\"sha256:<hex>\"`"))),
              (status = 400, description = "The id is not a UUID", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No such document, or one the caller may not see", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "The file has not been uploaded yet", body = Problem, content_type = "application/problem+json"),
              crate::openapi::SignedInErrors),
    security(("bearer" = [])))]
pub async fn content(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<Response, ApiError> {
    let (stored, typed) = load_typed(&state, &caller, Collection::Documents, id).await?;
    let Typed::Document(document) = typed else {
        unreachable!("loaded from the documents collection")
    };
    let sha = Sha256Hex::parse(&document.sha256).map_err(|_| {
        ApiError::new(
            ProblemKind::Internal,
            "The document record has no valid checksum.",
        )
    })?;
    let unavailable = |e: crate::blobs::BlobError| {
        tracing::error!(error = %e, "blob store");
        ApiError::new(
            ProblemKind::Unavailable,
            "The document store did not answer; try again in a moment.",
        )
    };
    // Only content the document's creator uploaded is served. A record naming someone else's
    // file by its hash gets the same answer as one whose file has not arrived yet, so hashes
    // cannot be probed either.
    let blobs = state.uploads.blobs();
    let opened = match blobs
        .uploaded_by(&sha, &stored.index.creator)
        .await
        .map_err(unavailable)?
    {
        true => blobs.open(&sha).await.map_err(unavailable)?,
        false => None,
    };
    let Some((size, reader)) = opened else {
        return Err(ApiError::new(
            ProblemKind::Conflict,
            "The file of this document has not reached the registry yet; the device that captured it uploads it at its next sync.",
        ));
    };
    let mut response = Body::from_stream(tokio_util::io::ReaderStream::new(reader)).into_response();
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    let mime = HeaderValue::from_str(&document.mime_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    headers.insert(header::CONTENT_TYPE, mime);
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    // Always a download, never rendered inline: the bytes came from a device.
    let ascii: String = document
        .file_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_ ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{ascii}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    if let Ok(etag) = HeaderValue::from_str(&format!("\"sha256:{}\"", document.sha256)) {
        headers.insert(header::ETAG, etag);
    }
    Ok(response)
}
