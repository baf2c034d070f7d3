//! The tus endpoints under `/v1/uploads`, as an axum router to merge into the main one.
//!
//! Handlers only parse headers and shape responses; the protocol's rules live in [`Uploads`].

use axum::body::Body;
use axum::extract::{FromRef, FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{head, post};
use axum::{Json, Router};
use doorstep_domain::api::{headers, paths};
use uuid::Uuid;

use super::metadata::{parse_checksum, parse_metadata, HeaderError};
use super::{Append, UploadError, UploadInfo, UploadOwner, UploadStatus, Uploads};
use crate::problem::{Problem, ProblemKind};

/// The only tus version spoken.
pub const TUS_VERSION: &str = headers::TUS_VERSION;
/// The tus extensions supported.
pub const TUS_EXTENSIONS: &str = "creation,termination,expiration,checksum";
/// Media type of PATCH bodies.
pub const OFFSET_OCTET_STREAM: &str = headers::OFFSET_OCTET_STREAM;
/// Problem type of a request in another tus version (HTTP 412).
pub const TUS_VERSION_PROBLEM: &str = "/problems/unsupported-tus-version";

const TUS_RESUMABLE: HeaderName = HeaderName::from_static("tus-resumable");
const TUS_VERSION_H: HeaderName = HeaderName::from_static("tus-version");
const TUS_EXTENSION: HeaderName = HeaderName::from_static("tus-extension");
const TUS_MAX_SIZE: HeaderName = HeaderName::from_static("tus-max-size");
const TUS_CHECKSUM_ALGORITHM: HeaderName = HeaderName::from_static("tus-checksum-algorithm");
const UPLOAD_LENGTH: HeaderName = HeaderName::from_static("upload-length");
const UPLOAD_OFFSET: HeaderName = HeaderName::from_static("upload-offset");
const UPLOAD_METADATA: HeaderName = HeaderName::from_static("upload-metadata");
const UPLOAD_EXPIRES: HeaderName = HeaderName::from_static("upload-expires");
const UPLOAD_CHECKSUM: HeaderName = HeaderName::from_static("upload-checksum");
const UPLOAD_DEFER_LENGTH: HeaderName = HeaderName::from_static("upload-defer-length");
/// `sha256:<hex>` of a finished upload's blob.
pub const DOORSTEP_BLOB: HeaderName = HeaderName::from_static("doorstep-blob");
/// Sniffed media type of a finished upload.
pub const DOORSTEP_BLOB_TYPE: HeaderName = HeaderName::from_static("doorstep-blob-type");

/// The bytes of a PATCH, for the OpenAPI document.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct UploadBytes(pub Vec<u8>);

/// The upload routes, for a router whose state holds an [`Uploads`] (`Uploads: FromRef<S>`).
///
/// Every route expects the caller's [`UploadOwner`] in the request extensions (the
/// authentication middleware's job) and answers 401 without it; `OPTIONS` is open, it only
/// describes the server. A layer checks `Tus-Resumable` and adds it to every response.
pub fn upload_routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Uploads: FromRef<S>,
{
    Router::new()
        .route(paths::UPLOADS, post(create_upload).options(options_uploads))
        .route(
            paths::UPLOAD,
            head(head_upload)
                .get(get_upload)
                .patch(patch_upload)
                .delete(delete_upload),
        )
        .layer(middleware::from_fn(tus_resumable))
}

/// Refuse tus requests in another protocol version; stamp every response with ours.
async fn tus_resumable(request: Request, next: Next) -> Response {
    // OPTIONS is how a client discovers the version; GET is this API's JSON view, not tus.
    let is_tus = !matches!(*request.method(), Method::OPTIONS | Method::GET);
    let version = request.headers().get(&TUS_RESUMABLE);
    let mut response =
        if is_tus && version.map(HeaderValue::as_bytes) != Some(TUS_VERSION.as_bytes()) {
            let detail = match version {
                Some(v) => format!(
                "This server speaks tus {TUS_VERSION}, not {}; send Tus-Resumable: {TUS_VERSION}.",
                String::from_utf8_lossy(v.as_bytes())
            ),
                None => format!("Send Tus-Resumable: {TUS_VERSION} with every upload request."),
            };
            let mut response = Problem {
                type_uri: TUS_VERSION_PROBLEM.into(),
                title: "Unsupported tus version".into(),
                status: StatusCode::PRECONDITION_FAILED.as_u16(),
                detail,
                errors: None,
                current: None,
            }
            .into_response();
            response
                .headers_mut()
                .insert(TUS_VERSION_H, HeaderValue::from_static(TUS_VERSION));
            response
        } else {
            next.run(request).await
        };
    response
        .headers_mut()
        .insert(TUS_RESUMABLE, HeaderValue::from_static(TUS_VERSION));
    response
}

/// The caller, from the [`UploadOwner`] extension; 401 problem without it.
pub struct Owner(pub UploadOwner);

impl<S: Send + Sync> FromRequestParts<S> for Owner {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<UploadOwner>()
            .cloned()
            .map(Owner)
            .ok_or_else(|| {
                Problem::new(
                    ProblemKind::Unauthenticated,
                    "Sign in before uploading documents.",
                )
            })
    }
}

