//! The application workflow: draft → submitted → under review → more information needed →
//! approved / rejected. Status changes only here (never through PUT), each with who and why, and
//! each tells the applicant through a notification written in the same transaction.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use doorstep_domain::api::Transition;
use doorstep_domain::notification::NotificationKind;
use doorstep_domain::{
    Actor, ActorId, ActorRole, ApplicationStatus, Notification, RecordId, RecordKind, RecordMeta,
};
use time::OffsetDateTime;
use uuid::Uuid;

use super::records::load_typed;
use super::write::commit;
use super::{if_match, mutation, ApiError};
use crate::access::Caller;
use crate::auth::Role;
use crate::problem::{Problem, ProblemKind};
use crate::resources::{Collection, Typed};
use crate::state::AppState;
use crate::storage::{Expect, RecordIndex, Write};

/// Actor id the registry writes its own notifications as.
pub const SYSTEM_ACTOR: &str = "system:registry";

/// Move an application to another status.
#[utoipa::path(post, path = "/v1/applications/{id}/transitions", tag = "applications",
    params(("id" = Uuid, Path),
           ("If-Match" = Option<String>, Header, nullable = false, pattern = r#"^(W/)?"?[0-9]+"?$"#, description = "The revision the decision was made on; a stale one gets 412"),
           ("Idempotency-Key" = Option<String>, Header, nullable = false, min_length = 1, max_length = 255, pattern = "^[!-~]+$", description = "Retry-safe key"),
           ("Doorstep-On-Behalf-Of" = Option<Uuid>, Header, nullable = false, description = "Agents: the registrant served")),
    request_body = Transition,
    responses((status = 200, description = "The application after the change", body = doorstep_domain::Application,
               headers(("ETag" = String, description = "The application's new revision"))),
              (status = 400, description = "A malformed id, body, If-Match or header", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "The caller may not move applications (administrators)", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No such application, or one the caller may not see", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "Not a move the workflow allows from here, or by this caller", body = Problem, content_type = "application/problem+json"),
              (status = 412, description = "Stale: the application changed since that revision; `current` holds it now", body = Problem, content_type = "application/problem+json"),
              (status = 413, description = "The body is larger than 2 MiB", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "Submitting answers that break the application's form version (`errors` names each answer as `data.<field key>`), or a `form_version` the programme does not have; or the Idempotency-Key was used for another request", body = Problem, content_type = "application/problem+json"),
              crate::openapi::SignedInErrors),
    security(("bearer" = [])))]
pub async fn transition(
    State(state): State<AppState>,
    caller: Caller,
    method: Method,
    uri: Uri,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: Transition = doorstep_domain::strict_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            ProblemKind::BadRequest,
            format!("Send {{\"to\": \"submitted\", \"note\": \"…\"}}: {e}."),
        )
    })?;
    let m = mutation(
        &state,
        &caller,
        &method,
        uri.path(),
        &headers,
        &body,
        StatusCode::OK,
    )
    .await?;
    let (stored, typed) = load_typed(&state, &caller, Collection::Applications, id).await?;
    let Typed::Application(mut application) = typed else {
        unreachable!("loaded from the applications collection")
    };
    if let Some(rev) = if_match(&headers)? {
        if rev != stored.rev {
            return Err(ApiError::from(
                Problem::new(
                    ProblemKind::StaleRevision,
                    format!("The application is at revision {}, not {rev}. Look at it again before deciding.", stored.rev),
                )
                .with_current(stored.body),
            ));
        }
    }
    let role = match caller.role() {
        Role::Citizen | Role::Agent => ActorRole::Applicant,
        Role::Staff => ActorRole::Reviewer,
        Role::Admin => {
            return Err(ApiError::forbidden(
                "Administrators manage programmes; applications are reviewed by staff.",
            ))
        }
    };
    let now = OffsetDateTime::now_utc();
    let from = application.status;
    application
        .transition(
            request.to,
            now,
            Actor::new(caller.actor(), role),
            request.note.clone(),
        )
        .map_err(|e| ApiError::new(ProblemKind::Conflict, e.to_string()))?;
    if request.to == ApplicationStatus::Submitted {
        application.data = super::form_rules::submission(&state, &application).await?;
    }

    let mut body_json = serde_json::to_value(&application).expect("domain records serialise");
    body_json["rev"] = stored.body["rev"].clone();
    let application_write = Write {
        kind: RecordKind::Application,
        id,
        expect: Expect::Rev(stored.rev),
        body: body_json,
        index: stored.index.clone(),
        deleted: false,
        duplicate_check: None,
    };
    let notice = notification_for(
        &application.programme_id,
        application.applicant_id,
        id,
        from,
        request.to,
        request.note,
        now,
    );
    let notice_write = Write {
        kind: RecordKind::Notification,
        id: *notice.meta.id.as_uuid(),
        expect: Expect::Absent,
        body: serde_json::to_value(&notice).expect("domain records serialise"),
        index: RecordIndex {
            owner_id: Some(*application.applicant_id.as_uuid()),
            area: stored.index.area.clone(),
            parent_id: Some(id),
            creator: SYSTEM_ACTOR.into(),
            ..RecordIndex::default()
        },
        deleted: false,
        duplicate_check: None,
    };
    commit(
        &state,
        &caller,
        &headers,
        vec![application_write, notice_write],
        m.claim,
        StatusCode::OK,
    )
    .await
}

/// The notification telling the applicant what happened, in plain words.
fn notification_for(
    _programme: &RecordId,
    applicant: RecordId,
    application: Uuid,
    from: ApplicationStatus,
    to: ApplicationStatus,
    note: Option<String>,
    at: OffsetDateTime,
) -> Notification {
    let (title, mut text) = match to {
        ApplicationStatus::Submitted if from == ApplicationStatus::MoreInformationNeeded => (
            "Your answers were sent",
            "We received the information you added. Your application is back with the office."
                .to_owned(),
        ),
        ApplicationStatus::Submitted => (
            "Application received",
            "We received your application. You will be told here when it has been reviewed."
                .to_owned(),
        ),
        ApplicationStatus::UnderReview => (
            "Application under review",
            "The office has started reviewing your application.".to_owned(),
        ),
        ApplicationStatus::MoreInformationNeeded => (
            "More information needed",
            "The office needs more information before deciding. Open the application to answer."
                .to_owned(),
        ),
        ApplicationStatus::Approved => (
            "Application approved",
            "Your application was approved.".to_owned(),
        ),
        ApplicationStatus::Rejected => (
            "Application not approved",
            "Your application was not approved.".to_owned(),
        ),
        ApplicationStatus::Draft => (
            "Application back to draft",
            "Your application is a draft again.".to_owned(),
        ),
    };
    if let Some(note) = note.filter(|n| !n.trim().is_empty()) {
        text.push_str("\n\n");
        text.push_str(note.trim());
    }
    Notification {
        meta: RecordMeta::new(
            RecordId::from_uuid(Uuid::now_v7()),
            at,
            ActorId::new(SYSTEM_ACTOR),
        ),
        recipient_id: applicant,
        kind: NotificationKind::ApplicationStatus,
        title: title.into(),
        body: text,
        related_record: Some(RecordId::from_uuid(application)),
        read_at: None,
        deadline: None,
    }
}
