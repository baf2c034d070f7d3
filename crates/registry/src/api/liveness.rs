//! The liveness step-up's two routes (see [`crate::liveness`] for the design):
//! `POST /v1/liveness/challenges` starts a check for one registrant, and
//! `POST /v1/liveness/challenges/{id}/proof` answers it with the provider's verdict, which the
//! registry verifies before it records a passed `LivenessCheck` through [`super::write`].
//!
//! Every refusal of a proof is `/problems/liveness-refused` (422) with one `errors` entry whose
//! `code` says why ([`rules::Refusal::code`]), and records nothing. A challenge is taken by its
//! first proof, passed or refused, so neither a token nor a challenge counts twice.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use doorstep_domain::api::{
    ExchangeRequest, LivenessChallenge, LivenessChallengeRequest, LivenessProof, LivenessProofKind,
};
use doorstep_domain::sync::MutationOp;
use doorstep_domain::{timestamp, FieldError, RecordKind};
use serde_json::{json, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use super::write::{self, WriteRequest};
use super::ApiError;
use crate::access::Caller;
use crate::auth::{Role, Userinfo};
use crate::liveness::rules::{self, Expectations, Refusal};
use crate::liveness::ProofMode;
use crate::problem::{Problem, ProblemKind};
use crate::state::AppState;
use crate::storage::LivenessChallengeRow;

/// Largest proof body: an ID token, or a code with its verifier and redirect URI.
const MAX_PROOF_BYTES: usize = 16 * 1024;

/// Start a liveness check.
///
/// A citizen checks themself (their sign-in must be linked to their registration); an agent or a
/// staff member names the person they assist, who must be in their area. The answer is what the
/// app puts in the authorization request; the challenge is single use and short-lived.
#[utoipa::path(post, path = "/v1/liveness/challenges", tag = "records",
    request_body = LivenessChallengeRequest,
    responses((status = 201, body = LivenessChallenge, description = "The challenge: its nonce, the provider, the acr values to ask for, and until when it may be answered"),
              (status = 400, description = "Not JSON of this shape, or an agent or staff member naming nobody", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "A citizen asking for someone else, or not linked to a registration yet; administrators do not run checks", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No individual with this id that the caller may see", body = Problem, content_type = "application/problem+json"),
              crate::openapi::SignedInErrors),
    security(("bearer" = [])))]