fn upload_id(id: &str) -> Result<Uuid, UploadError> {
    id.parse().map_err(|_| UploadError::NotFound)
}

fn bad_request(detail: impl Into<String>) -> Problem {
    Problem::new(ProblemKind::BadRequest, detail)
}

impl From<HeaderError> for Problem {
    fn from(error: HeaderError) -> Self {
        bad_request(error.0)
    }
}

/// A header holding a non-negative decimal integer (no sign, no spaces), as tus requires.
fn u64_header(headers: &HeaderMap, name: &HeaderName) -> Result<Option<u64>, HeaderError> {
    let Some(value) = headers.get(name) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|v| v.parse().ok())
        .map(Some)
        .ok_or_else(|| HeaderError(format!("{name} must be a non-negative integer.")))
}

fn text_header<'a>(
    headers: &'a HeaderMap,
    name: &HeaderName,
) -> Result<Option<&'a str>, HeaderError> {
    headers
        .get(name)
        .map(|v| {
            v.to_str()
                .map_err(|_| HeaderError(format!("{name} must be ASCII.")))
        })
        .transpose()
}

fn http_date(t: std::time::SystemTime) -> HeaderValue {
    HeaderValue::from_str(&httpdate::fmt_http_date(t)).expect("HTTP dates are ASCII")
}

/// Headers describing where an upload stands (HEAD and PATCH responses).
fn status_headers(status: &UploadStatus, headers: &mut HeaderMap) {
    headers.insert(UPLOAD_OFFSET, status.offset.into());
    headers.insert(UPLOAD_EXPIRES, http_date(status.expires));
    if let Some(done) = &status.completed {
        if let Ok(v) = HeaderValue::from_str(&format!("sha256:{}", done.sha256)) {
            headers.insert(DOORSTEP_BLOB, v);
        }
        if let Ok(v) = HeaderValue::from_str(&done.mime_type) {
            headers.insert(DOORSTEP_BLOB_TYPE, v);
        }
    }
}

/// What uploads this server accepts (tus discovery).
#[utoipa::path(
    options,
    path = "/v1/uploads",
    tag = "documents",
    responses((status = 204, description = "tus capabilities", headers(
        ("Tus-Version" = String, description = "Protocol versions spoken: `1.0.0`"),
        ("Tus-Resumable" = String, description = "`1.0.0`"),
        ("Tus-Extension" = String, description = "`creation,termination,expiration,checksum`"),
        ("Tus-Max-Size" = u64, description = "Largest Upload-Length accepted, in bytes"),
        ("Tus-Checksum-Algorithm" = String, description = "`sha256`")
    )))
)]
pub async fn options_uploads(State(uploads): State<Uploads>) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let h = response.headers_mut();
    h.insert(TUS_VERSION_H, HeaderValue::from_static(TUS_VERSION));
    h.insert(TUS_EXTENSION, HeaderValue::from_static(TUS_EXTENSIONS));
    h.insert(TUS_MAX_SIZE, uploads.config().max_size.into());
    h.insert(TUS_CHECKSUM_ALGORITHM, HeaderValue::from_static("sha256"));
    response
}

