//! ID token and signed-userinfo verification (OpenID Connect Core §3.1.3.7 and §5.3.2), by the
//! `openidconnect` crate: signature against the provider's keys, `iss`, `aud`, `exp`, `nonce`,
//! `at_hash` and the algorithm allow-list for ID tokens; signature, `sub` (and `iss`/`aud` when
//! present) for userinfo.
//!
//! What stays ours, because the crate leaves it to the application: `azp` with several
//! audiences (the crate skips §3.1.3.7 items 4–5), `iat`/`nbf` in the future, the `acr` and
//! `auth_time` rules a liveness check needs (measured from the request, with leeway), clock
//! leeway on `exp`, naming an encrypted (JWE) token as such, and refusing `none` and HMAC by name
//! before any key is looked up: an HS256 token "verified" with the provider's public key as the
//! secret is the classic forgery, and an unsigned token proves nothing. Accepted signatures:
//! RS256, PS256, ES256 for ID tokens; the crate accepts RS256 only for signed userinfo.

use std::time::{Duration, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use openidconnect::core::{
    CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeySet, CoreJwsSigningAlgorithm,
    CoreUserInfoJsonWebToken, CoreUserInfoVerifier,
};
use openidconnect::{
    AccessToken, AccessTokenHash, ClaimsVerificationError, ClientId, IssuerUrl, Nonce,
    SignatureVerificationError, SubjectIdentifier,
};
use serde_json::{Map, Value};

use super::jwks::{JwksCache, KeyError};
use super::{SignInError, TokenError};

/// The signature algorithms Doorstep accepts from a provider.
pub const ALLOWED_ALGS: [CoreJwsSigningAlgorithm; 3] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
];

/// What this sign-in attempt expects of the ID token.
#[derive(Debug, Clone)]
pub struct IdTokenExpectations<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub nonce: &'a str,
    /// The `acr_values` requested; when not empty, `acr` must contain one of them.
    pub acr_values: &'a [String],
    /// The `max_age` requested; when set, `auth_time` must be recent enough.
    pub max_age: Option<u64>,
    /// When the authorization request was made (Unix seconds).
    pub requested_at: i64,
    /// Current time (Unix seconds).
    pub now: i64,
    pub leeway: u64,
    /// The access token issued with the ID token; its `at_hash`, when present, must match.
    pub access_token: Option<&'a str>,
}

/// The verified ID token's claims that matter to Doorstep, plus all of them in `raw`.
#[derive(Debug, Clone)]
pub struct IdTokenClaims {
    pub subject: String,
    pub expires_at: i64,
    pub issued_at: i64,
    pub auth_time: Option<i64>,
    pub acr: Option<String>,
    pub raw: Map<String, Value>,
}

/// Verify an ID token: signature, `iss`, `aud`, `azp`, `exp`, `iat`, `nonce`, `at_hash`, and
/// `acr` / `auth_time` when they were asked for.
pub async fn verify_id_token(
    token: &str,
    keys: &JwksCache,
    expect: &IdTokenExpectations<'_>,
) -> Result<IdTokenClaims, SignInError> {
    let (peek, keys) = peek_and_keys(token, keys, SignInError::IdToken).await?;
    check_id_token(token, keys, peek, expect).map_err(SignInError::IdToken)
}

fn check_id_token(
    token: &str,
    keys: CoreJsonWebKeySet,
    peek: Unverified,
    expect: &IdTokenExpectations<'_>,
) -> Result<IdTokenClaims, TokenError> {
    let id_token: CoreIdToken = token.parse().map_err(malformed)?;
    let expiry_clock = expect.now.saturating_sub(expect.leeway as i64).max(0) as u64;
    let verifier = CoreIdTokenVerifier::new_public_client(
        ClientId::new(expect.client_id.to_owned()),
        issuer_url(expect.issuer)?,
        keys,
    )
    .set_allowed_algs(ALLOWED_ALGS)
    // Other audiences are acceptable when `azp` names us (checked below).
    .set_other_audience_verifier_fn(|_| true)
    // `exp` with the leeway: the crate expires a token when its clock reaches `exp`.
    .set_time_fn(move || (UNIX_EPOCH + Duration::from_secs(expiry_clock)).into());
    let nonce = Nonce::new(expect.nonce.to_owned());
    let verified = id_token
        .claims(&verifier, &nonce)
        .map_err(|e| claims_error(e, &peek, expect.issuer, expect.client_id))?;
    if let (Some(expected), Some(access_token)) =
        (verified.access_token_hash(), expect.access_token)
    {
        let alg = id_token.signing_alg().map_err(malformed)?;
        let key = id_token.signing_key(&verifier).map_err(malformed)?;
        let access_token = AccessToken::new(access_token.to_owned());
        if AccessTokenHash::from_token(&access_token, alg, key).map_err(malformed)? != *expected {
            return Err(TokenError::AccessTokenHashMismatch);
        }
    }
    // Signature verified: the payload peeked at before is the provider's.
    check_id_token_claims(peek.payload, expect)
}

