//! The staff directory (issue 17): which identity holds which role (agent, staff, admin) and
//! areas, whatever its identity provider says. Admins grant, change and revoke; staff and admins
//! read. The role a request gets is worked out from it on every request (`auth/roles.rs`), so a
//! change counts from the caller's next request.
//!
//! A revoked entry is kept (who revoked it and when) and every grant, change and revocation is
//! also a row of the append-only `staff_changes` table: the directory is its own audit trail.
//! The registry never loses its last administrator through the directory (409).

use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use doorstep_domain::api::{StaffChange, StaffEntry, StaffGrant, StaffPage, StaffQuery, StaffRole};
use doorstep_domain::timestamp;
use time::OffsetDateTime;
use uuid::Uuid;

use super::ApiError;
use crate::access::Caller;
use crate::auth::{Authenticator, Role, StaffDirectory};
use crate::problem::{Problem, ProblemKind};
use crate::state::AppState;
use crate::storage::{StaffRefusal, StaffWrite, Store};

/// Default and largest page size.
const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 500;
/// Longest subject or e-mail address kept.
const MAX_IDENTITY_CHARS: usize = 255;

/// The store as the authenticator's [`StaffDirectory`].
pub struct StoreDirectory(pub Arc<dyn Store>);

#[async_trait::async_trait]
impl StaffDirectory for StoreDirectory {
    async fn live_grant(
        &self,
        issuer: &str,
        subject: &str,
        verified_email: Option<&str>,
    ) -> Result<Option<(Role, Vec<String>)>, String> {
        let entry = self
            .0
            .staff_live(issuer, subject, verified_email)
            .await
            .map_err(|e| e.to_string())?;
        Ok(entry.map(|e| (role_of(e.role), e.areas)))
    }
}

/// The registry role a directory role gives.
pub fn role_of(role: StaffRole) -> Role {
    match role {
        StaffRole::Agent => Role::Agent,
        StaffRole::Staff => Role::Staff,
        StaffRole::Admin => Role::Admin,
    }
}

/// Check and tidy a grant before it is kept (the API and `doorstep-registry admin grant` alike):
/// a trusted issuer that may grant the role, exactly one of subject and e-mail, areas that suit
/// the role. The message says what to send instead.
pub fn check_grant(auth: &Authenticator, grant: StaffGrant) -> Result<StaffGrant, String> {
    check_role_for_issuer(auth, &grant.issuer, grant.role)?;
    let clean = |what: &str, value: &str| -> Result<String, String> {
        let value = value.trim();
        if value.is_empty()
            || value.chars().count() > MAX_IDENTITY_CHARS
            || value.chars().any(char::is_control)
        {
            return Err(format!(
                "`{what}` must be 1 to {MAX_IDENTITY_CHARS} characters on one line."
            ));
        }
        Ok(value.to_owned())
    };
    let (subject, email) = match (&grant.subject, &grant.email) {
        (Some(subject), None) => (Some(clean("subject", subject)?), None),
        (None, Some(email)) => {
            let email = clean("email", email)?.to_lowercase();
            if !doorstep_domain::validate::is_valid_email(&email) {
                return Err(format!("`email` {email:?} is not an e-mail address."));
            }
            (None, Some(email))
        }
        _ => {
            return Err(
                "Give exactly one of `subject` (the person's sub at the provider) and `email` (matched only when the provider marks it verified)."
                    .into(),
            )
        }
    };
    grant.role.check_areas(&grant.areas)?;
    Ok(StaffGrant {
        subject,
        email,
        ..grant
    })
}