/// Start a resumable upload of a document (tus `creation`).
///
/// `Upload-Metadata` must carry `sha256` (hex SHA-256 of the whole file, base64-encoded as tus
/// metadata values are) and may carry `filename` and `content_type`. Then PATCH the bytes to the
/// `Location` returned.
#[utoipa::path(
    post,
    path = "/v1/uploads",
    tag = "documents",
    params(
        ("Tus-Resumable" = String, Header, pattern = r"^1\.0\.0$", description = "`1.0.0`"),
        ("Upload-Length" = u64, Header, description = "Size of the whole file in bytes"),
        ("Upload-Metadata" = String, Header, description = "tus metadata: `sha256 <base64 of hex digest>`, optionally `filename <base64>`, `content_type <base64>`")
    ),
    responses(
        (status = 201, description = "Upload created", headers(
            ("Location" = String, description = "`/v1/uploads/{id}`: where to PATCH the bytes"),
            ("Upload-Expires" = String, description = "When the unfinished upload is discarded (HTTP date)")
        )),
        (status = 400, description = "Missing or malformed Upload-Length or Upload-Metadata", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Tus-Resumable missing or another tus version", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Larger than Tus-Max-Size", body = Problem, content_type = "application/problem+json"),
        crate::openapi::SignedInErrors
    ),
    security(("bearer" = []))
)]
pub async fn create_upload(
    State(uploads): State<Uploads>,
    Owner(owner): Owner,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    if headers.contains_key(&UPLOAD_DEFER_LENGTH) {
        return Err(bad_request(
            "Upload-Defer-Length is not supported: send Upload-Length, the size of the file.",
        ));
    }
    let length = u64_header(&headers, &UPLOAD_LENGTH)?
        .ok_or_else(|| bad_request("Send Upload-Length: the size of the file in bytes."))?;
    let metadata = text_header(&headers, &UPLOAD_METADATA)?.ok_or_else(|| {
        bad_request("Send Upload-Metadata with `sha256`: the hex SHA-256 of the whole file.")
    })?;
    let announced = parse_metadata(metadata)?;
    let status = uploads
        .create(&owner, length, announced, Some(metadata.to_owned()))
        .await?;
    let mut response = StatusCode::CREATED.into_response();
    let h = response.headers_mut();
    h.insert(
        header::LOCATION,
        HeaderValue::from_str(&paths::upload(&status.id.to_string())).expect("ASCII"),
    );
    h.insert(UPLOAD_EXPIRES, http_date(status.expires));
    Ok(response)
}

/// How much of an upload the server has (tus resume).
///
/// Waits for a PATCH still running on the same upload; one stalled for a few seconds is stopped
/// and keeps what it received, so the offset returned is where to resume.
#[utoipa::path(
    head,
    path = "/v1/uploads/{id}",
    tag = "documents",
    params(
        ("id" = Uuid, Path, description = "Upload id from the creation's Location"),
        ("Tus-Resumable" = String, Header, pattern = r"^1\.0\.0$", description = "`1.0.0`")
    ),
    responses(
        (status = 200, description = "Upload state", headers(
            ("Upload-Offset" = u64, description = "Bytes received; resume from here"),
            ("Upload-Length" = u64, description = "Size of the whole file"),
            ("Upload-Expires" = String, description = "When the upload is discarded (HTTP date)"),
            ("Doorstep-Blob" = String, description = "Finished uploads only: `sha256:<hex>`"),
            ("Doorstep-Blob-Type" = String, description = "Finished uploads only: the sniffed media type")
        )),
        (status = 404, description = "No such upload of the caller's, or expired (no body: HEAD)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Tus-Resumable missing or another tus version (no body: HEAD)", body = Problem, content_type = "application/problem+json"),
        crate::openapi::SignedInErrors
    ),
    security(("bearer" = []))
)]
pub async fn head_upload(
    State(uploads): State<Uploads>,
    Owner(owner): Owner,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let status = uploads.status(&owner, upload_id(&id)?).await?;
    let mut response = StatusCode::OK.into_response();
    let h = response.headers_mut();
    status_headers(&status, h);
    h.insert(UPLOAD_LENGTH, status.length.into());
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(v) = status
        .metadata_header
        .as_deref()
        .and_then(|m| HeaderValue::from_str(m).ok())
    {
        h.insert(UPLOAD_METADATA, v);
    }
    Ok(response)
}

