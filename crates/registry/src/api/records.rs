//! CRUD, list and search for every collection under `/v1`, with one set of handlers.
//!
//! Writes are conditional: a create must use a new id, a change or delete must carry the
//! revision it was made on (`If-Match`), and a stale one gets 412 with the current record so the
//! client can merge. Deletes are soft (the record stays, marked), so they reach offline devices.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use axum::Json;
use doorstep_domain::api::{paths, CallerRole, ListParams, Me, Page};
use doorstep_domain::sync::MutationOp;
use doorstep_domain::RecordKind;
use serde::Deserialize;
use time::OffsetDateTime;
use uuid::Uuid;

use super::write::{commit, prepare, WriteRequest};
use super::{if_match, mutation, record_response, ApiError};
use crate::access::Caller;
use crate::auth::Role;
use crate::problem::{Problem, ProblemKind};
use crate::resources::{self, BodyError, Collection, Typed};
use crate::state::AppState;
use crate::storage::{AuditEntry, Expect, ListQuery, StoredRecord};

/// Default and largest page size.
const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 500;

fn collection(segment: &str) -> Result<Collection, ApiError> {
    Collection::parse(segment).ok_or_else(|| {
        ApiError::new(
            ProblemKind::NotFound,
            format!(
                "There is no collection {segment:?}. Collections: {}.",
                Collection::ALL
                    .iter()
                    .map(|c| c.segment())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    })
}

fn record_id(text: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(text).map_err(|_| {
        ApiError::new(
            ProblemKind::BadRequest,
            format!("{text:?} is not a record id: ids are UUIDs like 0190b6a2-8a3e-7c1d-9f00-1234567890ab."),
        )
    })
}

fn json_body(body: &[u8]) -> Result<serde_json::Value, ApiError> {
    doorstep_domain::strict_json::to_value(body).map_err(|e| {
        ApiError::new(
            ProblemKind::BadRequest,
            format!("The body is not valid JSON ({e}). Send the record as a JSON object."),
        )
    })
}

/// A visible, live-or-deleted record of the collection, or 404.
async fn visible(
    state: &AppState,
    caller: &Caller,
    collection: Collection,
    id: Uuid,
) -> Result<StoredRecord, ApiError> {
    match state.storage.get(id).await? {
        Some(r) if r.kind == collection.kind() && caller.visibility.allows(r.kind, &r.index) => {
            Ok(r)
        }
        _ => Err(ApiError::not_found(collection.kind().as_str(), id)),
    }
}

/// List one collection.
#[utoipa::path(get, path = "/v1/{collection}", tag = "records",
    description = "This operation serves every collection; the same route is also described once per collection (`/v1/individuals`, `/v1/contacts`, …) with that collection's record type.",
    params(("collection" = Collection, Path, description = "Which records"), ListParams),
    responses((status = 200, description = "The records the caller may see, a page at a time", body = Page),
              (status = 400, description = "A malformed or unknown query parameter, or `limit` out of range", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "There is no such collection", body = Problem, content_type = "application/problem+json"),
              crate::openapi::SignedInErrors),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(segment): Path<String>,
    params: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Page>, ApiError> {
    let collection = collection(&segment)?;
    let Query(params) =
        params.map_err(|e| ApiError::new(ProblemKind::BadRequest, e.body_text()))?;
    let limit = super::page_limit(params.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
    let mut query = ListQuery::new(collection.kind(), caller.visibility.clone(), limit);
    query.after = params.after;
    query.owner_id = params.owner;
    query.group_id = params.group;
    query.parent_id = params.parent;
    query.text = params
        .q
        .filter(|q| !q.trim().is_empty())
        .map(|q| q.trim().to_owned());
    query.include_deleted = params.include_deleted.unwrap_or(false);
    Ok(Json(page(state.storage.list(&query).await?, limit)))
}

fn page(records: Vec<StoredRecord>, limit: u32) -> Page {
    let next_after = (records.len() as u32 == limit)
        .then(|| records.last().map(|r| r.id))
        .flatten();
    Page {
        items: records.into_iter().map(|r| r.body).collect(),
        next_after,
    }
}

/// Read one record.
#[utoipa::path(get, path = "/v1/{collection}/{id}", tag = "records",
    description = "This operation serves every collection; the same route is also described once per collection (`/v1/individuals`, `/v1/contacts`, …) with that collection's record type.",
    params(("collection" = Collection, Path), ("id" = Uuid, Path)),
    responses((status = 200, description = "The record", body = crate::openapi::AnyRecord,
               headers(("ETag" = String, description = "The record's revision, e.g. `\"3\"`: send it back as If-Match"))),
              (status = 400, description = "The id is not a UUID", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No such record, or one the caller may not see (the same answer, so ids cannot be probed)", body = Problem, content_type = "application/problem+json"),
              crate::openapi::SignedInErrors),
    security(("bearer" = [])))]
pub async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path((segment, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let collection = collection(&segment)?;
    let record = visible(&state, &caller, collection, record_id(&id)?).await?;
    Ok(record_response(StatusCode::OK, &record.body))
}

/// Create a record. The id is the client's (minted offline); reusing one gets 409.
#[utoipa::path(post, path = "/v1/{collection}", tag = "records",
    description = "This operation serves every collection; the same route is also described once per collection (`/v1/individuals`, `/v1/contacts`, …) with that collection's record type.",
    params(("collection" = Collection, Path),
           ("Idempotency-Key" = Option<String>, Header, nullable = false, min_length = 1, max_length = 255, pattern = "^[!-~]+$", description = "Retry-safe key: a retry with the same key and body gets the original answer"),
           ("Doorstep-On-Behalf-Of" = Option<Uuid>, Header, nullable = false, description = "Agents: the registrant served")),
    request_body(content = crate::openapi::AnyRecord, description = "The record, as in the domain model; its `id` is minted by the client (UUIDv7)"),
    responses((status = 201, description = "Created", body = crate::openapi::AnyRecord,
               headers(("Location" = String, description = "`/v1/{collection}/{id}`"),
                       ("ETag" = String, description = "The record's revision"),
                       ("Doorstep-Possible-Duplicates" = String, description = "Individuals, to agents, staff and admins: people already registered (any area) whom the registry's duplicate check finds likely to be this one, a JSON array of `Match` (id, score, reasons; best first). Absent when it found nobody. Never a refusal: the record is saved"))),
              (status = 400, description = "Not JSON, not a record of this collection (wrong shape, unknown fields), or a malformed header", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "The caller's role may not create these records, or set these fields, or file the record there", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "There is no such collection", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "A record with this id exists, or a value that must be unique is taken", body = Problem, content_type = "application/problem+json"),
              (status = 413, description = "The body is larger than 2 MiB", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "The record breaks a rule of the model (`errors` lists the fields), or the Idempotency-Key was used for another request", body = Problem, content_type = "application/problem+json"),
              crate::openapi::SignedInErrors),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    method: Method,
    uri: Uri,
    Path(segment): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let collection = collection(&segment)?;
    let m = mutation(
        &state,
        &caller,
        &method,
        uri.path(),
        &headers,
        &body,
        StatusCode::CREATED,
    )
    .await?;
    let json = json_body(&body)?;
    if !json.is_object() {
        return Err(BodyError::Shape("the body must be a JSON object".into()).into());
    }
    let id = json
        .get("id")
        .and_then(serde_json::Value::as_str)
        .and_then(|text| text.parse::<Uuid>().ok())
        .ok_or_else(|| {
            ApiError::new(
                ProblemKind::BadRequest,
                "Give the record its id: a UUID the client mints, e.g. 0190b6a2-8a3e-7c1d-9f00-1234567890ab.",
            )
        })?;
    let request = WriteRequest {
        kind: collection.kind(),
        id,
        op: MutationOp::Create,
        body: json,
        current: None,
        decision: false,
        step_up: false,
    };
    let write = prepare(&state, &caller, request).await?;
    let link_me = caller.role() == Role::Citizen
        && caller.me.is_none()
        && collection.kind() == RecordKind::Individual;
    let mut response = commit(
        &state,
        &caller,
        &headers,
        vec![write],
        m.claim,
        StatusCode::CREATED,
    )
    .await?;
    if link_me {
        // A citizen's first individual record is their own registration.
        state
            .storage
            .link_citizen(
                &Caller::link_key(&caller.principal),
                id,
                OffsetDateTime::now_utc(),
            )
            .await?;
    }
    if let Ok(location) = HeaderValue::from_str(&paths::record(&collection.segment(), id)) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// Replace a record, conditionally on its revision.
#[utoipa::path(put, path = "/v1/{collection}/{id}", tag = "records",
    description = "This operation serves every collection; the same route is also described once per collection (`/v1/individuals`, `/v1/contacts`, …) with that collection's record type.",
    params(("collection" = Collection, Path), ("id" = Uuid, Path),
           ("If-Match" = String, Header, pattern = r#"^(W/)?"?[0-9]+"?$"#, description = "The revision the change was made on (the ETag read)"),
           ("Idempotency-Key" = Option<String>, Header, nullable = false, min_length = 1, max_length = 255, pattern = "^[!-~]+$", description = "Retry-safe key"),
           ("Doorstep-On-Behalf-Of" = Option<Uuid>, Header, nullable = false, description = "Agents: the registrant served")),
    request_body(content = crate::openapi::AnyRecord, description = "The whole record as it should be; its `id` must be the one in the URL"),
    responses((status = 200, description = "Updated", body = crate::openapi::AnyRecord,
               headers(("ETag" = String, description = "The record's new revision"),
                       ("Doorstep-Possible-Duplicates" = String, description = "Individuals whose names, birth date, IDs or `not_duplicate_of` changed, to agents, staff and admins: the duplicate check's findings, as on create"))),
              (status = 400, description = "A malformed id, If-Match or body, or a body whose id is not the URL's", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "The caller may not change this record or these fields", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No such record, or one the caller may not see", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "A value that must be unique is taken", body = Problem, content_type = "application/problem+json"),
              (status = 412, description = "Stale: the record changed since that revision; `current` holds it now", body = Problem, content_type = "application/problem+json"),
              (status = 413, description = "The body is larger than 2 MiB", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "The record breaks a rule of the model, or the Idempotency-Key was used for another request", body = Problem, content_type = "application/problem+json"),
              (status = 428, description = "If-Match is missing", body = Problem, content_type = "application/problem+json"),
              crate::openapi::SignedInErrors),
    security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    method: Method,
    uri: Uri,
    Path((segment, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let Conditional {
        collection,
        id,
        rev,
        claim,
    } = conditional(
        &state, &caller, &method, &uri, &segment, &id, &headers, &body,
    )
    .await?;
    let json = json_body(&body)?;
    let old = visible(&state, &caller, collection, id).await?;
    let request = WriteRequest {
        kind: collection.kind(),
        id,
        op: MutationOp::Update,
        body: json,
        current: Some(&old),
        decision: false,
        step_up: false,
    };
    let mut write = prepare(&state, &caller, request).await?;
    write.expect = Expect::Rev(rev);
    commit(
        &state,
        &caller,
        &headers,
        vec![write],
        claim,
        StatusCode::OK,
    )
    .await
}

/// Mark a record deleted, conditionally on its revision.
#[utoipa::path(delete, path = "/v1/{collection}/{id}", tag = "records",
    description = "This operation serves every collection; the same route is also described once per collection (`/v1/individuals`, `/v1/contacts`, …) with that collection's record type.",
    params(("collection" = Collection, Path), ("id" = Uuid, Path),
           ("If-Match" = String, Header, pattern = r#"^(W/)?"?[0-9]+"?$"#, description = "The revision the deletion was decided on"),
           ("Idempotency-Key" = Option<String>, Header, nullable = false, min_length = 1, max_length = 255, pattern = "^[!-~]+$", description = "Retry-safe key"),
           ("Doorstep-On-Behalf-Of" = Option<Uuid>, Header, nullable = false, description = "Agents: the registrant served")),
    responses((status = 200, description = "The record, marked deleted", body = crate::openapi::AnyRecord,
               headers(("ETag" = String, description = "The record's new revision"))),
              (status = 400, description = "A malformed id, If-Match or header", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "The caller may not delete this record", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No such record, or one the caller may not see", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "The record may not be deleted in its state (only a draft application may)", body = Problem, content_type = "application/problem+json"),
              (status = 412, description = "Stale: the record changed since that revision; `current` holds it now", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "The stored record no longer passes the model's rules, or the Idempotency-Key was used for another request", body = Problem, content_type = "application/problem+json"),
              (status = 428, description = "If-Match is missing", body = Problem, content_type = "application/problem+json"),
              crate::openapi::SignedInErrors),
    security(("bearer" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    method: Method,
    uri: Uri,
    Path((segment, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Conditional {
        collection,
        id,
        rev,
        claim,
    } = conditional(&state, &caller, &method, &uri, &segment, &id, &headers, b"").await?;
    let old = visible(&state, &caller, collection, id).await?;
    let request = WriteRequest {
        kind: collection.kind(),
        id,
        op: MutationOp::Delete,
        body: serde_json::Value::Null,
        current: Some(&old),
        decision: false,
        step_up: false,
    };
    let mut write = prepare(&state, &caller, request).await?;
    write.expect = Expect::Rev(rev);
    commit(
        &state,
        &caller,
        &headers,
        vec![write],
        claim,
        StatusCode::OK,
    )
    .await
}

/// The audit trail of a record.
#[utoipa::path(get, path = "/v1/{collection}/{id}/history", tag = "records",
    description = "This operation serves every collection; the same route is also described once per collection (`/v1/individuals`, `/v1/contacts`, …) with that collection's record type.",
    params(("collection" = Collection, Path), ("id" = Uuid, Path)),
    responses((status = 200, description = "Every change of the record, oldest first", body = Vec<AuditEntry>),
              (status = 400, description = "The id is not a UUID", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "Citizens do not see who at the office changed a record", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No such record, or one the caller may not see", body = Problem, content_type = "application/problem+json"),
              crate::openapi::SignedInErrors),
    security(("bearer" = [])))]
pub async fn history(
    State(state): State<AppState>,
    caller: Caller,
    Path((segment, id)): Path<(String, String)>,
) -> Result<Json<Vec<AuditEntry>>, ApiError> {
    let collection = collection(&segment)?;
    let record = visible(&state, &caller, collection, record_id(&id)?).await?;
    if caller.role() == Role::Citizen {
        // Who at the office touched a record is staff information.
        return Err(ApiError::forbidden(
            "The change history is for registry staff and agents.",
        ));
    }
    Ok(Json(state.storage.audit_trail(record.id).await?))
}

/// What a conditional change (PUT, DELETE) starts from.
struct Conditional {
    collection: Collection,
    id: Uuid,
    /// The revision the change was made on (`If-Match`, required).
    rev: u64,
    claim: Option<crate::storage::IdempotencyClaim>,
}

/// Check the URL and `If-Match` of a conditional change and handle its `Idempotency-Key`.
#[allow(clippy::too_many_arguments)]
async fn conditional(
    state: &AppState,
    caller: &Caller,
    method: &Method,
    uri: &Uri,
    segment: &str,
    id: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Conditional, ApiError> {
    let collection = collection(segment)?;
    let id = record_id(id)?;
    let rev = required_if_match(headers)?;
    let m = mutation(
        state,
        caller,
        method,
        uri.path(),
        headers,
        body,
        StatusCode::OK,
    )
    .await?;
    Ok(Conditional {
        collection,
        id,
        rev,
        claim: m.claim,
    })
}

fn required_if_match(headers: &HeaderMap) -> Result<u64, ApiError> {
    if_match(headers)?.ok_or_else(|| {
        ApiError::new(
            ProblemKind::PreconditionRequired,
            "Send If-Match with the revision you changed (the ETag you read), so a newer change is never overwritten.",
        )
    })
}

/// Find individuals by name, ID number or phone number.
#[utoipa::path(get, path = "/v1/search", tag = "records",
    params(SearchParams),
    responses((status = 200, description = "Individuals the caller may see (one page, no `next_after`)", body = crate::openapi::IndividualPage),
              (status = 400, description = "`q` missing, shorter than 2 or longer than 200 characters, or an unknown or malformed parameter", body = Problem, content_type = "application/problem+json"),
              crate::openapi::SignedInErrors),
    security(("bearer" = [])))]
pub async fn search(
    State(state): State<AppState>,
    caller: Caller,
    params: Result<Query<SearchParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Page>, ApiError> {
    let Query(params) =
        params.map_err(|e| ApiError::new(ProblemKind::BadRequest, e.body_text()))?;
    let q = params.q.trim();
    if q.chars().count() < 2 || q.len() > 200 {
        return Err(ApiError::new(
            ProblemKind::BadRequest,
            "Search for 2 to 200 characters of a name, an ID number or a phone number (+254…).",
        ));
    }
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let mut found: Vec<StoredRecord> = Vec::new();
    let mut add = |records: Vec<StoredRecord>| {
        for r in records {
            if !found.iter().any(|f| f.id == r.id) {
                found.push(r);
            }
        }
    };
    let individuals = |text: Option<String>, key: Option<String>| {
        let mut query = ListQuery::new(RecordKind::Individual, caller.visibility.clone(), limit);
        query.text = text;
        query.key = key;
        query
    };
    if q.starts_with('+') {
        let mut contacts = ListQuery::new(RecordKind::Contact, caller.visibility.clone(), limit);
        contacts.key = Some(format!("phone:{}", q.replace([' ', '-'], "")));
        for contact in state.storage.list(&contacts).await? {
            if let Some(owner) = contact.index.owner_id {
                if let Some(person) = state.storage.get(owner).await? {
                    if caller.visibility.allows(person.kind, &person.index) && !person.deleted {
                        add(vec![person]);
                    }
                }
            }
        }
    } else {
        add(state
            .storage
            .list(&individuals(None, Some(format!("regid:{q}"))))
            .await?);
        add(state
            .storage
            .list(&individuals(Some(q.to_owned()), None))
            .await?);
    }
    found.truncate(limit as usize);
    Ok(Json(Page {
        items: found.into_iter().map(|r| r.body).collect(),
        next_after: None,
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    /// A name (or part of one), an ID number, or a phone number in international form; 2 to
    /// 200 characters once trimmed.
    #[param(min_length = 2, max_length = 200)]
    pub q: String,
    /// Most individuals to return (default 50); values outside 1 to 500 are taken as the
    /// nearest of the two.
    #[param(nullable = false)]
    pub limit: Option<u32>,
}

/// The signed-in caller.
#[utoipa::path(get, path = "/v1/me", tag = "records",
    responses((status = 200, description = "Who the registry takes the caller for", body = Me),
              crate::openapi::SignedInErrors),
    security(("bearer" = [])))]
pub async fn me(State(state): State<AppState>, caller: Caller) -> Json<Me> {
    Json(Me {
        actor: caller.actor(),
        role: match caller.role() {
            Role::Citizen => CallerRole::Citizen,
            Role::Agent => CallerRole::Agent,
            Role::Staff => CallerRole::Staff,
            Role::Admin => CallerRole::Admin,
        },
        area: caller.principal.area.clone(),
        individual_id: caller.me,
        consent_required: caller.role() == Role::Agent && state.agents.require_consent,
        areas: caller.principal.areas.clone(),
    })
}

/// Kept for the transitions module: the visible record of a kind, typed.
pub async fn load_typed(
    state: &AppState,
    caller: &Caller,
    collection: Collection,
    id: Uuid,
) -> Result<(StoredRecord, Typed), ApiError> {
    let record = visible(state, caller, collection, id).await?;
    let (typed, _) = resources::parse(collection.kind(), record.body.clone()).map_err(|e| {
        ApiError::new(
            ProblemKind::Internal,
            format!("stored record unreadable: {e:?}"),
        )
    })?;
    Ok((record, typed))
}
