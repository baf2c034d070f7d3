//! `GET /v1/duplicates`: the likely duplicates the registry's check flagged
//! ([`crate::duplicates`]), for registry staff to review. Open flags only: both people are still
//! registered (a record deleted, e.g. merged away, closes its flags), and the record's latest
//! check still finds the pair (answering "a different person" on the device drops it).

use axum::extract::{Query, State};
use axum::Json;
use doorstep_domain::api::{DuplicateFlag, DuplicateFlagPage, DuplicatesQuery};
use uuid::Uuid;

use super::ApiError;
use crate::access::Caller;
use crate::auth::Role;
use crate::problem::{Problem, ProblemKind};
use crate::state::AppState;

/// Default and largest page size.
const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 500;

/// Likely duplicates flagged for review, a page at a time.
#[utoipa::path(get, path = "/v1/duplicates", tag = "records", params(DuplicatesQuery),
    responses((status = 200, body = DuplicateFlagPage, description = "Open flags, ordered by record, then candidate"),
              (status = 400, description = "A damaged `after`, `limit` out of range, or an unknown parameter", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "Only registry staff and admins review duplicates", body = Problem, content_type = "application/problem+json"),
              crate::openapi::SignedInErrors),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    params: Result<Query<DuplicatesQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<DuplicateFlagPage>, ApiError> {
    // Flags name people in every area: staff information, like who changed a record.
    if !matches!(caller.role(), Role::Staff | Role::Admin) {
        return Err(ApiError::forbidden(
            "Likely duplicates are reviewed by registry staff; agents are told of theirs when they save a person.",
        ));
    }
    let Query(params) =
        params.map_err(|e| ApiError::new(ProblemKind::BadRequest, e.body_text()))?;
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::new(
            ProblemKind::BadRequest,
            format!("limit must be between 1 and {MAX_LIMIT}."),
        ));
    }
    let after = params.after.as_deref().map(parse_cursor).transpose()?;
    let mut flags = state.storage.duplicate_flags(after, limit + 1).await?;
    let more = flags.len() > limit as usize;
    flags.truncate(limit as usize);
    let next_after = match (more, flags.last()) {
        (true, Some(last)) => Some(cursor(last.record_id, last.candidate_id)),
        _ => None,
    };
    let items = flags
        .into_iter()
        .map(|f| {
            Ok(DuplicateFlag {
                record_id: f.record_id,
                candidate_id: f.candidate_id,
                score: f.score,
                reasons: serde_json::from_value(f.reasons).map_err(|e| {
                    ApiError::new(
                        ProblemKind::Internal,
                        format!("a stored duplicate flag is unreadable: {e}"),
                    )
                })?,
                flagged_at: f.flagged_at,
                flagged_for: f.flagged_for,
            })
        })
        .collect::<Result<_, ApiError>>()?;
    Ok(Json(DuplicateFlagPage { items, next_after }))
}

/// A page's end: `<record id>.<candidate id>`.
fn cursor(record: Uuid, candidate: Uuid) -> String {
    format!("{record}.{candidate}")
}

fn parse_cursor(text: &str) -> Result<(Uuid, Uuid), ApiError> {
    text.split_once('.')
        .and_then(|(r, c)| Some((r.parse().ok()?, c.parse().ok()?)))
        .ok_or_else(|| {
            ApiError::new(
                ProblemKind::BadRequest,
                "`after` is not one this registry gave out: pass the `next_after` of the previous page, or nothing to start over.",
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_damaged_ones_are_refused() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        assert_eq!(parse_cursor(&cursor(a, b)).unwrap(), (a, b));
        for bad in ["", "x.y", &a.to_string(), &format!("{a}.")] {
            assert!(parse_cursor(bad).is_err(), "{bad:?}");
        }
    }
}