/// Append bytes to an upload (tus core, `checksum` extension).
///
/// `Upload-Offset` must be the server's offset. If the connection drops, the bytes received are
/// kept (unless the request carried `Upload-Checksum`, which cannot be verified on part of a
/// body). After the last byte the whole file's SHA-256 is checked against the one announced and
/// the type sniffed from the content must be accepted; the response then carries
/// `Doorstep-Blob` and `Doorstep-Blob-Type`.
#[utoipa::path(
    patch,
    path = "/v1/uploads/{id}",
    tag = "documents",
    params(
        ("id" = Uuid, Path, description = "Upload id from the creation's Location"),
        ("Tus-Resumable" = String, Header, pattern = r"^1\.0\.0$", description = "`1.0.0`"),
        ("Upload-Offset" = u64, Header, description = "The server's current offset (from HEAD)"),
        ("Upload-Checksum" = Option<String>, Header, nullable = false, description = "`sha256 <base64 digest of this request's body>`")
    ),
    request_body(content = UploadBytes, content_type = "application/offset+octet-stream"),
    responses(
        (status = 204, description = "Bytes stored", headers(
            ("Upload-Offset" = u64, description = "The new offset"),
            ("Upload-Expires" = String, description = "When the upload is discarded (HTTP date)"),
            ("Doorstep-Blob" = String, description = "Once finished: `sha256:<hex>`"),
            ("Doorstep-Blob-Type" = String, description = "Once finished: the sniffed media type")
        )),
        (status = 400, description = "Malformed Upload-Offset or Upload-Checksum", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such upload of the caller's, or expired", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Tus-Resumable missing or another tus version", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Upload-Offset is not the server's offset, or another request is writing", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "More bytes than Upload-Length leaves", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Wrong Content-Type, or the file's type is not accepted (upload discarded)", body = Problem, content_type = "application/problem+json"),
        (status = 460, description = "Upload-Checksum mismatch (bytes not kept), or the file's SHA-256 is not the announced one (upload discarded)", body = Problem, content_type = "application/problem+json"),
        crate::openapi::SignedInErrors
    ),
    security(("bearer" = []))
)]
pub async fn patch_upload(
    State(uploads): State<Uploads>,
    Owner(owner): Owner,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    let id = upload_id(&id)?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !content_type.eq_ignore_ascii_case(OFFSET_OCTET_STREAM) {
        return Err(Problem::new(
            ProblemKind::UnsupportedMediaType,
            format!("Send upload bytes with Content-Type: {OFFSET_OCTET_STREAM}."),
        ));
    }
    let offset = u64_header(&headers, &UPLOAD_OFFSET)?
        .ok_or_else(|| bad_request("Send Upload-Offset: the offset HEAD returned."))?;
    let checksum = text_header(&headers, &UPLOAD_CHECKSUM)?
        .map(parse_checksum)
        .transpose()?;
    let append = Append {
        offset,
        content_length: u64_header(&headers, &header::CONTENT_LENGTH)?,
        checksum,
    };
    let status = uploads
        .append(&owner, id, append, body.into_data_stream())
        .await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    status_headers(&status, response.headers_mut());
    Ok(response)
}

/// Abandon an upload (tus `termination`). A finished upload's stored file is kept.
#[utoipa::path(
    delete,
    path = "/v1/uploads/{id}",
    tag = "documents",
    params(
        ("id" = Uuid, Path, description = "Upload id"),
        ("Tus-Resumable" = String, Header, pattern = r"^1\.0\.0$", description = "`1.0.0`")
    ),
    responses(
        (status = 204, description = "Upload removed"),
        (status = 404, description = "No such upload of the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Tus-Resumable missing or another tus version", body = Problem, content_type = "application/problem+json"),
        crate::openapi::SignedInErrors
    ),
    security(("bearer" = []))
)]
pub async fn delete_upload(
    State(uploads): State<Uploads>,
    Owner(owner): Owner,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    uploads.terminate(&owner, upload_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An upload's state as JSON (not part of tus; for apps and support).
#[utoipa::path(
    get,
    path = "/v1/uploads/{id}",
    tag = "documents",
    params(("id" = Uuid, Path, description = "Upload id")),
    responses(
        (status = 200, description = "Upload state", body = UploadInfo),
        (status = 404, description = "No such upload of the caller's, or expired", body = Problem, content_type = "application/problem+json"),
        crate::openapi::SignedInErrors
    ),
    security(("bearer" = []))
)]
pub async fn get_upload(
    State(uploads): State<Uploads>,
    Owner(owner): Owner,
    Path(id): Path<String>,
) -> Result<Json<UploadInfo>, Problem> {
    Ok(Json(uploads.info(&owner, upload_id(&id)?).await?))
}