/// The issuer must be one this registry trusts, and allowed to grant the role, or the entry
/// would never take effect.
fn check_role_for_issuer(
    auth: &Authenticator,
    issuer: &str,
    role: StaffRole,
) -> Result<(), String> {
    match auth.issuer_grants(issuer) {
        None => Err(format!(
            "`issuer` {issuer:?} is not an issuer this registry trusts ([auth] issuer or [[auth.issuers]]); use one of: {}.",
            auth.issuers().join(", ")
        )),
        Some(grants) if !grants.contains(&role_of(role)) => Err(format!(
            "The issuer {issuer:?} may not grant the role {role} (its [[auth.issuers]] grants); sign the person in through a provider that may, or change that setting."
        )),
        Some(_) => Ok(()),
    }
}

/// The directory, a page at a time (grant order).
#[utoipa::path(get, path = "/v1/staff", tag = "records", params(StaffQuery),
    responses((status = 200, body = StaffPage, description = "Entries in grant order; revoked ones only when asked"),
              (status = 400, description = "`limit` out of range, a malformed `after`, or an unknown parameter", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "Only registry staff and admins see the staff directory", body = Problem, content_type = "application/problem+json"),
              crate::openapi::SignedInErrors),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    params: Result<Query<StaffQuery>, QueryRejection>,
) -> Result<Json<StaffPage>, ApiError> {
    if !matches!(caller.role(), Role::Staff | Role::Admin) {
        return Err(ApiError::forbidden(
            "The staff directory is seen by registry staff and administrators.",
        ));
    }
    let Query(params) =
        params.map_err(|e| ApiError::new(ProblemKind::BadRequest, e.body_text()))?;
    let limit = super::page_limit(params.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
    let mut items = state
        .storage
        .staff_list(
            params.after,
            limit + 1,
            params.include_revoked.unwrap_or(false),
        )
        .await?;
    let more = items.len() > limit as usize;
    items.truncate(limit as usize);
    let next_after = if more {
        items.last().map(|e| e.id)
    } else {
        None
    };
    Ok(Json(StaffPage { items, next_after }))
}

/// Give an identity a role.
#[utoipa::path(post, path = "/v1/staff", tag = "records", request_body = StaffGrant,
    responses((status = 201, body = StaffEntry, description = "Kept; the person has the role from their next request"),
              (status = 400, description = "Not exactly one of `subject` and `email`, an issuer this registry does not trust or that may not grant the role, or areas that do not suit the role", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "Only admins change the staff directory", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "This identity already has a live entry: change that one", body = Problem, content_type = "application/problem+json"),
              crate::openapi::SignedInErrors),
    security(("bearer" = [])))]
pub async fn grant(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Json<StaffGrant>, JsonRejection>,
) -> Result<(StatusCode, Json<StaffEntry>), ApiError> {
    admin_only(&caller)?;
    let Json(request) = body.map_err(|e| ApiError::new(ProblemKind::BadRequest, e.body_text()))?;
    let request = check_grant(&state.auth, request).map_err(bad_request)?;
    let entry = new_entry(request, caller.actor());
    let entry = apply(state.storage.as_ref(), StaffWrite::Grant(entry)).await?;
    Ok((StatusCode::CREATED, Json(entry)))
}

/// Change an entry's role and areas.
#[utoipa::path(put, path = "/v1/staff/{id}", tag = "records", request_body = StaffChange,
    params(("id" = Uuid, Path, description = "The entry's id")),
    responses((status = 200, body = StaffEntry, description = "Changed; it counts from the person's next request"),
              (status = 400, description = "A malformed id or body, areas that do not suit the role, or a role the entry's issuer may not grant", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "Only admins change the staff directory", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No entry has this id", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "The entry was revoked, or the change would leave no administrator", body = Problem, content_type = "application/problem+json"),
              crate::openapi::SignedInErrors),
    security(("bearer" = [])))]
