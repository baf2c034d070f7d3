//! `GET /v1/outbox`: how the delivery of messages beyond the app went (e-mail, SMS through the
//! webhook), for registry staff and admins: to whom, by which channel, its state, attempts and
//! last error, newest first. Never a message's text: that is the person's notification, which
//! staff read where their role allows. Staff the directory limits to some areas see the messages
//! to people filed in those areas only.

use axum::extract::{Query, State};
use axum::Json;
use doorstep_domain::api::{OutboxEntry, OutboxListQuery, OutboxPage};
use doorstep_domain::timestamp;
use uuid::Uuid;

use super::ApiError;
use crate::access::Caller;
use crate::auth::Role;
use crate::problem::{Problem, ProblemKind};
use crate::state::AppState;
use crate::storage::{OutboxQuery, OutboxRow};

/// Default and largest page size.
const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 200;

/// Messages beyond the app and their delivery, a page at a time.
#[utoipa::path(get, path = "/v1/outbox", tag = "review", params(OutboxListQuery),
    responses((status = 200, body = OutboxPage, description = "Messages, newest first (without their text)"),
              (status = 400, description = "A damaged `before`, an unknown `status`, a `recipient` that is not a UUID, `limit` out of range, or an unknown parameter", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "Only registry staff and admins see the outbox", body = Problem, content_type = "application/problem+json"),
              crate::openapi::SignedInErrors),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    params: Result<Query<OutboxListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<OutboxPage>, ApiError> {
    if !matches!(caller.role(), Role::Staff | Role::Admin) {
        return Err(ApiError::forbidden(
            "The delivery of messages is for registry staff; your own messages are in your notifications.",
        ));
    }
    let Query(params) =
        params.map_err(|e| ApiError::new(ProblemKind::BadRequest, e.body_text()))?;
    let limit = super::page_limit(params.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
    let before = params.before.as_deref().map(parse_cursor).transpose()?;
    let mut rows = state
        .storage
        .outbox_list(&OutboxQuery {
            visibility: caller.visibility.clone(),
            status: params.status,
            recipient: params.recipient,
            before,
            limit: limit + 1,
        })
        .await?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next_before = match (more, rows.last()) {
        (true, Some(last)) => Some(cursor(last.created_at, last.id)),
        _ => None,
    };
    Ok(Json(OutboxPage {
        items: rows.into_iter().map(entry).collect(),
        next_before,
    }))
}

fn entry(row: OutboxRow) -> OutboxEntry {
    OutboxEntry {
        id: row.id,
        notification_id: row.notification_id,
        recipient_id: row.recipient_id,
        channel: row.channel.as_str().to_owned(),
        address: row.address,
        status: row.status,
        attempts: row.attempts,
        next_attempt_at: timestamp::format(row.next_attempt_at),
        last_error: row.last_error,
        created_at: timestamp::format(row.created_at),
        delivered_at: row.delivered_at.map(timestamp::format),
    }
}

fn cursor(at: time::OffsetDateTime, id: Uuid) -> String {
    format!("{}_{id}", timestamp::format(at))
}

fn parse_cursor(text: &str) -> Result<(time::OffsetDateTime, Uuid), ApiError> {
    text.split_once('_')
        .and_then(|(at, id)| Some((timestamp::parse(at).ok()?, id.parse().ok()?)))
        .ok_or_else(|| {
            ApiError::from(Problem::new(
                ProblemKind::BadRequest,
                "`before` is not one this registry gave out: pass the `next_before` of the previous page, or nothing to start with the newest.",
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_damaged_ones_are_refused() {
        let at = time::OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let id = Uuid::now_v7();
        assert_eq!(parse_cursor(&cursor(at, id)).unwrap(), (at, id));
        for bad in ["", "x_y", &id.to_string(), "2024-01-01T00:00:00Z_"] {
            assert!(parse_cursor(bad).is_err(), "{bad:?}");
        }
    }
}