fn check_id_token_claims(
    claims: Map<String, Value>,
    expect: &IdTokenExpectations<'_>,
) -> Result<IdTokenClaims, TokenError> {
    let text = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_owned);
    let number = |name: &str| claims.get(name).and_then(Value::as_i64);
    // azp (§3.1.3.7 items 4–5): with several audiences the token must say it is for us.
    let audiences = match claims.get("aud") {
        Some(Value::Array(a)) => a.len(),
        _ => 1,
    };
    match text("azp") {
        Some(azp) if azp != expect.client_id => {
            return Err(TokenError::WrongAuthorizedParty {
                expected: expect.client_id.into(),
                found: azp,
            })
        }
        None if audiences > 1 => return Err(TokenError::MissingClaim("azp".into())),
        _ => {}
    }
    let subject = text("sub").ok_or_else(|| TokenError::MissingClaim("sub".into()))?;
    let issued_at = number("iat").ok_or_else(|| TokenError::MissingClaim("iat".into()))?;
    let expires_at = number("exp").ok_or_else(|| TokenError::MissingClaim("exp".into()))?;
    check_not_before(&claims, expect.now, expect.leeway)?;
    let acr = text("acr");
    if !expect.acr_values.is_empty() {
        // eSignet may put several space-separated values in `acr`.
        let found = acr.clone().unwrap_or_default();
        if !found
            .split_whitespace()
            .any(|v| expect.acr_values.iter().any(|r| r == v))
        {
            return Err(TokenError::AcrNotSatisfied {
                requested: expect.acr_values.join(", "),
                found: if found.is_empty() {
                    "nothing".into()
                } else {
                    found
                },
            });
        }
    }
    let auth_time = number("auth_time");
    if let Some(max_age) = expect.max_age {
        let at = auth_time.ok_or_else(|| TokenError::MissingClaim("auth_time".into()))?;
        // Measured from the request: with max_age=0 the person must have authenticated after
        // the request was made (a fresh login, as a liveness check needs).
        if at + (max_age as i64) + (expect.leeway as i64) < expect.requested_at {
            return Err(TokenError::AuthTooOld { max_age });
        }
    }
    Ok(IdTokenClaims {
        subject,
        expires_at,
        issued_at,
        auth_time,
        acr,
        raw: claims,
    })
}

/// `iat` and `nbf` must not be in the future (beyond the leeway); the crate checks neither.
fn check_not_before(claims: &Map<String, Value>, now: i64, leeway: u64) -> Result<(), TokenError> {
    let limit = now + leeway as i64;
    for name in ["iat", "nbf"] {
        if claims
            .get(name)
            .and_then(Value::as_i64)
            .is_some_and(|t| t > limit)
        {
            return Err(TokenError::IssuedInFuture);
        }
    }
    Ok(())
}

/// Verify a signed userinfo response (`application/jwt`) and return its claims. eSignet omits
/// `iss`/`aud` in some versions, so they are checked only when present; `sub` must be the ID
/// token's.
pub async fn verify_userinfo_jwt(
    token: &str,
    keys: &JwksCache,
    issuer: &str,
    client_id: &str,
    subject: &str,
    leeway: u64,
) -> Result<Map<String, Value>, SignInError> {
    let (peek, keys) = peek_and_keys(token, keys, SignInError::UserInfo)
        .await
        .map_err(|e| match e {
            SignInError::UserInfo(TokenError::Encrypted) => SignInError::EncryptedUserInfo,
            e => e,
        })?;
    let check = || {
        if !peek.payload.contains_key("sub") {
            return Err(TokenError::MissingClaim("sub".into()));
        }
        let jwt: CoreUserInfoJsonWebToken =
            serde_json::from_value(Value::String(token.to_owned())).map_err(malformed)?;
        let verifier = CoreUserInfoVerifier::new(
            ClientId::new(client_id.to_owned()),
            issuer_url(issuer)?,
            keys,
            Some(SubjectIdentifier::new(subject.to_owned())),
        )
        .require_issuer_match(peek.payload.contains_key("iss"))
        .require_audience_match(peek.payload.contains_key("aud"));
        jwt.claims(&verifier)
            .map_err(|e| claims_error(e, &peek, issuer, client_id))?;
        // Optional time claims (signed userinfo may omit them) are checked when present.
        let now = super::unix_now();
        if let Some(exp) = peek.payload.get("exp").and_then(Value::as_i64) {
            if exp + (leeway as i64) <= now {
                return Err(TokenError::Expired);
            }
        }
        check_not_before(&peek.payload, now, leeway)?;
        Ok(peek.payload)
    };
    check().map_err(SignInError::UserInfo)
}

