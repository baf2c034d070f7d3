//! ID token and signed-userinfo verification (OpenID Connect Core §3.1.3.7 and §5.3.2).
//!
//! Accepted signatures: RS256, PS256, ES256 only. `none` and HMAC are refused by name before any
//! key is looked up: an HS256 token "verified" with the provider's public key as the secret is
//! the classic forgery, and an unsigned token proves nothing.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

use super::jwks::{JwksCache, KeyError};
use super::random::constant_time_eq;
use super::{SignInError, TokenError};

/// The signature algorithms Doorstep accepts from a provider.
pub const ALLOWED_ALGS: [Algorithm; 3] = [Algorithm::RS256, Algorithm::PS256, Algorithm::ES256];

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

/// Verify an ID token: signature, `iss`, `aud`, `azp`, `exp`, `iat`, `nonce`, and `acr` /
/// `auth_time` when they were asked for.
pub async fn verify_id_token(
    token: &str,
    keys: &JwksCache,
    expect: &IdTokenExpectations<'_>,
) -> Result<IdTokenClaims, SignInError> {
    let claims = verified_claims(
        token,
        keys,
        expect.issuer,
        Some(expect.client_id),
        &["exp", "iss", "aud", "sub"],
        expect.leeway,
    )
    .await
    .map_err(|e| e.into_sign_in(SignInError::IdToken))?;
    check_id_token_claims(claims, expect).map_err(SignInError::IdToken)
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
    if issued_at > expect.now + expect.leeway as i64 {
        return Err(TokenError::IssuedInFuture);
    }
    let expires_at = number("exp").ok_or_else(|| TokenError::MissingClaim("exp".into()))?;
    match text("nonce") {
        Some(nonce) if constant_time_eq(&nonce, expect.nonce) => {}
        _ => return Err(TokenError::NonceMismatch),
    }
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
    let peek = Unverified::parse(token).map_err(|e| match e {
        TokenError::Encrypted => SignInError::EncryptedUserInfo,
        e => SignInError::UserInfo(e),
    })?;
    let claims = verified_claims(
        token,
        keys,
        issuer,
        peek.has_aud.then_some(client_id),
        &["sub"],
        leeway,
    )
    .await
    .map_err(|e| e.into_sign_in(SignInError::UserInfo))?;
    check_userinfo_subject(&claims, subject).map_err(SignInError::UserInfo)?;
    Ok(claims)
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

enum VerifyError {
    Token(TokenError),
    Fetch(SignInError),
}

impl VerifyError {
    fn into_sign_in(self, wrap: fn(TokenError) -> SignInError) -> SignInError {
        match self {
            VerifyError::Token(t) => wrap(t),
            VerifyError::Fetch(e) => e,
        }
    }
}

impl From<TokenError> for VerifyError {
    fn from(e: TokenError) -> Self {
        VerifyError::Token(e)
    }
}

/// Signature, `iss` (when present or required), `aud` (when `audience` is given), `exp`/`nbf`
/// (when present or required), the `required` claims. Returns the claims.
async fn verified_claims(
    token: &str,
    keys: &JwksCache,
    issuer: &str,
    audience: Option<&str>,
    required: &[&str],
    leeway: u64,
) -> Result<Map<String, Value>, VerifyError> {
    let peek = Unverified::parse(token)?;
    let alg = accepted_alg(&peek.alg)?;
    let kid = peek.kid.as_deref().ok_or_else(|| {
        TokenError::Malformed("the header has no `kid`, so the signing key cannot be chosen".into())
    })?;
    let jwk = keys.key(kid).await.map_err(|e| match e {
        KeyError::Token(t) => VerifyError::Token(t),
        KeyError::Fetch(f) => VerifyError::Fetch(f),
    })?;
    let key = key_for(&jwk, kid, alg)?;
    let mut validation = Validation::new(alg);
    validation.leeway = leeway;
    validation.validate_nbf = true;
    validation.set_issuer(&[issuer]);
    match audience {
        Some(aud) => validation.set_audience(&[aud]),
        None => validation.validate_aud = false,
    }
    validation.set_required_spec_claims(required);
    // Optional time claims (signed userinfo may omit `exp`) are checked when present.
    validation.validate_exp = required.contains(&"exp") || peek.has_exp;
    let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation).map_err(
        |e| match e.kind() {
            ErrorKind::InvalidSignature => TokenError::BadSignature,
            ErrorKind::ExpiredSignature => TokenError::Expired,
            ErrorKind::ImmatureSignature => TokenError::IssuedInFuture,
            ErrorKind::InvalidIssuer => TokenError::WrongIssuer {
                expected: issuer.into(),
                found: peek.iss.clone().unwrap_or_default(),
            },
            ErrorKind::InvalidAudience => TokenError::WrongAudience {
                expected: audience.unwrap_or_default().into(),
            },
            ErrorKind::MissingRequiredClaim(c) => TokenError::MissingClaim(c.clone()),
            other => TokenError::Malformed(format!("{other:?}")),
        },
    )?;
    Ok(data.claims)
}

/// The header fields used to choose algorithm and key; nothing else is trusted before the
/// signature is checked.
struct Unverified {
    alg: String,
    kid: Option<String>,
    iss: Option<String>,
    has_aud: bool,
    has_exp: bool,
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
        let payload = json_part(parts[1], "payload")?;
        let text =
            |m: &Map<String, Value>, k: &str| m.get(k).and_then(Value::as_str).map(str::to_owned);
        Ok(Unverified {
            alg: text(&header, "alg")
                .ok_or_else(|| TokenError::Malformed("the header has no `alg`".into()))?,
            kid: text(&header, "kid"),
            iss: text(&payload, "iss"),
            has_aud: payload.contains_key("aud"),
            has_exp: payload.contains_key("exp"),
        })
    }
}

fn json_part(part: &str, name: &str) -> Result<Map<String, Value>, TokenError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| TokenError::Malformed(format!("the {name} is not base64url")))?;
    serde_json::from_slice(&bytes)
        .map_err(|_| TokenError::Malformed(format!("the {name} is not a JSON object")))
}

fn accepted_alg(name: &str) -> Result<Algorithm, TokenError> {
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
    match name.parse::<Algorithm>() {
        Ok(alg) if ALLOWED_ALGS.contains(&alg) => Ok(alg),
        _ => Err(refuse(" (accepted: RS256, PS256, ES256)")),
    }
}

/// The verification key, if the published JWK fits `alg` (type, curve, and `alg` if published).
fn key_for(jwk: &Jwk, kid: &str, alg: Algorithm) -> Result<DecodingKey, TokenError> {
    let mismatch = |what: &str| TokenError::DisallowedAlg {
        alg: format!("{alg:?}"),
        hint: format!(" with key `{kid}`, which {what}"),
    };
    if let Some(published) = jwk.common.key_algorithm {
        if published.to_string() != format!("{alg:?}") {
            return Err(mismatch(&format!("is published for {published}")));
        }
    }
    let fits = match (&jwk.algorithm, alg) {
        (AlgorithmParameters::RSA(_), Algorithm::RS256 | Algorithm::PS256) => true,
        (AlgorithmParameters::EllipticCurve(p), Algorithm::ES256) => p.curve == EllipticCurve::P256,
        _ => false,
    };
    if !fits {
        return Err(mismatch("is of another key type or curve"));
    }
    DecodingKey::from_jwk(jwk)
        .map_err(|e| TokenError::Malformed(format!("key `{kid}` is unusable: {e}")))
}

#[cfg(test)]
#[path = "verify_tests.rs"]
mod tests;
