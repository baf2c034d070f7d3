//! The gazetteer: the administrative areas an address may name (issue: "address with the
//! office's administrative areas"). `GET /v1/areas` gives a caller their part of it (an agent:
//! their area, its ancestors and its subtree; everyone else: all), `PUT /v1/areas` lets an admin
//! replace it whole, and [`check_addresses`] holds every write of an address to it.
//!
//! Not paged, on purpose: a device keeps its whole part offline for the area picker and checks
//! addresses against it, so it needs all of it, and all of one version. Pages fetched across a
//! replacement would mix two gazetteers under no single ETag. The size is bounded instead: a
//! gazetteer holds at most [`MAX_AREAS`] areas (refused on `PUT`), so every answer is bounded
//! too, and the ETag lets a device skip the download when nothing changed.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use doorstep_domain::gazetteer::{
    check_admin_areas, validate_gazetteer, Area, AreaList, MAX_AREAS,
};
use doorstep_domain::validate::ValidationErrors;
use doorstep_domain::Address;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

use super::ApiError;
use crate::access::Caller;
use crate::auth::Role;
use crate::problem::{Problem, ProblemKind};
use crate::resources::{BodyError, Typed};
use crate::state::AppState;
use crate::storage::{AreaLoad, StorageError, Store, Visibility};

/// Largest `PUT /v1/areas` body: [`MAX_AREAS`] areas with long names and deep codes.
pub const MAX_AREAS_BYTES: usize = 16 * 1024 * 1024;

/// The caller's part of the gazetteer.
#[utoipa::path(get, path = "/v1/areas", tag = "records",
    params(("If-None-Match" = Option<String>, Header, nullable = false,
            description = "The ETag of the list the device holds: answered 304 when it is still the caller's list")),
    responses((status = 200, body = AreaList, description = "Agents: their area, its ancestors and its subtree; everyone else: the whole gazetteer. Ordered by level, then code; at most 50,000 areas; empty when none was loaded",
               headers(("ETag" = String, description = "Changes whenever this caller's list changes"))),
              (status = 304, description = "Unchanged since the ETag sent in If-None-Match",
               headers(("ETag" = String, description = "The list's ETag, as sent"))),
              (status = 500, description = "The database holds more areas than the registry serves (50,000); an administrator replaces the gazetteer with PUT /v1/areas", body = Problem, content_type = "application/problem+json"),
              crate::openapi::SignedInErrors),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let within = match &caller.visibility {
        Visibility::Area(area) => Some(area.as_str()),
        _ => None,
    };
    let items = read(state.storage.as_ref(), within).await?;
    let list = AreaList { items };
    let etag = etag_of(&list);
    if not_modified(&headers, &etag) {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response());
    }
    Ok((StatusCode::OK, [(header::ETAG, etag)], Json(list)).into_response())
}

/// Replace the whole gazetteer.
#[utoipa::path(put, path = "/v1/areas", tag = "records", request_body = AreaList,
    responses((status = 204, description = "Replaced, in one transaction; addresses written from now on are checked against it",
               headers(("ETag" = String, description = "The new gazetteer's ETag (what GET answers an administrator)"))),
              (status = 400, description = "Not a list of areas (not JSON, a repeated or unknown field, a wrong type)", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "Only administrators replace the gazetteer", body = Problem, content_type = "application/problem+json"),
              (status = 413, description = "The body is larger than 16 MiB", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "Areas that break a rule, every one named in `errors` by index and field (`items[3].parent`): code format, unique codes, a parent in the same list one level up whose code the child's extends, level 1 without parent, levels 1 to 6, a name, lengths, at most 50,000 areas. Nothing was changed", body = Problem, content_type = "application/problem+json"),
              crate::openapi::SignedInErrors),
    security(("bearer" = [])))]
