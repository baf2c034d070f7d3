//! What can go wrong when authenticating a request, and how each failure reaches the client.
//!
//! Every message says what was wrong *and* what to do, because the people who read them are
//! integrators wiring an identity provider or a client, usually without access to server logs.
//! Messages never echo the token itself (it may be valid elsewhere) and never reveal key material.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

use crate::problem::{Problem, ProblemKind};

/// The `realm` every challenge names, so clients talking to several services can tell them apart.
pub const REALM: &str = "doorstep-registry";

/// Why a bearer token was not accepted (or could not be checked).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error(
        "this registry has no identity provider configured; set [auth] issuer (and audience) in its config file or start it with --dev-auth"
    )]
    NotConfigured,
    #[error("no Authorization header: send `Authorization: Bearer <access token>`")]
    MissingHeader,
    #[error(
        "the Authorization header does not use the Bearer scheme: send `Authorization: Bearer <access token>`"
    )]
    NotBearer,
    #[error("the bearer token is not a well-formed signed JWT: {0}")]
    Malformed(String),
    #[error(
        "the token was signed with key `{kid}`, which the identity provider does not publish (yet); if keys were just rotated, retry in a minute, otherwise sign in again"
    )]
    UnknownKid { kid: String },
    #[error("the token's signature does not verify; it was altered or not issued by the trusted identity provider; sign in again")]
    BadSignature,
    #[error("the token has expired; sign in again to get a fresh one")]
    Expired,
    #[error(
        "the token is not valid yet (its nbf or iat is in the future); check the device's clock"
    )]
    NotYetValid,
    #[error("the token was issued by an identity provider this registry does not trust; expected issuer `{expected}`")]
    WrongIssuer { expected: String },
    #[error("the token was issued for another service; its aud must include `{expected}`")]
    WrongAudience { expected: String },
    #[error(
        "the token is signed with algorithm `{alg}`, which this registry does not accept{hint}"
    )]
    DisallowedAlg { alg: String, hint: String },
    #[error(
        "cannot reach the identity provider to check tokens ({url}: {reason}); try again shortly"
    )]
    ProviderUnreachable { url: String, reason: String },
    #[error("the token grants no role this registry knows in claim `{claim}` (known: citizen, agent, staff, admin); ask the identity provider's administrator to assign one")]
    NoRole { claim: String },
    #[error("the token gives the agent role but no assigned area in claim `{claim}`; an agent must be assigned to an area by the identity provider's administrator")]
    AgentWithoutArea { claim: String },
    #[error("this identity holds no role in this registry: identities from `{issuer}` get their role from the staff directory, which has no live entry for them; ask a registry administrator to add you")]
    NoRoleHere { issuer: String },
    #[error(
        "cannot read the staff directory to give this identity its role ({0}); try again shortly"
    )]
    DirectoryUnavailable(String),
    #[error("invalid [auth] configuration: {0}")]
    Config(String),
    #[error("development sign-in (--dev-auth): {0}")]
    Dev(String),
}

impl AuthError {
    /// The problem kind this error is reported as.
    pub fn kind(&self) -> ProblemKind {
        match self {
            // Not the caller's fault: the provider is down, retrying later helps.
            AuthError::ProviderUnreachable { .. } | AuthError::DirectoryUnavailable(_) => {
                ProblemKind::Unavailable
            }
            // Who they are is proven; they may just do nothing here.
            AuthError::NoRoleHere { .. } => ProblemKind::Forbidden,
            // The server itself is misconfigured; no token would help.
            AuthError::Config(_) | AuthError::Dev(_) => ProblemKind::Internal,
            _ => ProblemKind::Unauthenticated,
        }
    }

    /// The `WWW-Authenticate` challenge for a 401 (RFC 6750 §3), or `None` for other statuses.
    ///
    /// A request that carried no credentials gets a bare challenge without an error code, as
    /// RFC 6750 §3.1 asks; everything else is `invalid_token` with the message as description.
    pub fn challenge(&self) -> Option<HeaderValue> {
        if self.kind() != ProblemKind::Unauthenticated {
            return None;
        }
        let value = match self {
            AuthError::MissingHeader => format!("Bearer realm=\"{REALM}\""),
            _ => format!(
                "Bearer realm=\"{REALM}\", error=\"invalid_token\", error_description=\"{}\"",
                description_chars(&self.to_string())
            ),
        };
        Some(HeaderValue::from_str(&value).expect("challenge is visible ASCII"))
    }
}

/// RFC 6750 limits `error_description` to visible ASCII minus `"` and `\`; anything else becomes
/// a close substitute so the header is always valid.
fn description_chars(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '"' | '`' => '\'',
            '\\' => '/',
            c if (' '..='~').contains(&c) => c,
            _ => ' ',
        })
        .collect()
}

impl From<AuthError> for Problem {
    fn from(err: AuthError) -> Problem {
        Problem::new(err.kind(), err.to_string())
    }
}

/// The full HTTP answer for a failed authentication: problem+json, plus the RFC 6750
/// `WWW-Authenticate` challenge when the status is 401.
pub fn unauthenticated_response(err: &AuthError) -> Response {
    let mut response = Problem::from(err.clone()).into_response();
    if let Some(challenge) = err.challenge() {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, challenge);
    }
    response
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        unauthenticated_response(&self)
    }
}
