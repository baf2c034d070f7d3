//! The `/v1` resource API: records, applications' workflow, search, and who am I.
//!
//! Every handler takes a [`Caller`], so no route under `/v1` answers without a valid bearer token
//! (the extractor authenticates, applies the per-caller rate limit and works out what the caller
//! may see). Mutations go through [`mutation`], which handles `Idempotency-Key` the same way for
//! every route.

pub mod applications;
pub mod areas;
pub mod consent;
pub mod documents;
pub mod duplicates;
pub mod errors;
pub mod form_rules;
pub mod limits;
pub mod liveness;
pub mod notify;
pub mod outbox;
pub mod programme_rules;
pub mod records;
pub mod review;
pub mod revocations;
pub mod staff;
pub mod sync;
pub mod write;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::access::{self, Caller};
use crate::auth::Principal;
use crate::problem::{Problem, ProblemKind};
use crate::state::AppState;
use crate::storage::{IdempotencyClaim, StoredResponse};

pub use errors::ApiError;

/// Header naming the registrant an agent acts for; recorded in the audit trail.
pub const ON_BEHALF_OF: &str = "doorstep-on-behalf-of";
/// Header set on a response replayed for a repeated `Idempotency-Key`.
pub const REPLAYED: &str = "idempotent-replayed";
/// Longest accepted `Idempotency-Key`.
const MAX_IDEMPOTENCY_KEY: usize = 255;

impl FromRequestParts<AppState> for Caller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        // The transfer routes' middleware has authenticated the request already.
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        let principal = Principal::from_request_parts(parts, state).await?;
        state
            .limiter
            .check(&principal.actor_id())
            .map_err(IntoResponse::into_response)?;
        let caller = access::resolve(
            state.storage.as_ref(),
            principal,
            state.auth.individual_id_type(),
        )
        .await
        .map_err(|e| ApiError::from(e).into_response())?;
        revocations::check(state, &caller, parts)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(caller)
    }
}

/// What a mutating request brings besides its body: its idempotency key, if any.
pub struct Mutation {
    pub claim: Option<IdempotencyClaim>,
}

/// Read `Idempotency-Key` and replay a remembered response. Fails (ending the handler) when the
/// request must not run: a replay, or a key reused for a different request.
pub async fn mutation(
    state: &AppState,
    caller: &Caller,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    body: &[u8],
    success: StatusCode,
) -> Result<Mutation, ApiError> {
    let Some(key) = headers.get(doorstep_domain::api::headers::IDEMPOTENCY_KEY) else {
        return Ok(Mutation { claim: None });
    };
    let key = key
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= MAX_IDEMPOTENCY_KEY)
        .ok_or_else(|| {
            Problem::new(
                ProblemKind::BadRequest,
                format!("Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} visible ASCII characters, e.g. a UUID."),
            )
        })?;
    let mut hash = Sha256::new();
    hash.update(method.as_str());
    hash.update(b" ");
    hash.update(path);
    hash.update(b"\n");
    hash.update(body);
    let claim = IdempotencyClaim {
        scope: caller.actor(),
        key: key.to_owned(),
        fingerprint: hex::encode(hash.finalize()),
        status: success.as_u16(),
        response: None,
    };
    match state
        .storage
        .idempotent_response(&claim.scope, &claim.key)
        .await
    {
        Ok(Some(previous)) => Err(ApiError::answer(replay(&claim, previous))),
        Ok(None) => Ok(Mutation { claim: Some(claim) }),
        Err(e) => Err(e.into()),
    }
}

/// The remembered response, or 422 when the key came with a different request.
pub fn replay(claim: &IdempotencyClaim, previous: StoredResponse) -> Response {
    if previous.fingerprint != claim.fingerprint {
        return Problem::new(
            ProblemKind::IdempotencyKeyReused,
            "This Idempotency-Key was already used for a different request. Use a new key for a new request.",
        )
        .into_response();
    }
    let status = StatusCode::from_u16(previous.status).unwrap_or(StatusCode::OK);
    let mut body = previous.body;
    let notice: Vec<doorstep_domain::duplicates::Match> = body
        .as_object_mut()
        .and_then(|o| o.remove(STORED_NOTICE))
        .and_then(|n| serde_json::from_value(n).ok())
        .unwrap_or_default();
    let mut response = record_response(status, &body);
    add_notice(&mut response, &notice);
    response
        .headers_mut()
        .insert(REPLAYED, HeaderValue::from_static("true"));
    response
}

/// Where a stored answer keeps the duplicate check's notice (see [`write::commit`]): `$` starts
/// no field of any record.
pub const STORED_NOTICE: &str = "$possible_duplicates";

/// Tell the caller what the duplicate check found, if anything
/// ([`doorstep_domain::api::headers::POSSIBLE_DUPLICATES`]).
pub fn add_notice(response: &mut Response, notice: &[doorstep_domain::duplicates::Match]) {
    if notice.is_empty() {
        return;
    }
    match HeaderValue::from_str(&crate::duplicates::header_value(notice)) {
        Ok(value) => {
            response
                .headers_mut()
                .insert(doorstep_domain::api::headers::POSSIBLE_DUPLICATES, value);
        }
        Err(e) => tracing::warn!(error = %e, "duplicate notice not sent: not a header value"),
    }
}

/// A record as JSON with its revision as the `ETag`.
pub fn record_response(status: StatusCode, body: &serde_json::Value) -> Response {
    let mut response = (status, axum::Json(body)).into_response();
    if let Some(rev) = body.get("rev").and_then(serde_json::Value::as_u64) {
        if let Ok(etag) = HeaderValue::from_str(&format!("\"{rev}\"")) {
            response.headers_mut().insert(header::ETAG, etag);
        }
    }
    response
}

/// A page size from a query: `default` when absent, refused (400) outside 1 to `max`.
pub fn page_limit(limit: Option<u32>, default: u32, max: u32) -> Result<u32, ApiError> {
    let limit = limit.unwrap_or(default);
    if (1..=max).contains(&limit) {
        Ok(limit)
    } else {
        Err(ApiError::new(
            ProblemKind::BadRequest,
            format!("limit must be between 1 and {max}."),
        ))
    }
}

/// The revision named by `If-Match`: `"3"`, `W/"3"` or `3`.
pub fn if_match(headers: &HeaderMap) -> Result<Option<u64>, ApiError> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or("").trim();
    let text = text.strip_prefix("W/").unwrap_or(text).trim_matches('"');
    text.parse::<u64>().map(Some).map_err(|_| {
        ApiError::new(
            ProblemKind::BadRequest,
            "If-Match must be the record's revision as sent in its ETag, e.g. \"3\".",
        )
    })
}
