//! `GET /v1/review/queue`: the applications waiting for the office, longest waiting first.
//!
//! Bounded and without a query per row: one indexed read of a page of applications (by their
//! workflow state and since when, `records.state` and `state_since`), one read of the page's
//! programmes and applicants together, and one count of the applicants' documents pending
//! verification — three statements whatever the page size (at most [`MAX_LIMIT`]).

use std::collections::HashMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::Json;
use doorstep_domain::api::{ReviewQueueItem, ReviewQueuePage, ReviewQueueQuery};
use doorstep_domain::{ApplicationStatus, RecordKind};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{area_filter, reviewer};
use crate::access::Caller;
use crate::api::ApiError;
use crate::problem::{Problem, ProblemKind};
use crate::state::AppState;
use crate::storage::{QueueQuery, StoredRecord};

/// Default and largest page size.
const DEFAULT_LIMIT: u32 = 25;
pub const MAX_LIMIT: u32 = 100;

/// The review queue, a page at a time.
#[utoipa::path(get, path = "/v1/review/queue", tag = "review", params(ReviewQueueQuery),
    responses((status = 200, body = ReviewQueuePage, description = "Applications in the caller's areas, longest waiting first"),
              (status = 400, description = "A malformed filter (`status=draft`, an unreadable time or `after`), `limit` out of range, or an unknown parameter", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "Only staff and admins use the review desk; or an `area` outside the caller's areas", body = Problem, content_type = "application/problem+json"),
              crate::openapi::SignedInErrors),
    security(("bearer" = [])))]
pub async fn queue(
    State(state): State<AppState>,
    caller: Caller,
    params: Result<Query<ReviewQueueQuery>, QueryRejection>,
) -> Result<Json<ReviewQueuePage>, ApiError> {
    reviewer(&caller)?;
    let Query(params) =
        params.map_err(|e| ApiError::new(ProblemKind::BadRequest, e.body_text()))?;
    let limit = crate::api::page_limit(params.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
    let states = match params.status {
        None => vec![
            ApplicationStatus::Submitted.as_str().to_owned(),
            ApplicationStatus::UnderReview.as_str().to_owned(),
        ],
        Some(ApplicationStatus::Draft) => {
            return Err(ApiError::new(
                ProblemKind::BadRequest,
                "Drafts are the applicant's own and wait for nobody: choose another status.",
            ))
        }
        Some(status) => vec![status.as_str().to_owned()],
    };
    let before = params
        .waiting_since_before
        .as_deref()
        .map(|text| {
            doorstep_domain::timestamp::parse(text).map_err(|_| {
                ApiError::new(
                    ProblemKind::BadRequest,
                    "waiting_since_before must be an RFC 3339 time, e.g. 2026-11-01T08:30:00Z.",
                )
            })
        })
        .transpose()?;
    let after = params.after.as_deref().map(parse_cursor).transpose()?;
    let query = QueueQuery {
        visibility: caller.visibility.clone(),
        states,
        programme: params.programme,
        area: area_filter(&caller, params.area.as_deref())?,
        before,
        after,
        limit: limit + 1,
    };
    let mut rows = state.storage.review_queue(&query).await?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next_after = match (more, rows.last()) {
        (true, Some((record, since))) => Some(cursor(*since, record.id)),
        _ => None,
    };

    let mut related: Vec<Uuid> = rows
        .iter()
        .flat_map(|(r, _)| [r.index.parent_id, r.index.owner_id])
        .flatten()
        .collect();
    related.sort_unstable();
    related.dedup();
    let related: HashMap<Uuid, StoredRecord> = state
        .storage
        .get_many(&related)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    let applicants: Vec<Uuid> = rows.iter().filter_map(|(r, _)| r.index.owner_id).collect();
    let pending: HashMap<Uuid, u32> = state
        .storage
        .pending_documents(&applicants)
        .await?
        .into_iter()
        .collect();
    let items = rows
        .into_iter()
        .map(|(record, since)| item(record, since, &related, &pending))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Json(ReviewQueuePage { items, next_after }))
}

/// One queue row from the application and what the page read beside it.
fn item(
    record: StoredRecord,
    since: OffsetDateTime,
    related: &HashMap<Uuid, StoredRecord>,
    pending: &HashMap<Uuid, u32>,
) -> Result<ReviewQueueItem, ApiError> {
    let application: doorstep_domain::Application =
        serde_json::from_value(record.body).map_err(|e| {
            ApiError::new(
                ProblemKind::Internal,
                format!("a stored application is unreadable: {e}"),
            )
        })?;
    let programme_id = *application.programme_id.as_uuid();
    let applicant_id = *application.applicant_id.as_uuid();
    let programme_name = related
        .get(&programme_id)
        .filter(|p| p.kind == RecordKind::Programme)
        .and_then(|p| p.body.get("name").and_then(|n| n.as_str()))
        .unwrap_or_default()
        .to_owned();
    let applicant_name = related
        .get(&applicant_id)
        .filter(|p| p.kind == RecordKind::Individual)
        .map(|p| display_name(&p.body))
        .unwrap_or_default();
    Ok(ReviewQueueItem {
        application_id: record.id,
        rev: record.rev,
        status: application.status,
        waiting_since: doorstep_domain::timestamp::format(since),
        programme_id,
        programme_name,
        form_version: application.form_version,
        applicant_id,
        applicant_name,
        area: record.index.area,
        documents_pending: pending.get(&applicant_id).copied().unwrap_or(0),
    })
}

/// "Given Additional Family", from an individual's body.
pub fn display_name(person: &serde_json::Value) -> String {
    ["given_name", "addl_name", "family_name"]
        .iter()
        .filter_map(|field| person.get(*field).and_then(|v| v.as_str()))
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// `<since>_<id>`: where the next page starts.
fn cursor(since: OffsetDateTime, id: Uuid) -> String {
    format!("{}_{id}", doorstep_domain::timestamp::format(since))
}

fn parse_cursor(text: &str) -> Result<(OffsetDateTime, Uuid), ApiError> {
    text.rsplit_once('_')
        .and_then(|(since, id)| {
            Some((
                doorstep_domain::timestamp::parse(since).ok()?,
                Uuid::parse_str(id).ok()?,
            ))
        })
        .ok_or_else(|| {
            ApiError::new(
                ProblemKind::BadRequest,
                "after must be the next_after of the previous page, unchanged.",
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_anything_else() {
        let id = Uuid::now_v7();
        let since = time::macros::datetime!(2026-11-01 08:30:00.123456 UTC);
        assert_eq!(parse_cursor(&cursor(since, id)).unwrap(), (since, id));
        for bad in ["", "_", "x_y", "2026-11-01T08:30:00Z", &id.to_string()] {
            assert!(parse_cursor(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_read_as_registered() {
        let person = serde_json::json!({"given_name": "Amina", "addl_name": null, "family_name": "Odhiambo"});
        assert_eq!(display_name(&person), "Amina Odhiambo");
    }
}
