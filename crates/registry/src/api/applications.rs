//! The application workflow: draft → submitted → under review → more information needed →
//! approved / rejected. Status changes only here (never through PUT), each with who and why, and
//! each tells the applicant through a notification written in the same transaction, in their
//! language ([`crate::messages`]). Staff and admins move applications as reviewers; a reviewer
//! who decides on a submitted application takes it under review in the same step. The
//! programme rules hold here too ([`super::programme_rules`]): submitting needs the required
//! documents and, for a draft, the programme still open (its closing day not over), and the
//! one-application key follows the status (a rejection lets it go).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use doorstep_domain::api::Transition;
use doorstep_domain::notification::NotificationKind;
use doorstep_domain::validate::text::MAX_TEXT_CHARS;
use doorstep_domain::{Actor, ActorRole, ApplicationStatus, RecordKind};
use time::OffsetDateTime;
use uuid::Uuid;

use super::records::load_typed;
use super::write::commit;
use super::{if_match, mutation, notify, ApiError};
use crate::access::Caller;
use crate::auth::Role;
use crate::messages::{self, Event};
use crate::problem::{Problem, ProblemKind};
use crate::resources::{Collection, Typed};
use crate::state::AppState;
use crate::storage::{Expect, Write};

pub use notify::SYSTEM_ACTOR;

/// Move an application to another status.
#[utoipa::path(post, path = "/v1/applications/{id}/transitions", tag = "applications",
    params(("id" = Uuid, Path),
           ("If-Match" = Option<String>, Header, nullable = false, pattern = r#"^(W/)?"?[0-9]+"?$"#, description = "The revision the decision was made on; a stale one gets 412"),
           ("Idempotency-Key" = Option<String>, Header, nullable = false, min_length = 1, max_length = 255, pattern = "^[!-~]+$", description = "Retry-safe key"),
           ("Doorstep-On-Behalf-Of" = Option<Uuid>, Header, nullable = false, description = "Agents: the registrant served")),
    request_body = Transition,
    responses((status = 200, description = "The application after the change", body = doorstep_domain::Application,
               headers(("ETag" = String, description = "The application's new revision"))),
              (status = 400, description = "A malformed id, body, If-Match or header, or a note longer than 4000 characters", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No such application, or one the caller may not see", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "Not a move the workflow allows from here, or by this caller; a deleted application; or (`/problems/documents-missing`, `errors` naming each kind) submitting before the applicant has sent a document the programme requires; or (`/problems/applications-closed`) submitting a draft after the programme's `applications_close_on` has ended everywhere on Earth", body = Problem, content_type = "application/problem+json"),
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
    if stored.deleted {
        return Err(ApiError::new(
            ProblemKind::Conflict,
            "This application was deleted; start a new one instead.",
        ));
    }
    let role = match caller.role() {
        Role::Citizen | Role::Agent => ActorRole::Applicant,
        Role::Staff | Role::Admin => ActorRole::Reviewer,
    };
    if let Some(note) = request.note.as_deref() {
        if note.chars().count() > MAX_TEXT_CHARS {
            return Err(ApiError::new(
                ProblemKind::BadRequest,
                format!("Shorten the note to at most {MAX_TEXT_CHARS} characters."),
            ));
        }
    }
    let now = OffsetDateTime::now_utc();
    let from = application.status;
    let actor = Actor::new(caller.actor(), role);
    // A reviewer deciding on an application nobody has picked up yet has picked it up: the
    // history shows it went under review first, by them, then their decision.
    if role == ActorRole::Reviewer
        && from == ApplicationStatus::Submitted
        && ApplicationStatus::UnderReview.can_transition_to(request.to)
    {
        application
            .transition(ApplicationStatus::UnderReview, now, actor.clone(), None)
            .map_err(|e| ApiError::new(ProblemKind::Conflict, e.to_string()))?;
    }
    application
        .transition(request.to, now, actor, request.note.clone())
        .map_err(|e| ApiError::new(ProblemKind::Conflict, e.to_string()))?;
    let programme = super::programme_rules::programme(&state, application.programme_id).await?;
    if request.to == ApplicationStatus::Submitted {
        super::programme_rules::check_open(&programme, from, now)?;
        super::programme_rules::check_submit(&state, &application, &programme).await?;
        application.data = super::form_rules::submission(&state, &application).await?;
    }

    let mut body_json = serde_json::to_value(&application).expect("domain records serialise");
    body_json["rev"] = stored.body["rev"].clone();
    // The index as stored, with the workflow facts and keys worked out again: the queue's
    // state, and the one-application key a rejection lets go.
    let mut index = stored.index.clone();
    (index.state, index.state_since) = crate::resources::application_state(&application);
    index.keys = super::programme_rules::keys_in(&application, &programme);
    let application_write = Write {
        kind: RecordKind::Application,
        id,
        expect: Expect::Rev(stored.rev),
        body: body_json,
        index,
        deleted: false,
        duplicate_check: None,
        outbound: Vec::new(),
    };
    let mut writes = vec![application_write];
    // An applicant whose record was deleted since is nobody to tell.
    if let Some(recipient) = notify::recipient(&state, *application.applicant_id.as_uuid()).await? {
        let message = messages::message(
            Event::Application {
                programme: &programme.name,
                from,
                to: request.to,
                note: request.note.as_deref(),
            },
            recipient.language,
        );
        writes.push(notify::write(
            Uuid::now_v7(),
            &recipient,
            NotificationKind::ApplicationStatus,
            id,
            message,
            now,
        )?);
    }
    commit(&state, &caller, &headers, writes, m.claim, StatusCode::OK).await
}
