//! `POST /v1/review/announcements`: a message from the office to everyone with a live
//! application to a programme (optionally only those in an area, or with an application in a
//! status), one notification per applicant, in their language where the sender gave one.
//!
//! Bounded: at most [`MAX_RECIPIENTS`] applicants (more is refused before anything is written:
//! narrow by area or status), written [`CHUNK`] at a time. Sent once per person whatever
//! happens: each notification's id is derived from the announcement's id and the applicant, so
//! sending the same announcement again — a retry after a cut connection, a second click, two
//! requests at once — finds the ones already written and adds only the missing ones. The
//! `Idempotency-Key` replays the answer of a request that finished.

use std::collections::{HashMap, HashSet};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use doorstep_domain::api::{AnnouncementReceipt, AnnouncementRequest};
use doorstep_domain::notification::NotificationKind;
use doorstep_domain::RecordId;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{area_filter, reviewer};
use crate::access::Caller;
use crate::api::notify::{self, Recipient};
use crate::api::{mutation, programme_rules, record_response, replay, ApiError};
use crate::messages::Message;
use crate::problem::{Problem, ProblemKind};
use crate::resources::BodyError;
use crate::state::AppState;
use crate::storage::{ApplicantQuery, CommitError, IdempotencyClaim, WriteContext};

/// Most applicants one announcement reaches.
pub const MAX_RECIPIENTS: usize = 5000;
/// Notifications written per transaction.
const CHUNK: usize = 100;
/// Applicants read per query.
const PAGE: u32 = 1000;
/// Tries of a chunk that another sending of the same announcement wrote meanwhile.
const RACE_RETRIES: usize = 3;

/// Send an announcement to a programme's applicants.
#[utoipa::path(post, path = "/v1/review/announcements", tag = "review",
    params(("Idempotency-Key" = Option<String>, Header, nullable = false, min_length = 1, max_length = 255, pattern = "^[!-~]+$", description = "Retry-safe key: a retry with the same key and body gets the original answer")),
    request_body = AnnouncementRequest,
    responses((status = 200, description = "Who was notified now, and who already had it", body = AnnouncementReceipt),
              (status = 400, description = "Not an announcement (wrong shape, unknown fields), a malformed area or header", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "Only staff and admins send announcements; or an `area` outside the caller's areas", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No such programme", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "More applicants than one announcement reaches (5000): narrow it by area or status", body = Problem, content_type = "application/problem+json"),
              (status = 413, description = "The body is larger than 2 MiB", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "A title or message missing, too long or with hidden characters (`errors` names the field), a language given twice, or the Idempotency-Key was used for another request", body = Problem, content_type = "application/problem+json"),
              crate::openapi::SignedInErrors),
    security(("bearer" = [])))]