pub async fn create_challenge(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> Result<(StatusCode, Json<LivenessChallenge>), ApiError> {
    let request: LivenessChallengeRequest = if body.iter().all(u8::is_ascii_whitespace) {
        LivenessChallengeRequest::default()
    } else {
        doorstep_domain::strict_json::from_slice(&body).map_err(|e| {
            ApiError::new(
                ProblemKind::BadRequest,
                format!("send JSON {{\"individual_id\": <uuid>}} (a citizen may send {{}}): {e}"),
            )
        })?
    };
    let individual = match caller.role() {
        Role::Citizen => {
            let Some(me) = caller.me else {
                return Err(ApiError::forbidden(
                    "Your sign-in is not linked to a registration yet, so there is nobody to check. Register first, or ask an agent.",
                ));
            };
            if request.individual_id.is_some_and(|id| id != me) {
                return Err(ApiError::forbidden(
                    "You can do a liveness check only for yourself; an agent can assist someone else.",
                ));
            }
            me
        }
        Role::Agent | Role::Staff => {
            let id = request.individual_id.ok_or_else(|| {
                ApiError::new(
                    ProblemKind::BadRequest,
                    "Name the person whose liveness is checked: {\"individual_id\": <uuid>}.",
                )
            })?;
            match state.storage.get(id).await? {
                Some(r)
                    if r.kind == RecordKind::Individual
                        && !r.deleted
                        && caller.visibility.allows(r.kind, &r.index) =>
                {
                    id
                }
                _ => return Err(ApiError::not_found("individual", id)),
            }
        }
        Role::Admin => {
            return Err(ApiError::forbidden(
                "Registry administrators do not run liveness checks; the person does, or an agent or staff member assists them.",
            ))
        }
    };
    let Some(provider) = state.liveness.provider_for(&caller.principal.issuer) else {
        return Err(ApiError::new(
            ProblemKind::Unavailable,
            "Liveness checks are not configured on this registry (its operator adds a [[liveness.providers]] entry).",
        ));
    };
    let mut nonce = [0u8; 32];
    getrandom::getrandom(&mut nonce).map_err(|e| {
        ApiError::new(
            ProblemKind::Internal,
            format!("no randomness for the nonce: {e}"),
        )
    })?;
    let now = OffsetDateTime::now_utc();
    let acr_values = if provider.fresh_login_only {
        Vec::new()
    } else {
        provider.acr_values.clone()
    };
    let row = LivenessChallengeRow {
        id: Uuid::now_v7(),
        individual_id: individual,
        requested_by: caller.actor(),
        issuer: provider.issuer.clone(),
        nonce: URL_SAFE_NO_PAD.encode(nonce),
        acr_values: acr_values.join(" "),
        created_at: now,
        expires_at: now + time::Duration::seconds(state.liveness.challenge_seconds as i64),
        used_at: None,
    };
    state.storage.challenge_create(&row).await?;
    tracing::info!(challenge = %row.id, individual = %individual, actor = %row.requested_by, "liveness check started");
    Ok((
        StatusCode::CREATED,
        Json(LivenessChallenge {
            id: row.id,
            nonce: row.nonce,
            individual_id: individual,
            issuer: row.issuer,
            acr_values,
            max_age: 0,
            proof: match provider.proof {
                ProofMode::IdToken => LivenessProofKind::IdToken,
                ProofMode::Code => LivenessProofKind::Code,
            },
            not_before: timestamp::format(now),
            expires: timestamp::format(row.expires_at),
        }),
    ))
}

/// Answer a liveness check with the identity provider's verdict.
///
/// The registry verifies the ID token (the one sent, or the one it redeems the code for): the
/// provider's signature, issuer, the app's client id as audience, expiry, the challenge's nonce,
/// an `acr` among those required (or only a fresh login, for providers without them), an
/// `auth_time` not before the challenge (small skew), and the registrant's identity (their ID
/// number in the token — or, for a code the registry redeemed, in the provider's userinfo,
/// verified with the provider's keys and about the same subject, as eSignet's ID tokens carry
/// none — else the provider's subject linked to them). Then it records a passed liveness check
/// and answers with it, due by the person's programmes.
#[utoipa::path(post, path = "/v1/liveness/challenges/{id}/proof", tag = "records",
    params(("id" = Uuid, Path, description = "The challenge")),
    request_body = LivenessProof,
    responses((status = 201, body = doorstep_domain::liveness::LivenessCheck, description = "Verified: the liveness check as recorded, with its next due day"),
              (status = 400, description = "Not JSON of this shape, not the kind of proof the challenge expects, or the provider refused the code", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "The verified check may not be recorded by this caller (e.g. an agent without the person's consent on record)", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No challenge with this id that the caller started", body = Problem, content_type = "application/problem+json"),
              (status = 413, description = "The body is larger than a proof can be", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "`/problems/liveness-refused`: the proof does not pass; `errors[0].code` says why (nonce_mismatch, acr_too_weak, auth_time_missing, auth_time_stale, other_person, replayed, challenge_expired, token_invalid). Nothing is recorded", body = Problem, content_type = "application/problem+json"),
              (status = 500, description = "The identity provider refuses the registry's own client (`/problems/signin-misconfigured`)", body = Problem, content_type = "application/problem+json"),
              crate::openapi::SignedInErrors),
    security(("bearer" = [])))]
