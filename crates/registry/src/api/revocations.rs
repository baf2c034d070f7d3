//! Device handover and loss (issue 16). An admin revokes a field agent's device (by the id the
//! app sends in `Doorstep-Device`) or an agent's account (by actor id). From then on the
//! registry still takes what that device holds — sync push and document uploads, so nothing
//! typed in the village is lost — and refuses everything else with `/problems/revoked` and the
//! admin's reason. The app, pushing first and pulling after, meets the refusal at the pull and
//! wipes the agent's data on the device, telling the agent why and what could not be sent.
//!
//! The revocations table is the audit trail: never edited, never deleted.

use axum::extract::State;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::Json;
use doorstep_domain::api::{headers, paths, Revocation, RevocationList, RevocationRequest};
use doorstep_domain::timestamp;
use time::OffsetDateTime;
use uuid::Uuid;

use super::ApiError;
use crate::access::Caller;
use crate::auth::Role;
use crate::problem::{Problem, ProblemKind};
use crate::state::AppState;

/// The most revocations one list answers.
const LIST_LIMIT: u32 = 1000;
/// The longest reason kept (it is shown on the device).
const MAX_REASON_CHARS: usize = 500;

/// Refuse a revoked agent or device everything but sending what it holds.
pub async fn check(state: &AppState, caller: &Caller, parts: &Parts) -> Result<(), ApiError> {
    if caller.role() != Role::Agent {
        return Ok(());
    }
    let mut targets = vec![caller.actor()];
    if let Some(device) = parts
        .headers
        .get(headers::DEVICE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<Uuid>().ok())
    {
        targets.push(format!("device:{device}"));
    }
    let Some(revocation) = state.storage.revocation_of(&targets).await? else {
        return Ok(());
    };
    // What the device holds: its queued changes, their documents' bytes (tus: POST, HEAD,
    // PATCH), and the status moves it was asked to send.
    let path = parts.uri.path();
    let post = parts.method == axum::http::Method::POST;
    let sending = (post && path == paths::SYNC_PUSH)
        || path.starts_with(paths::UPLOADS)
        || (post && path.starts_with("/v1/applications/") && path.ends_with("/transitions"));
    if sending {
        return Ok(());
    }
    let what = if revocation.target.starts_with("device:") {
        "This device"
    } else {
        "This account"
    };
    Err(ApiError::new(
        ProblemKind::Revoked,
        format!(
            "{what} was withdrawn by the registry office on {}: {}. Its data is removed from the device; what it could still send has been sent.",
            &revocation.revoked_at[..10.min(revocation.revoked_at.len())],
            revocation.reason
        ),
    ))
}

/// Revoke a device or an agent's account.
#[utoipa::path(post, path = "/v1/revocations", tag = "records", request_body = RevocationRequest,
    responses((status = 201, body = Revocation, description = "Kept; the device or agent is refused from its next request on"),
              (status = 400, description = "Not exactly one of `device` and `agent`, a malformed agent id, or an empty or too long reason", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "Only admins revoke", body = Problem, content_type = "application/problem+json"),
              crate::openapi::SignedInErrors),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Json<RevocationRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<Revocation>), ApiError> {
    if caller.role() != Role::Admin {
        return Err(ApiError::forbidden(
            "Only registry administrators revoke devices and agents.",
        ));
    }
    let Json(request) = body.map_err(|e| ApiError::new(ProblemKind::BadRequest, e.body_text()))?;
    let bad = |message: &str| ApiError::new(ProblemKind::BadRequest, message.to_owned());
    let target = match (&request.device, &request.agent) {
        (Some(device), None) => format!("device:{device}"),
        (None, Some(agent)) => {
            let subject = agent.strip_prefix("agent:").unwrap_or("");
            if subject.is_empty() || agent.chars().any(char::is_control) || agent.len() > 300 {
                return Err(bad(
                    "`agent` is an agent's actor id, such as agent:wanjiru.",
                ));
            }
            agent.clone()
        }
        _ => return Err(bad("Give exactly one of `device` and `agent`.")),
    };
    let reason = request.reason.trim();
    if reason.is_empty()
        || reason.chars().count() > MAX_REASON_CHARS
        || reason.chars().any(char::is_control)
    {
        return Err(bad(&format!(
            "Give a reason of 1 to {MAX_REASON_CHARS} characters on one line; the agent reads it on the device."
        )));
    }
    let revocation = Revocation {
        id: Uuid::now_v7(),
        target,
        reason: reason.to_owned(),
        revoked_by: caller.actor(),
        revoked_at: timestamp::format(OffsetDateTime::now_utc()),
    };
    state.storage.revoke(&revocation).await?;
    tracing::warn!(target = %revocation.target, by = %revocation.revoked_by, "revoked");
    Ok((StatusCode::CREATED, Json(revocation)))
}

/// Every revocation, newest first (the audit trail).
#[utoipa::path(get, path = "/v1/revocations", tag = "records",
    responses((status = 200, body = RevocationList, description = "Newest first, at most 1000"),
              (status = 403, description = "Only staff and admins see revocations", body = Problem, content_type = "application/problem+json"),
              crate::openapi::SignedInErrors),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<RevocationList>, ApiError> {
    if !matches!(caller.role(), Role::Staff | Role::Admin) {
        return Err(ApiError::forbidden(
            "Revocations are seen by registry staff and administrators.",
        ));
    }
    Ok(Json(RevocationList {
        items: state.storage.revocations(LIST_LIMIT).await?,
    }))
}