pub async fn send(
    State(state): State<AppState>,
    caller: Caller,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    reviewer(&caller)?;
    let request: AnnouncementRequest = doorstep_domain::strict_json::from_slice(&body)
        .map_err(|e| {
            ApiError::new(
                ProblemKind::BadRequest,
                format!("Send an announcement: {{\"id\", \"programme_id\", \"title\", \"body\"}} and optionally translations, area, status: {e}."),
            )
        })?;
    request
        .validate()
        .map_err(|errors| BodyError::Invalid(errors.iter().cloned().collect()))?;
    let area = area_filter(&caller, request.area.as_deref())?;
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
    let programme =
        programme_rules::programme(&state, RecordId::from_uuid(request.programme_id)).await?;
    let applicants = applicants(&state, &caller, &request, area).await?;

    let now = OffsetDateTime::now_utc();
    let chunks: Vec<&[Uuid]> = applicants.chunks(CHUNK).collect();
    let mut receipt = AnnouncementReceipt {
        id: request.id,
        programme_id: *programme.meta.id.as_uuid(),
        notified: 0,
        already_notified: 0,
    };
    for (i, chunk) in chunks.iter().enumerate() {
        // The request's answer is kept with its last chunk, so a retry after it finished is
        // answered the same; an earlier cut leaves no answer, and the retry sends the rest.
        let last = i + 1 == chunks.len();
        let mut done = false;
        for _ in 0..RACE_RETRIES {
            let (writes, already) = chunk_writes(&state, &request, chunk, now).await?;
            let mut answer = receipt.clone();
            answer.notified += writes.len() as u32;
            answer.already_notified += already;
            if writes.is_empty() {
                receipt = answer;
                done = true;
                break;
            }
            let claim = m.claim.clone().filter(|_| last).map(|mut claim| {
                claim.response = Some(serde_json::to_value(&answer).expect("receipts serialise"));
                claim
            });
            match commit(&state, &caller, writes, claim.clone(), now).await {
                Ok(()) => {
                    receipt = answer;
                    done = true;
                    break;
                }
                Err(CommitError::Replay(previous)) => {
                    return Ok(replay(&claim.expect("a replay has a claim"), previous))
                }
                // Another sending of this announcement wrote some of them meanwhile.
                Err(CommitError::Exists { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        if !done {
            return Err(ApiError::new(
                ProblemKind::Conflict,
                "The same announcement is being sent at the same time; send it again in a moment (nobody is notified twice).",
            ));
        }
    }
    tracing::info!(actor = %caller.actor(), announcement = %request.id, notified = receipt.notified, already = receipt.already_notified, "announcement sent");
    Ok(record_response(
        StatusCode::OK,
        &serde_json::to_value(&receipt).expect("receipts serialise"),
    ))
}

/// Everyone the announcement is for, each once, refusing more than [`MAX_RECIPIENTS`].
async fn applicants(
    state: &AppState,
    caller: &Caller,
    request: &AnnouncementRequest,
    area: Option<String>,
) -> Result<Vec<Uuid>, ApiError> {
    let mut query = ApplicantQuery {
        visibility: caller.visibility.clone(),
        programme: request.programme_id,
        state: request.status.map(|s| s.as_str().to_owned()),
        area,
        after: None,
        limit: PAGE,
    };
    let mut all = Vec::new();
    loop {
        let page = state.storage.applicants(&query).await?;
        let full = page.len() == PAGE as usize;
        query.after = page.last().copied();
        all.extend(page);
        if all.len() > MAX_RECIPIENTS {
            return Err(ApiError::new(
                ProblemKind::Conflict,
                format!("This would reach more than {MAX_RECIPIENTS} applicants; nothing was sent. Send it area by area (area), or to one status at a time (status)."),
            ));
        }
        if !full {
            return Ok(all);
        }
    }
}

/// The notifications of one chunk of applicants not notified yet, and how many were.
async fn chunk_writes(
    state: &AppState,
    request: &AnnouncementRequest,
    chunk: &[Uuid],
    now: OffsetDateTime,
) -> Result<(Vec<crate::storage::Write>, u32), ApiError> {
    let ids: Vec<Uuid> = chunk
        .iter()
        .map(|applicant| notice_id(request.id, *applicant))
        .collect();
    let sent: HashSet<Uuid> = state
        .storage
        .get_many(&ids)
        .await?
        .into_iter()
        .map(|r| r.id)
        .collect();
    let mut people: HashMap<Uuid, Recipient> = HashMap::new();
    for person in state
        .storage
        .get_many(chunk)
        .await?
        .iter()
        .filter_map(Recipient::of)
    {
        if sent.contains(&notice_id(request.id, person.id)) {
            continue;
        }
        // Where the e-mail and SMS copies go (one contact lookup each, in a chunk of CHUNK).
        let person = person
            .reached_by(state.storage.as_ref(), state.outbound)
            .await?;
        people.insert(person.id, person);
    }
    let mut writes = Vec::new();
    for (applicant, id) in chunk.iter().zip(ids) {
        if sent.contains(&id) {
            continue;
        }
        // Someone whose record was deleted meanwhile is not written to.
        let Some(to) = people.get(applicant) else {
            continue;
        };
        let (title, body) = request.text_for(to.language);
        let message = Message {
            title: title.to_owned(),
            body: body.to_owned(),
        };
        writes.push(notify::write(
            id,
            to,
            NotificationKind::Announcement,
            request.programme_id,
            message,
            now,
        )?);
    }
    Ok((writes, sent.len() as u32))
}

/// The id of the announcement's notification to `applicant` (UUIDv8 from SHA-256 of both): the
/// same every time it is sent.
pub fn notice_id(announcement: Uuid, applicant: Uuid) -> Uuid {
    let mut hash = Sha256::new();
    hash.update(b"doorstep announcement ");
    hash.update(announcement.as_bytes());
    hash.update(applicant.as_bytes());
    let digest = hash.finalize();
    let mut bytes = [0_u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

async fn commit(
    state: &AppState,
    caller: &Caller,
    writes: Vec<crate::storage::Write>,
    claim: Option<IdempotencyClaim>,
    at: OffsetDateTime,
) -> Result<(), CommitError> {
    let ctx = WriteContext {
        actor: caller.actor(),
        on_behalf_of: None,
        at,
        request_id: claim.as_ref().map(|c| c.key.clone()),
        idempotency: claim,
        merged: false,
    };
    state.storage.commit(writes, &ctx).await.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_applicant_gets_one_id_per_announcement() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let p = Uuid::now_v7();
        assert_eq!(notice_id(a, p), notice_id(a, p));
        assert_ne!(notice_id(a, p), notice_id(b, p));
        assert_ne!(notice_id(a, p), notice_id(a, b));
        assert_eq!(notice_id(a, p).get_version_num(), 8);
    }
}