pub async fn prove(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    if body.len() > MAX_PROOF_BYTES {
        return Err(ApiError::new(
            ProblemKind::TooLarge,
            "The proof is larger than an ID token or a code can be.",
        ));
    }
    let proof: LivenessProof = doorstep_domain::strict_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            ProblemKind::BadRequest,
            format!("send JSON {{\"id_token\"}} or {{\"code\", \"code_verifier\", \"redirect_uri\"}}: {e}"),
        )
    })?;
    let challenge = match state.storage.challenge(id).await? {
        Some(c) if c.requested_by == caller.actor() => c,
        _ => return Err(ApiError::not_found("liveness challenge", id)),
    };
    let Some(provider) = state.liveness.provider(&challenge.issuer).cloned() else {
        return Err(ApiError::new(
            ProblemKind::Unavailable,
            "The identity provider this check was started with is no longer configured for liveness checks; start a new check.",
        ));
    };
    let shape = match (&proof.id_token, &proof.code, &proof.code_verifier, &proof.redirect_uri) {
        (Some(token), None, None, None) => Ok(token.clone()),
        (None, Some(code), Some(verifier), Some(redirect_uri)) => Err(ExchangeRequest {
            code: code.clone(),
            code_verifier: verifier.clone(),
            redirect_uri: redirect_uri.clone(),
            resource: None,
        }),
        _ => {
            return Err(ApiError::new(
                ProblemKind::BadRequest,
                "Send either {\"id_token\"} or {\"code\", \"code_verifier\", \"redirect_uri\"}, not a mix.",
            ))
        }
    };
    match (&shape, provider.proof) {
        (Ok(_), ProofMode::IdToken) | (Err(_), ProofMode::Code) => {}
        (_, mode) => {
            return Err(ApiError::new(
                ProblemKind::BadRequest,
                format!(
                    "This provider's checks are proven with {}.",
                    match mode {
                        ProofMode::IdToken => "the ID token the app redeemed ({\"id_token\"})",
                        ProofMode::Code => "the authorization code, which the registry redeems ({\"code\", \"code_verifier\", \"redirect_uri\"})",
                    }
                ),
            ))
        }
    }
    let now = OffsetDateTime::now_utc();
    if challenge.used_at.is_some() {
        return Err(refused(&Refusal::Replayed));
    }
    if now > challenge.expires_at {
        return Err(refused(&Refusal::Expired));
    }
    // Taken before anything is verified: whatever the outcome, this challenge is answered.
    if !state.storage.challenge_use(id, now).await? {
        return Err(refused(&Refusal::Replayed));
    }
    let (id_token, access_token) = match shape {
        Ok(token) => (token, None),
        Err(request) => {
            let redeemed = state
                .exchange
                .redeem_tokens(&request)
                .await
                .map_err(|(kind, detail)| ApiError::new(kind, detail))?;
            (redeemed.id_token, redeemed.access_token)
        }
    };
    let claims = state
        .auth
        .verify_id_token(&id_token, &challenge.issuer, &provider.client_id)
        .await
        .map_err(|e| refused(&Refusal::Token(e.to_string())))?;
    let required: Vec<String> = challenge
        .acr_values
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let passed = rules::check(
        &claims,
        &Expectations {
            nonce: &challenge.nonce,
            acr_values: &required,
            fresh_login_only: required.is_empty(),
            started_at: challenge.created_at.unix_timestamp(),
            skew: state.liveness.auth_time_skew_seconds as i64,
        },
    )
    .map_err(|r| refused(&r))?;
    same_person(
        &state,
        &challenge,
        &provider.client_id,
        &claims,
        access_token.as_deref(),
    )
    .await?;

    let auth_time = OffsetDateTime::from_unix_timestamp(passed.auth_time)
        .map_err(|_| refused(&Refusal::NoAuthTime))?;
    let assisted_by = (caller.role() != Role::Citizen).then(|| caller.actor());
    let check_id = Uuid::now_v7();
    let at = timestamp::format(now);
    let body = json!({
        "id": check_id.to_string(),
        "created_at": at,
        "updated_at": at,
        "individual_id": challenge.individual_id.to_string(),
        "performed_at": timestamp::format(auth_time),
        "provider": provider.code,
        "outcome": "passed",
        "acr": passed.acr,
        "auth_time": timestamp::format(auth_time),
        "assisted_by": assisted_by,
    });
    let body = strip_nulls(body);
    let prepared = write::prepare(
        &state,
        &caller,
        WriteRequest {
            kind: RecordKind::LivenessCheck,
            id: check_id,
            op: MutationOp::Create,
            body,
            current: None,
            decision: false,
            step_up: true,
        },
    )
    .await?;
    tracing::info!(challenge = %id, check = %check_id, individual = %challenge.individual_id, acr = ?passed.acr, "liveness check passed");
    write::commit(
        &state,
        &caller,
        &headers,
        vec![prepared],
        None,
        StatusCode::CREATED,
    )
    .await
}

