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
use doorstep_domain::{FieldError, RecordKind};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{if_match, mutation, record_response, replay, ApiError, ON_BEHALF_OF};
use crate::access::{self, Caller};
use crate::auth::Role;
use crate::http::AppState;
use crate::problem::{Problem, ProblemKind};
use crate::resources::{self, BodyError, Collection, Typed};
use crate::storage::{
    AuditEntry, CommitError, Expect, ListQuery, StoredRecord, Write, WriteContext,
};

/// Default and largest page size.
const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 500;

/// A page of records.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Page {
    /// The records, ordered by id (ids are time-ordered UUIDv7, so oldest first).
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<serde_json::Value>,
    /// Pass as `after` to get the next page; absent on the last page.
    pub next_after: Option<Uuid>,
}

/// Filters of a list request.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// Cursor: only records after this id (the `next_after` of the previous page).
    pub after: Option<Uuid>,
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// Records about this individual.
    pub owner: Option<Uuid>,
    /// Records of this household.
    pub group: Option<Uuid>,
    /// Records hanging off this one (forms of a programme, documents of an application…).
    pub parent: Option<Uuid>,
    /// Name contains (case-insensitive).
    pub q: Option<String>,
    /// Include deleted records.
    pub include_deleted: Option<bool>,
}

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
    serde_json::from_slice(body).map_err(|e| {
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
    params(("collection" = Collection, Path, description = "Which records"), ListParams),
    responses((status = 200, body = Page), (status = 401, body = Problem)),
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
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::new(
            ProblemKind::BadRequest,
            format!("limit must be between 1 and {MAX_LIMIT}."),
        ));
    }
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
    params(("collection" = Collection, Path), ("id" = Uuid, Path)),
    responses((status = 200, description = "The record; its revision is the ETag"),
              (status = 404, body = Problem)),
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
    params(("collection" = Collection, Path),
           ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key"),
           ("Doorstep-On-Behalf-Of" = Option<Uuid>, Header, description = "Agents: the registrant served")),
    request_body(content = Object, description = "The record, as in the domain model"),
    responses((status = 201, description = "Created"), (status = 400, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)),
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
    let write = prepare(&state, &caller, collection.kind(), json, None, false).await?;
    let id = write.id;
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
    if let Ok(location) = HeaderValue::from_str(&format!("/v1/{}/{id}", collection.segment())) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// Replace a record, conditionally on its revision.
#[utoipa::path(put, path = "/v1/{collection}/{id}", tag = "records",
    params(("collection" = Collection, Path), ("id" = Uuid, Path),
           ("If-Match" = String, Header, description = "The revision the change was made on"),
           ("Idempotency-Key" = Option<String>, Header)),
    request_body(content = Object),
    responses((status = 200, description = "Updated"), (status = 412, body = Problem, description = "Stale: `current` holds the record now"),
              (status = 428, body = Problem)),
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
    let mut write = prepare(&state, &caller, collection.kind(), json, Some(&old), false).await?;
    if write.id != id {
        return Err(ApiError::new(
            ProblemKind::BadRequest,
            format!(
                "The body's id {} differs from the id in the URL {id}.",
                write.id
            ),
        ));
    }
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
    params(("collection" = Collection, Path), ("id" = Uuid, Path),
           ("If-Match" = String, Header), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, description = "The record, marked deleted"), (status = 412, body = Problem)),
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
    if collection.kind() == RecordKind::Application
        && old.body.get("status").and_then(|s| s.as_str()) != Some("draft")
    {
        return Err(ApiError::new(
            ProblemKind::Conflict,
            "Only a draft application can be deleted; a submitted one stays on record.",
        ));
    }
    let mut body = old.body.clone();
    let now = OffsetDateTime::now_utc();
    let stamp = serde_json::to_value(
        now.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
    )
    .unwrap_or_default();
    body["deleted_at"] = stamp.clone();
    body["updated_at"] = stamp;
    let mut write = prepare(&state, &caller, collection.kind(), body, Some(&old), true).await?;
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
    params(("collection" = Collection, Path), ("id" = Uuid, Path)),
    responses((status = 200, body = Vec<AuditEntry>), (status = 404, body = Problem)),
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