pub async fn replace(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> Result<Response, ApiError> {
    if caller.role() != Role::Admin {
        return Err(ApiError::forbidden(
            "Only registry administrators replace the list of areas.",
        ));
    }
    let AreaList { items } =
        doorstep_domain::strict_json::from_slice(&body).map_err(|e| {
            ApiError::new(
                ProblemKind::BadRequest,
                format!("Send {{\"items\": [{{\"code\": \"KE.30\", \"parent\": null, \"level\": 1, \"name\": \"Kisumu\"}}, …]}}: {e}."),
            )
        })?;
    validate_gazetteer(&items)
        .map_err(|errors| ApiError::from(BodyError::Invalid(errors.errors)))?;
    let etag = replace_all(state.storage.as_ref(), &caller.actor(), items).await?;
    Ok((StatusCode::NO_CONTENT, [(header::ETAG, etag)]).into_response())
}

/// Replace the gazetteer with `items` (checked already) as `actor`, keeping who did it, when,
/// and what (its SHA-256, which is also the ETag it is served with) in its audit trail.
pub(crate) async fn replace_all(
    store: &dyn Store,
    actor: &str,
    mut items: Vec<Area>,
) -> Result<HeaderValue, StorageError> {
    sort(&mut items);
    let list = AreaList { items };
    let etag = etag_of(&list);
    let load = AreaLoad {
        id: Uuid::now_v7(),
        loaded_by: actor.to_owned(),
        loaded_at: OffsetDateTime::now_utc(),
        areas: list.items.len(),
        sha256: etag
            .to_str()
            .unwrap_or_default()
            .trim_matches('"')
            .to_owned(),
    };
    store.replace_areas(&list.items, &load).await?;
    // The operator's log line; the audit trail is admin_area_loads.
    tracing::warn!(by = %load.loaded_by, areas = load.areas, sha256 = %load.sha256, "gazetteer replaced");
    Ok(etag)
}

/// Hold the addresses of a record being written to the gazetteer: each address's areas name
/// known codes, with the gazetteer's level and name, each the parent of the next. An empty
/// gazetteer accepts any. Called by [`super::write::prepare`], so REST and sync push alike.
///
/// An edit that leaves the stored areas as they were is not held to a gazetteer loaded since:
/// a phone number changed on a device must not be refused for an address the office recorded
/// before.
pub async fn check_addresses(
    store: &dyn Store,
    old: Option<&Typed>,
    typed: &Typed,
) -> Result<(), ApiError> {
    // Most writes name no area: no query for them.
    let Some(address) = address_of(typed).filter(|a| !a.admin_areas.is_empty()) else {
        return Ok(());
    };
    if old.and_then(address_of).map(|a| &a.admin_areas) == Some(&address.admin_areas) {
        return Ok(());
    }
    let codes: Vec<String> = address.admin_areas.iter().map(|a| a.code.clone()).collect();
    let (known, any) = store.areas_named(&codes).await?;
    let mut errors = ValidationErrors::new();
    errors.nest(
        "address",
        check_admin_areas(&address.admin_areas, !any, |code| {
            known.iter().find(|a| a.code == code)
        }),
    );
    if errors.is_empty() {
        return Ok(());
    }
    Err(BodyError::Invalid(errors.errors).into())
}

/// The address of a record that has one.
fn address_of(typed: &Typed) -> Option<&Address> {
    match typed {
        Typed::Group(group) => group.address.as_ref(),
        Typed::Contact(contact) => contact.address.as_ref(),
        _ => None,
    }
}

/// The gazetteer (or the part of it within `within`), in its one order; a database holding
/// more than the registry serves is a problem for the administrator, never a silent cut.
async fn read(store: &dyn Store, within: Option<&str>) -> Result<Vec<Area>, ApiError> {
    let mut items = store.areas(within, MAX_AREAS + 1).await?;
    if items.len() > MAX_AREAS {
        tracing::error!(
            "admin_areas holds more than {MAX_AREAS} areas; replace the gazetteer with PUT /v1/areas"
        );
        return Err(ApiError::from(Problem::new(
            ProblemKind::Internal,
            format!("The registry's list of areas holds more than {MAX_AREAS}, more than it serves. An administrator must replace it with a smaller one (PUT /v1/areas)."),
        )));
    }
    sort(&mut items);
    Ok(items)
}

/// Level, then code, byte by byte: the same on both databases, so the ETag is too.
fn sort(items: &mut [Area]) {
    items.sort_by(|a, b| (a.level, a.code.as_bytes()).cmp(&(b.level, b.code.as_bytes())));
}

/// A strong ETag: the SHA-256 of the list as answered, so it changes exactly when the caller's
/// list does (an agent's part may stay the same while another county's changes).
fn etag_of(list: &AreaList) -> HeaderValue {
    let body = serde_json::to_vec(list).expect("areas serialise");
    HeaderValue::from_str(&format!("\"{}\"", hex::encode(Sha256::digest(&body))))
        .expect("hex is a header value")
}

/// Whether `If-None-Match` names `etag` (or is `*`); a weak comparison, as RFC 9110 asks for
/// this header.
fn not_modified(headers: &HeaderMap, etag: &HeaderValue) -> bool {
    let ours = etag.to_str().unwrap_or_default();
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim())
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == ours)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn area(code: &str, level: u8) -> Area {
        Area {
            code: code.into(),
            parent: None,
            level,
            name: code.into(),
        }
    }

    #[test]
    fn the_order_and_the_etag_do_not_depend_on_how_rows_came() {
        let mut a = vec![area("KE.31", 1), area("KE.30.1", 2), area("KE.30", 1)];
        let mut b = vec![area("KE.30.1", 2), area("KE.30", 1), area("KE.31", 1)];
        sort(&mut a);
        sort(&mut b);
        assert_eq!(a[0].code, "KE.30");
        assert_eq!(a[2].code, "KE.30.1");
        assert_eq!(
            etag_of(&AreaList { items: a.clone() }),
            etag_of(&AreaList { items: b })
        );
        a.pop();
        assert_ne!(
            etag_of(&AreaList { items: a }),
            etag_of(&AreaList::default())
        );
    }

    #[test]
    fn if_none_match_is_compared_weakly_and_in_lists() {
        let etag = HeaderValue::from_static("\"abc\"");
        let with = |value: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(header::IF_NONE_MATCH, HeaderValue::from_static(value));
            h
        };
        assert!(not_modified(&with("\"abc\""), &etag));
        assert!(not_modified(&with("W/\"abc\""), &etag));
        assert!(not_modified(&with("\"x\", \"abc\""), &etag));
        assert!(not_modified(&with("*"), &etag));
        assert!(!not_modified(&with("\"abd\""), &etag));
        assert!(!not_modified(&HeaderMap::new(), &etag));
    }
}