/// The token must be about the registrant the challenge is for. Its ID number is the ID
/// token's claim; without one, for a code the registry redeemed itself (`access_token`), the
/// provider's userinfo's — eSignet puts the person's claims there, not in the ID token.
async fn same_person(
    state: &AppState,
    challenge: &LivenessChallengeRow,
    client_id: &str,
    claims: &serde_json::Map<String, Value>,
    access_token: Option<&str>,
) -> Result<(), ApiError> {
    let claim = state.auth.individual_id_claim(&challenge.issuer);
    let mut number = id_number(claims.get(&claim));
    if number.is_none() {
        if let Some(access_token) = access_token {
            let info = userinfo(state, challenge, client_id, claims, access_token).await?;
            number = id_number(info.get(&claim));
        }
    }
    let id_type = state.auth.individual_id_type();
    let numbers: Vec<String> = match state.storage.get(challenge.individual_id).await? {
        Some(r) if r.kind == RecordKind::Individual && !r.deleted => r.body["reg_ids"]
            .as_array()
            .map(|ids| {
                ids.iter()
                    .filter(|i| i["id_type"].as_str() == Some(id_type))
                    .filter_map(|i| i["value"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    let subject = claims.get("sub").and_then(Value::as_str).unwrap_or("");
    let linked = state
        .storage
        .linked_individual(&format!("{} {}", challenge.issuer, subject))
        .await?
        == Some(challenge.individual_id);
    if rules::same_person(number.as_deref(), &numbers, linked) {
        Ok(())
    } else {
        Err(refused(&Refusal::OtherPerson))
    }
}

/// An ID number claim as text.
fn id_number(value: Option<&Value>) -> Option<String> {
    match value {
        Some(Value::String(s)) => Some(s.trim().to_owned()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

/// The provider's userinfo for the access token the registry redeemed: plain JSON read from the
/// provider itself, or its signed JWT verified with the provider's keys (decrypted first when it
/// came encrypted). It must be about the ID token's subject (OpenID Connect Core §5.3.2).
async fn userinfo(
    state: &AppState,
    challenge: &LivenessChallengeRow,
    client_id: &str,
    claims: &serde_json::Map<String, Value>,
    access_token: &str,
) -> Result<serde_json::Map<String, Value>, ApiError> {
    let answer = state.exchange.userinfo(access_token).await.map_err(|(_, detail)| {
        tracing::warn!(error = %detail, "liveness: the provider's userinfo could not be read");
        // Whatever the provider said, the caller's own registry token is fine: not a 401.
        ApiError::new(
            ProblemKind::Unavailable,
            format!("The person's ID number could not be read from the identity provider ({detail}). Start the check again."),
        )
    })?;
    let info = match answer {
        Userinfo::Claims(info) => info,
        Userinfo::Signed(jwt) => {
            let mut audiences = vec![client_id];
            audiences.extend(state.exchange.client_id());
            state
                .auth
                .verify_signed_userinfo(&jwt, &challenge.issuer, &audiences)
                .await
                .map_err(|e| refused(&Refusal::Token(format!("its userinfo: {e}"))))?
        }
    };
    match (info.get("sub"), claims.get("sub")) {
        (Some(a), Some(b)) if a == b => Ok(info),
        _ => Err(refused(&Refusal::Token(
            "its userinfo is about another subject than its ID token".into(),
        ))),
    }
}

fn refused(reason: &Refusal) -> ApiError {
    let message = reason.message();
    tracing::warn!(reason = reason.code(), "liveness proof refused");
    ApiError::from(
        Problem::new(ProblemKind::LivenessRefused, message.clone()).with_errors(vec![FieldError {
            field: "proof".into(),
            code: reason.code().into(),
            message,
        }]),
    )
}

/// Leave out what is not known rather than send nulls the record's schema would have to allow.
fn strip_nulls(body: Value) -> Value {
    match body {
        Value::Object(map) => {
            Value::Object(map.into_iter().filter(|(_, v)| !v.is_null()).collect())
        }
        other => other,
    }
}