/// Check a new version of a record against the model, the access rules and the records it
/// points to, and turn it into a store write.
pub async fn prepare(
    state: &AppState,
    caller: &Caller,
    kind: RecordKind,
    json: serde_json::Value,
    old: Option<&StoredRecord>,
    deleting: bool,
) -> Result<Write, ApiError> {
    let role = caller.role();
    let allowed = if old.is_some() {
        access::may_write_kind(role, kind)
    } else {
        access::may_create_kind(role, kind)
    };
    if !allowed {
        return Err(ApiError::forbidden(
            format!(
                "A {role:?} account may not {} {} records.",
                if old.is_some() { "change" } else { "create" },
                kind.as_str()
            )
            .to_lowercase(),
        ));
    }
    let (typed, mut body) = resources::parse(kind, json)?;
    if let Some(old) = old {
        let (old_typed, _) = resources::parse(kind, old.body.clone()).map_err(|e| {
            ApiError::new(
                ProblemKind::Internal,
                format!("stored record unreadable: {e:?}"),
            )
        })?;
        access::protected_fields(role, Some(&old_typed), &typed).map_err(ApiError::forbidden)?;
        // Creation facts never change.
        for field in ["created_at", "created_by"] {
            body[field] = old.body[field].clone();
        }
    } else {
        access::protected_fields(role, None, &typed).map_err(ApiError::forbidden)?;
        body["created_by"] = serde_json::Value::String(caller.actor());
    }

    let mut referenced = Vec::new();
    let mut missing = Vec::new();
    for reference in typed.references() {
        match state.storage.get(reference.id).await? {
            Some(r)
                if reference.kinds.contains(&r.kind)
                    && !r.deleted
                    && caller.visibility.allows(r.kind, &r.index) =>
            {
                referenced.push(r.index)
            }
            _ => missing.push(FieldError {
                field: reference.field.into(),
                code: "not_found".into(),
                message: format!(
                    "There is no {} {} you can use here. Create it first, or check the id.",
                    reference
                        .kinds
                        .iter()
                        .map(|k| k.as_str())
                        .collect::<Vec<_>>()
                        .join(" or "),
                    reference.id
                ),
            }),
        }
    }
    if !missing.is_empty() {
        return Err(BodyError::Invalid(missing).into());
    }

    let new_area = match role {
        Role::Agent => caller.principal.area.clone(),
        _ => None,
    };
    let mut index = typed.index(&referenced, new_area);
    match old {
        Some(old) => {
            index.area = old.index.area.clone().or(index.area);
            index.creator = old.index.creator.clone();
        }
        None => index.creator = caller.actor(),
    }
    if !caller.visibility.allows(kind, &index) {
        return Err(ApiError::forbidden(match role {
            Role::Agent => "This record would be filed outside your assigned area.".to_owned(),
            _ => "You may only change your own records and your household's.".to_owned(),
        }));
    }
    Ok(Write {
        kind,
        id: typed.id(),
        expect: Expect::Absent,
        body,
        index,
        deleted: deleting,
    })
}

/// Commit and answer with the first record written (or the replayed answer).
pub async fn commit(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    writes: Vec<Write>,
    claim: Option<crate::storage::IdempotencyClaim>,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let on_behalf_of = on_behalf_of(state, caller, headers, &writes).await?;
    let ctx = WriteContext {
        actor: caller.actor(),
        on_behalf_of,
        at: OffsetDateTime::now_utc(),
        request_id: claim.as_ref().map(|c| c.key.clone()),
        idempotency: claim.clone(),
        merged: false,
    };
    match state.storage.commit(writes, &ctx).await {
        Ok(written) => {
            let first = written.first().expect("at least one write");
            tracing::info!(actor = %ctx.actor, kind = %first.kind, id = %first.id, rev = first.rev, "record written");
            Ok(record_response(status, &first.body))
        }
        Err(CommitError::Replay(previous)) => Ok(replay(
            claim.as_ref().expect("replay needs a claim"),
            previous,
        )),
        Err(e) => Err(e.into()),
    }
}

/// The registrant an agent acts for: the header if given (must be an individual the agent can
/// see), else whoever the record is about. Only agents act on behalf of someone.
pub(crate) async fn on_behalf_of(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    writes: &[Write],
) -> Result<Option<String>, ApiError> {
    if caller.role() != Role::Agent {
        return Ok(None);
    }
    if let Some(value) = headers.get(ON_BEHALF_OF) {
        let id = record_id(value.to_str().unwrap_or(""))?;
        return match state.storage.get(id).await? {
            Some(r)
                if r.kind == RecordKind::Individual
                    && caller.visibility.allows(r.kind, &r.index) =>
            {
                Ok(Some(id.to_string()))
            }
            _ => Err(ApiError::new(
                ProblemKind::BadRequest,
                format!("{ON_BEHALF_OF} names {id}, which is not an individual in your area."),
            )),
        };
    }
    Ok(writes
        .first()
        .and_then(|w| w.index.owner_id)
        .map(|id| id.to_string()))
}

/// Find individuals by name, ID number or phone number.
#[utoipa::path(get, path = "/v1/search", tag = "records",
    params(SearchParams),
    responses((status = 200, body = Page), (status = 400, body = Problem)),
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
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    /// A name (or part of one), an ID number, or a phone number in international form.
    pub q: String,
    pub limit: Option<u32>,
}

/// Who the caller is, as the registry sees them.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Me {
    pub actor: String,
    pub role: String,
    pub area: Option<String>,
    /// A citizen's own individual record, once linked.
    pub individual_id: Option<Uuid>,
}

/// The signed-in caller.
#[utoipa::path(get, path = "/v1/me", tag = "records",
    responses((status = 200, body = Me), (status = 401, body = Problem)),
    security(("bearer" = [])))]
pub async fn me(caller: Caller) -> Json<Me> {
    Json(Me {
        actor: caller.actor(),
        role: format!("{:?}", caller.role()).to_lowercase(),
        area: caller.principal.area.clone(),
        individual_id: caller.me,
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
