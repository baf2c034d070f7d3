//! `GET /v1/duplicates`: the likely duplicates the registry's check flagged
//! ([`crate::duplicates`]), for registry staff to review. Open flags only: both people are still
//! registered (a record deleted, e.g. merged away, closes its flags), and the record's latest
//! check still finds the pair (answering "a different person" on the device drops it).
//!
//! `POST /v1/duplicates/check`: the same check for someone not saved yet, which an agent's
//! device asks before saving a registration while it has a network, so "Is this the same
//! person?" is answered in the village rather than by a notice after the sync.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::Json;
use doorstep_domain::api::{
    DuplicateCheck, DuplicateCheckAnswer, DuplicateFlag, DuplicateFlagPage, DuplicatesQuery,
};
use doorstep_domain::validate::normalize_phone_number;
use doorstep_domain::RecordKind;
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
    // The flags are not filtered by area, so staff the directory limits to some areas would
    // see people outside them.
    if !caller.principal.areas.is_empty() {
        return Err(ApiError::forbidden(
            "Likely duplicates span every area; they are reviewed by staff who work across all areas.",
        ));
    }
    let Query(params) =
        params.map_err(|e| ApiError::new(ProblemKind::BadRequest, e.body_text()))?;
    let limit = super::page_limit(params.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
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

/// Phones one check takes (a person has one or two; more is not a person).
const MAX_CHECK_PHONES: usize = 10;

/// Whom someone about to be registered is likely to be, among everyone registered.
#[utoipa::path(post, path = "/v1/duplicates/check", tag = "records", request_body = DuplicateCheck,
    responses((status = 200, body = DuplicateCheckAnswer, description = "Likely matches, best first (none: an empty list). Only ids, scores and what agrees: never another person's details"),
              (status = 400, description = "Not a JSON object with `person` (an individual record) and `phones`, an unknown field, or a phone number that is not one", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "Citizens do not check others (it would tell who is registered)", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "`person` breaks a rule of the individual record, by field", body = Problem, content_type = "application/problem+json"),
              crate::openapi::SignedInErrors),
    security(("bearer" = [])))]
pub async fn check(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> Result<Json<DuplicateCheckAnswer>, ApiError> {
    if caller.role() == Role::Citizen {
        return Err(ApiError::forbidden(
            "Checking for duplicates is for field agents and registry staff.",
        ));
    }
    let bad = |message: String| ApiError::new(ProblemKind::BadRequest, message);
    let json = doorstep_domain::strict_json::to_value(&body)
        .map_err(|e| bad(format!("The body is not valid JSON ({e}).")))?;
    let request: DuplicateCheck = serde_json::from_value(json).map_err(|e| {
        bad(format!(
            "The body could not be read: {e}. Send {{\"person\": <individual>, \"phones\": [\"+254…\"]}}."
        ))
    })?;
    // The person is read exactly as saving them would read them: the same refusals.
    let (typed, _) = crate::resources::parse(RecordKind::Individual, request.person)?;
    let crate::resources::Typed::Individual(person) = typed else {
        unreachable!("parsed as an individual");
    };
    if request.phones.len() > MAX_CHECK_PHONES {
        return Err(bad(format!(
            "Give at most {MAX_CHECK_PHONES} phone numbers."
        )));
    }
    let phones = request
        .phones
        .iter()
        .map(|p| {
            normalize_phone_number(p, None).ok_or_else(|| {
                bad(format!(
                    "{p:?} is not a phone number: write it with + and the country code."
                ))
            })
        })
        .collect::<Result<Vec<String>, ApiError>>()?;
    let matches = crate::duplicates::check_with_phones(
        state.storage.as_ref(),
        *person.meta.id.as_uuid(),
        &person,
        &phones,
    )
    .await?;
    Ok(Json(DuplicateCheckAnswer { matches }))
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