pub async fn change(
    State(state): State<AppState>,
    caller: Caller,
    id: Result<Path<Uuid>, axum::extract::rejection::PathRejection>,
    body: Result<Json<StaffChange>, JsonRejection>,
) -> Result<Json<StaffEntry>, ApiError> {
    admin_only(&caller)?;
    let Path(id) = id.map_err(|e| ApiError::new(ProblemKind::BadRequest, e.body_text()))?;
    let Json(request) = body.map_err(|e| ApiError::new(ProblemKind::BadRequest, e.body_text()))?;
    request
        .role
        .check_areas(&request.areas)
        .map_err(bad_request)?;
    let current = state
        .storage
        .staff_entry(id)
        .await?
        .ok_or_else(|| refusal(StaffRefusal::NotFound))?;
    check_role_for_issuer(&state.auth, &current.issuer, request.role).map_err(bad_request)?;
    let write = StaffWrite::Change {
        id,
        role: request.role,
        areas: request.areas,
        by: caller.actor(),
        at: now(),
    };
    Ok(Json(apply(state.storage.as_ref(), write).await?))
}

/// Revoke an entry: kept as the trail, no longer gives a role.
#[utoipa::path(delete, path = "/v1/staff/{id}", tag = "records",
    params(("id" = Uuid, Path, description = "The entry's id")),
    responses((status = 200, body = StaffEntry, description = "Revoked (the entry as kept); the person loses the role from their next request"),
              (status = 400, description = "A malformed id", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "Only admins change the staff directory", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No entry has this id", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "The entry was revoked already, or revoking it would leave no administrator", body = Problem, content_type = "application/problem+json"),
              crate::openapi::SignedInErrors),
    security(("bearer" = [])))]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    id: Result<Path<Uuid>, axum::extract::rejection::PathRejection>,
) -> Result<Json<StaffEntry>, ApiError> {
    admin_only(&caller)?;
    let Path(id) = id.map_err(|e| ApiError::new(ProblemKind::BadRequest, e.body_text()))?;
    let write = StaffWrite::Revoke {
        id,
        by: caller.actor(),
        at: now(),
    };
    Ok(Json(apply(state.storage.as_ref(), write).await?))
}

/// A new entry for a checked grant, by `actor`, now.
pub fn new_entry(grant: StaffGrant, actor: String) -> StaffEntry {
    StaffEntry {
        id: Uuid::now_v7(),
        issuer: grant.issuer,
        subject: grant.subject,
        email: grant.email,
        role: grant.role,
        areas: grant.areas,
        granted_by: actor,
        granted_at: now(),
        changed_by: None,
        changed_at: None,
        revoked_by: None,
        revoked_at: None,
    }
}

/// Write, log who did what (ids and roles only: no names), and turn a refusal into its answer.
async fn apply(store: &dyn Store, write: StaffWrite) -> Result<StaffEntry, ApiError> {
    let entry = store.staff_write(write.clone()).await?.map_err(refusal)?;
    let (action, by) = match &write {
        StaffWrite::Grant(e) => ("granted", &e.granted_by),
        StaffWrite::Change { by, .. } => ("changed", by),
        StaffWrite::Revoke { by, .. } => ("revoked", by),
    };
    tracing::warn!(entry = %entry.id, role = %entry.role, by = %by, "staff directory entry {action}");
    Ok(entry)
}

fn refusal(refusal: StaffRefusal) -> ApiError {
    let kind = match refusal {
        StaffRefusal::NotFound => ProblemKind::NotFound,
        StaffRefusal::Revoked | StaffRefusal::AlreadyListed(_) | StaffRefusal::LastAdmin => {
            ProblemKind::Conflict
        }
    };
    let mut detail = refusal.to_string();
    if let Some(first) = detail.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    ApiError::new(kind, format!("{detail}."))
}

fn admin_only(caller: &Caller) -> Result<(), ApiError> {
    if caller.role() == Role::Admin {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "Only registry administrators grant, change and revoke staff roles.",
        ))
    }
}

fn bad_request(message: String) -> ApiError {
    ApiError::new(ProblemKind::BadRequest, message)
}

fn now() -> String {
    timestamp::format(OffsetDateTime::now_utc())
}
