//! `GET /v1/review/applications/{id}`: one application as a reviewer opens it, read only — the
//! answers and the form version they were given on (rendered by Form.io on the desk), the
//! applicant, their documents (each viewable through `GET /v1/documents/{id}/content`) and
//! payment accounts, what the programme still needs, and the moves open to a reviewer. Opening
//! changes nothing; the first decision takes a submitted application under review.

use axum::extract::{Path, State};
use axum::Json;
use doorstep_domain::api::ReviewCase;
use doorstep_domain::{ActorRole, FinancialAccount, FormDefinition, Individual, RecordKind};
use uuid::Uuid;

use super::reviewer;
use crate::access::Caller;
use crate::api::programme_rules;
use crate::api::records::load_typed;
use crate::api::ApiError;
use crate::problem::{Problem, ProblemKind};
use crate::resources::{Collection, Typed};
use crate::state::AppState;
use crate::storage::model::UNIQUE_KEY_PREFIX;
use crate::storage::ListQuery;

/// Most payment accounts of one applicant shown.
const MAX_ACCOUNTS: u32 = 50;

/// One application with everything a reviewer needs to decide.
#[utoipa::path(get, path = "/v1/review/applications/{id}", tag = "review",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = ReviewCase, description = "The application, its form version, applicant, documents and accounts",
               headers(("ETag" = String, description = "The application's revision: send it as If-Match with a decision"))),
              (status = 400, description = "The id is not a UUID", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "Only staff and admins use the review desk", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No such application, or one outside the caller's areas", body = Problem, content_type = "application/problem+json"),
              crate::openapi::SignedInErrors),
    security(("bearer" = [])))]
pub async fn open(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<axum::response::Response, ApiError> {
    reviewer(&caller)?;
    let (stored, typed) = load_typed(&state, &caller, Collection::Applications, id).await?;
    let Typed::Application(application) = typed else {
        unreachable!("loaded from the applications collection")
    };
    if stored.deleted {
        return Err(ApiError::not_found("application", id));
    }
    let programme = programme_rules::programme(&state, application.programme_id).await?;
    let applicant_id = *application.applicant_id.as_uuid();
    let applicant: Individual = state
        .storage
        .get(applicant_id)
        .await?
        .filter(|r| r.kind == RecordKind::Individual)
        .map(|r| serde_json::from_value(r.body))
        .transpose()
        .map_err(unreadable)?
        .ok_or_else(|| ApiError::not_found("individual", applicant_id))?;

    let mut forms = ListQuery::new(RecordKind::FormDefinition, caller.visibility.clone(), 1);
    forms.parent_id = Some(*application.programme_id.as_uuid());
    forms.key = Some(format!(
        "{UNIQUE_KEY_PREFIX}form:{}:{}",
        application.programme_id, application.form_version
    ));
    let form: Option<FormDefinition> = state
        .storage
        .list(&forms)
        .await?
        .into_iter()
        .next()
        .map(|r| serde_json::from_value(r.body))
        .transpose()
        .map_err(unreadable)?;

    let documents =
        programme_rules::documents_of(&state, application.applicant_id, &caller.visibility).await?;
    let missing_documents = programme.missing_documents(&documents);
    let mut accounts = ListQuery::new(
        RecordKind::FinancialAccount,
        caller.visibility.clone(),
        MAX_ACCOUNTS,
    );
    accounts.owner_id = Some(applicant_id);
    let accounts: Vec<FinancialAccount> = state
        .storage
        .list(&accounts)
        .await?
        .into_iter()
        .map(|r| serde_json::from_value(r.body))
        .collect::<Result<_, _>>()
        .map_err(unreadable)?;
    let next_statuses = application.status.next_for(ActorRole::Reviewer).collect();
    let case = ReviewCase {
        application,
        programme,
        form,
        applicant,
        documents,
        accounts,
        missing_documents,
        next_statuses,
    };
    let mut response = axum::response::IntoResponse::into_response(Json(case));
    if let Ok(etag) = axum::http::HeaderValue::from_str(&format!("\"{}\"", stored.rev)) {
        response
            .headers_mut()
            .insert(axum::http::header::ETAG, etag);
    }
    Ok(response)
}

fn unreadable(e: serde_json::Error) -> ApiError {
    ApiError::new(
        ProblemKind::Internal,
        format!("a stored record is unreadable: {e}"),
    )
}