/// §5.3.2: the userinfo `sub` must be exactly the ID token's, or the answer is someone else's.
pub(crate) fn check_userinfo_subject(
    claims: &Map<String, Value>,
    subject: &str,
) -> Result<(), TokenError> {
    match claims.get("sub").and_then(Value::as_str) {
        Some(sub) if sub == subject => Ok(()),
        Some(_) => Err(TokenError::SubjectMismatch),
        None => Err(TokenError::MissingClaim("sub".into())),
    }
}

fn issuer_url(issuer: &str) -> Result<IssuerUrl, TokenError> {
    IssuerUrl::new(issuer.to_owned()).map_err(malformed)
}

fn malformed(err: impl std::fmt::Display) -> TokenError {
    TokenError::Malformed(err.to_string())
}

/// The crate's refusal, named for the person (the crate decides; this only words it).
fn claims_error(
    err: ClaimsVerificationError,
    peek: &Unverified,
    issuer: &str,
    client_id: &str,
) -> TokenError {
    match err {
        ClaimsVerificationError::Expired(_) => TokenError::Expired,
        ClaimsVerificationError::InvalidIssuer(_) => TokenError::WrongIssuer {
            expected: issuer.into(),
            found: peek.text("iss").unwrap_or_default(),
        },
        ClaimsVerificationError::InvalidAudience(_) => TokenError::WrongAudience {
            expected: client_id.into(),
        },
        ClaimsVerificationError::InvalidNonce(_) => TokenError::NonceMismatch,
        ClaimsVerificationError::InvalidSubject(_) => TokenError::SubjectMismatch,
        ClaimsVerificationError::SignatureVerification(
            SignatureVerificationError::CryptoError(_),
        ) => TokenError::BadSignature,
        // No key of the provider's fits the algorithm, or the crate refuses it for this token.
        ClaimsVerificationError::SignatureVerification(_) => TokenError::DisallowedAlg {
            alg: peek.alg.clone(),
            hint: " with the provider's keys for this token".into(),
        },
        other => malformed(other),
    }
}

/// The token's unverified parts, and the provider's keys to verify it with.
async fn peek_and_keys(
    token: &str,
    keys: &JwksCache,
    wrap: fn(TokenError) -> SignInError,
) -> Result<(Unverified, CoreJsonWebKeySet), SignInError> {
    let peek = Unverified::parse(token).map_err(wrap)?;
    match keys.keys_for(peek.kid.as_deref()).await {
        Ok(set) => Ok((peek, set)),
        Err(KeyError::Token(t)) => Err(wrap(t)),
        Err(KeyError::Fetch(e)) => Err(e),
    }
}

/// What is read before the signature is checked: the header's `alg` and `kid` to refuse a bad
/// algorithm by name and choose the keys, and the payload, trusted only once the crate has
/// verified the signature over it.
struct Unverified {
    alg: String,
    kid: Option<String>,
    payload: Map<String, Value>,
}

impl Unverified {
    fn parse(token: &str) -> Result<Unverified, TokenError> {
        let parts: Vec<&str> = token.trim().split('.').collect();
        match parts.len() {
            3 => {}
            5 => return Err(TokenError::Encrypted),
            _ => {
                return Err(TokenError::Malformed(
                    "a JWT has three base64url parts separated by dots".into(),
                ))
            }
        }
        let header = json_part(parts[0], "header")?;
        let text = |k: &str| header.get(k).and_then(Value::as_str).map(str::to_owned);
        let alg =
            text("alg").ok_or_else(|| TokenError::Malformed("the header has no `alg`".into()))?;
        accepted_alg(&alg)?;
        Ok(Unverified {
            alg,
            kid: text("kid"),
            payload: json_part(parts[1], "payload")?,
        })
    }

    fn text(&self, name: &str) -> Option<String> {
        self.payload
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
    }
}

fn json_part(part: &str, name: &str) -> Result<Map<String, Value>, TokenError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| TokenError::Malformed(format!("the {name} is not base64url")))?;
    serde_json::from_slice(&bytes)
        .map_err(|_| TokenError::Malformed(format!("the {name} is not a JSON object")))
}

/// `none` and HMAC refused by name, anything else outside [`ALLOWED_ALGS`] too (the crate
/// enforces the same list on the signature it checks).
fn accepted_alg(name: &str) -> Result<(), TokenError> {
    let refuse = |hint: &str| TokenError::DisallowedAlg {
        alg: name.to_owned(),
        hint: hint.to_owned(),
    };
    if name.eq_ignore_ascii_case("none") {
        return Err(refuse(": unsigned tokens are never accepted"));
    }
    if name.to_ascii_uppercase().starts_with("HS") {
        return Err(refuse(
            ": shared-secret (HMAC) signatures are never accepted",
        ));
    }
    match serde_json::from_value(Value::String(name.to_owned())) {
        Ok(alg) if ALLOWED_ALGS.contains(&alg) => Ok(()),
        _ => Err(refuse(" (accepted: RS256, PS256, ES256)")),
    }
}

#[cfg(test)]
#[path = "verify_tests.rs"]
mod tests;
