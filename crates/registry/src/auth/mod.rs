//! Who is calling: bearer-token authentication for the `/v1` API.
//!
//! Clients sign in with the national identity provider (eSignet, or any OpenID Connect provider)
//! and send the access token as `Authorization: Bearer <jwt>`. The registry verifies it itself
//! against the provider's published keys: no call to the provider per request, so sign-in keeps
//! working for tokens already issued while the provider is briefly down.
//!
//! Map:
//! - [`Authenticator`]: verifies a token and yields a [`Principal`]; build it with
//!   [`Authenticator::from_config`] and put it in the router state. Handlers then take
//!   `principal: Principal` as an argument (the extractor is in `extract.rs`).
//! - [`AuthConfig`]: the `[auth]` section of the config file.
//! - [`AuthError`]: every refusal, with a message an integrator can act on, and
//!   [`unauthenticated_response`] for the 401 (+ `WWW-Authenticate`) / 503 answer.
//! - [`dev`]: development sign-in (`--dev-auth`, `doorstep-registry dev-token`).
//! - [`exchange`]: `POST /v1/auth/token-exchange`, redeeming the app's authorization code with
//!   the registry's `private_key_jwt` client key (eSignet), and `POST /v1/auth/userinfo`,
//!   fetching userinfo for the app and decrypting it when the provider encrypts it (eSignet's JWE
//!   userinfo; the decryption itself is in `jwe.rs`).
//!
//! What a token must satisfy: three-part JWS; `alg` in `allowed_algs`, never `none` or HS*, and
//! matching the type (and `alg`, if published) of the key its `kid` names; a valid signature;
//! `iss` equal to the configured issuer; `aud` containing the configured audience; `exp` in the
//! future and `nbf`/`iat` not in the future, each within `leeway_seconds`; a `sub`; a role (see
//! [`principal`]'s rules); and an area if the role is agent.

mod config;
pub mod dev;
mod error;
pub mod exchange;
mod extract;
mod jwe;
mod jwks;
mod principal;
mod roles;
mod verified;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

pub use config::{AuthConfig, IssuerConfig};
pub use dev::{dev_token, DEV_AUDIENCE, DEV_ISSUER};
pub use error::{unauthenticated_response, AuthError, REALM};
pub use exchange::{
    exchange_routes, ExchangeConfig, ExchangeError, Redeemed, TokenExchange, Userinfo,
};
pub use jwks::UNKNOWN_KID_REFETCH_INTERVAL;
pub use principal::{Principal, Role};

use config::IssuerSettings;
use jwks::{JwksCache, JwksSource};
use principal::{ClaimNames, Identity};
use roles::{DirectoryGrant, IssuerPolicy};
use verified::VerifiedTokens;

/// Where the registry's staff directory is read when a role is given (the store, in the
/// server). Kept behind a trait so authentication does not depend on the storage layer.
#[async_trait::async_trait]
pub trait StaffDirectory: Send + Sync {
    /// The live entry (never a revoked one) for this issuer and subject, or else for this
    /// issuer and verified e-mail address: its role and areas.
    async fn live_grant(
        &self,
        issuer: &str,
        subject: &str,
        verified_email: Option<&str>,
    ) -> Result<Option<(Role, Vec<String>)>, String>;
}

/// Verifies bearer tokens. Cheap to clone (one `Arc`); the key cache is shared by all clones.
#[derive(Clone)]
pub struct Authenticator {
    inner: Arc<Inner>,
}

struct Inner {
    /// The trusted issuers, matched by `iss` exactly.
    providers: Vec<Provider>,
    /// Read on every request whose issuer may grant more than citizen, so a grant or a
    /// revocation counts from the next request (installed by the server once its store is open).
    directory: std::sync::OnceLock<Arc<dyn StaffDirectory>>,
    /// The development key's public half, when `--dev-auth` is on.
    dev: Option<DecodingKey>,
    leeway: u64,
    /// The ID type of the number in the individual-id claim (see [`AuthConfig`]).
    individual_id_type: String,
    /// Tokens that passed every check, until they expire (see `verified.rs`).
    verified: VerifiedTokens,
    /// How many signatures were checked: for tests and diagnostics.
    signature_checks: std::sync::atomic::AtomicU64,
}

/// A trusted OpenID Connect provider.
struct Provider {
    issuer: String,
    audience: String,
    algorithms: Vec<Algorithm>,
    names: ClaimNames,
    policy: IssuerPolicy,
    jwks: JwksCache,
}

/// The development issuer (`--dev-auth`) is trusted for its role claim, as its tokens are made
/// on the server by whoever holds its key.
fn dev_policy() -> IssuerPolicy {
    IssuerPolicy {
        trust_role_claim: true,
        grants: Role::ALL.to_vec(),
        default_role_citizen: true,
    }
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field(
                "issuers",
                &self
                    .inner
                    .providers
                    .iter()
                    .map(|p| p.issuer.as_str())
                    .collect::<Vec<_>>(),
            )
            .field("dev_auth", &self.inner.dev.is_some())
            .finish()
    }
}

impl Authenticator {
    /// The authenticator the server's configuration asks for: the `[auth]` provider, if any, and
    /// development sign-in when `--dev-auth` is on. Makes no network request (keys are fetched
    /// on the first token); with `--dev-auth` it creates the development key if needed and logs a
    /// warning.
    pub async fn from_config(config: &crate::config::Config) -> Result<Authenticator, AuthError> {
        Authenticator::new(&config.auth, config.dev_auth.then_some(&*config.data_dir))
    }

    /// As [`Authenticator::from_config`], from the parts: the `[auth]` settings and, to enable
    /// development sign-in, the data directory holding its key.
    pub fn new(auth: &AuthConfig, dev_data_dir: Option<&Path>) -> Result<Authenticator, AuthError> {
        let settings = auth.issuer_settings().map_err(AuthError::Config)?;
        let leeway = auth.leeway_seconds;
        let algorithms = auth.algorithms().map_err(AuthError::Config)?;
        let providers = settings
            .into_iter()
            .map(
                |IssuerSettings {
                     issuer,
                     audience,
                     jwks_url,
                     names,
                     policy,
                 }| {
                    let source = match jwks_url {
                        Some(url) => JwksSource::Url(url),
                        None => JwksSource::Discover {
                            issuer: issuer.clone(),
                        },
                    };
                    Ok(Provider {
                        jwks: JwksCache::new(source, Duration::from_secs(auth.jwks_cache_seconds))?,
                        issuer,
                        audience,
                        algorithms: algorithms.clone(),
                        names,
                        policy,
                    })
                },
            )
            .collect::<Result<Vec<_>, AuthError>>()?;
        let dev = match dev_data_dir {
            Some(dir) => {
                let key = dev::dev_decoding_key(dir)?;
                tracing::warn!(
                    key = %dev::dev_key_path(dir).display(),
                    "DEVELOPMENT SIGN-IN IS ON (--dev-auth): anyone who can read this key can act \
                     as any user, admin included. Never use it on a registry holding real data."
                );
                Some(key)
            }
            None => None,
        };
        if providers.is_empty() && dev.is_none() {
            tracing::warn!("no identity provider configured: every authenticated request will be refused ([auth] issuer or --dev-auth)");
        }
        Ok(Authenticator {
            inner: Arc::new(Inner {
                providers,
                directory: std::sync::OnceLock::new(),
                dev,
                leeway,
                individual_id_type: auth.individual_id_type.clone(),
                verified: VerifiedTokens::default(),
                signature_checks: Default::default(),
            }),
        })
    }

    /// The roles identities from `issuer` may hold at most, or `None` when this registry does
    /// not trust `issuer` (the development issuer counts only with `--dev-auth`).
    pub fn issuer_grants(&self, issuer: &str) -> Option<Vec<Role>> {
        match self.inner.providers.iter().find(|p| p.issuer == issuer) {
            Some(p) => Some(p.policy.grants.clone()),
            None if issuer == DEV_ISSUER && self.inner.dev.is_some() => Some(dev_policy().grants),
            None => None,
        }
    }

    /// Every trusted issuer, as tokens name it.
    pub fn issuers(&self) -> Vec<String> {
        let mut all: Vec<String> = self
            .inner
            .providers
            .iter()
            .map(|p| p.issuer.clone())
            .collect();
        if self.inner.dev.is_some() {
            all.push(DEV_ISSUER.to_owned());
        }
        all
    }

    /// The ID type of the number the provider vouches for in its individual-id claim.
    pub fn individual_id_type(&self) -> &str {
        &self.inner.individual_id_type
    }

    /// The claim in which `issuer`'s tokens carry the person's ID number (`individual_id` by
    /// default; `individual_id_claim` in its settings).
    pub fn individual_id_claim(&self, issuer: &str) -> String {
        self.inner
            .providers
            .iter()
            .find(|p| p.issuer == issuer)
            .map(|p| p.names.individual_id.clone())
            .unwrap_or_else(|| "individual_id".into())
    }

    /// Read roles from this staff directory from now on (see [`StaffDirectory`]). Set once;
    /// later calls are ignored, so the directory a running server uses cannot be swapped.
    pub fn use_directory(&self, directory: Arc<dyn StaffDirectory>) {
        let _ = self.inner.directory.set(directory);
    }

    /// Check the `Authorization` header of a request (`None` when it had none) and say who is
    /// calling, with the role the registry gives them now (`roles.rs`).
    pub async fn authenticate(
        &self,
        authorization_header: Option<&str>,
    ) -> Result<Principal, AuthError> {
        let inner = &*self.inner;
        let identity = self.verified_identity(authorization_header).await?;
        let dev_policy = dev_policy();
        let dev_names = ClaimNames::default();
        let (policy, names) = match inner.providers.iter().find(|p| p.issuer == identity.issuer) {
            Some(p) => (&p.policy, &p.names),
            // Only the development key verifies a token of another issuer than the providers'.
            None => (&dev_policy, &dev_names),
        };
        let grant = match (inner.directory.get(), policy.uses_directory()) {
            (Some(directory), true) => directory
                .live_grant(
                    &identity.issuer,
                    &identity.subject,
                    identity.verified_email.as_deref(),
                )
                .await
                .map_err(AuthError::DirectoryUnavailable)?
                .map(|(role, areas)| DirectoryGrant { role, areas }),
            _ => None,
        };
        let resolved = roles::resolve_role(
            &identity.issuer,
            policy,
            grant.as_ref(),
            &identity.claimed,
            identity.claimed_area.as_deref(),
            &names.role,
            &names.area,
        )?;
        tracing::trace!(role = %resolved.role, source = ?resolved.source, "role given");
        Ok(Principal {
            issuer: identity.issuer,
            subject: identity.subject,
            role: resolved.role,
            area: resolved.area,
            areas: resolved.areas,
            individual_id: identity.individual_id,
            name: identity.name,
        })
    }

    /// Who the token proves its holder is: verified now, or remembered from an earlier request.
    async fn verified_identity(
        &self,
        authorization_header: Option<&str>,
    ) -> Result<Identity, AuthError> {
        let inner = &*self.inner;
        // Say this first: no header or token could succeed, and the operator needs to know.
        if inner.providers.is_empty() && inner.dev.is_none() {
            return Err(AuthError::NotConfigured);
        }
        let token = bearer_token(authorization_header)?;
        let keys_now: Vec<u64> = inner
            .providers
            .iter()
            .map(|p| p.jwks.generation())
            .collect();
        if let Some(identity) = inner.verified.get(token, &keys_now) {
            return Ok(identity);
        }
        let peek = Unverified::parse(token)?;
        let dev_names = ClaimNames::default();
        // The issuer named in the token picks the provider (exactly; never "try each"), so one
        // provider's keys can never vouch for another's tokens. `keys`: the provider and its key
        // set's generation the token was verified with (none for the development key, which
        // never changes while the server runs).
        let provider = inner
            .providers
            .iter()
            .enumerate()
            .find(|(_, p)| peek.iss.as_deref() == Some(p.issuer.as_str()));
        let (claims, names, keys) = match (&inner.dev, provider) {
            (_, Some((index, provider))) => {
                let (claims, generation) = self.verify_provider(token, &peek, provider).await?;
                (claims, &provider.names, Some((index, generation)))
            }
            (Some(dev), None) if peek.iss.as_deref() == Some(DEV_ISSUER) => {
                (self.verify_dev(token, &peek, dev)?, &dev_names, None)
            }
            (dev, None) => {
                let mut trusted: Vec<&str> =
                    inner.providers.iter().map(|p| p.issuer.as_str()).collect();
                if dev.is_some() {
                    trusted.push(DEV_ISSUER);
                }
                return Err(AuthError::WrongIssuer {
                    expected: trusted.join("`, `"),
                });
            }
        };
        inner
            .signature_checks
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let identity = principal::identity_from_claims(&claims, names)?;
        // `verify` required `exp`, as a number.
        let expires = claims.get("exp").and_then(Value::as_f64).unwrap_or(0.0);
        inner
            .verified
            .insert(token, keys, expires.max(0.0) as u64, identity.clone());
        Ok(identity)
    }

    /// How many token signatures have been checked (a token seen before is not checked again
    /// until it expires): for tests and diagnostics.
    pub fn signature_check_count(&self) -> u64 {
        self.inner
            .signature_checks
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// How many times the provider's keys have been fetched: for tests and diagnostics.
    pub async fn jwks_fetch_count(&self) -> u64 {
        let mut total = 0;
        for p in &self.inner.providers {
            total += p.jwks.fetch_count().await;
        }
        total
    }

    /// Verify an ID token of a trusted provider issued to `client_id` (a liveness step-up): the
    /// same checks as a bearer token — algorithm allow-list, the key its `kid` names in that
    /// issuer's key set, signature, `iss` exactly, `aud` containing `client_id`, `exp`, `nbf`,
    /// `iat` — and, with several audiences, `azp` naming `client_id` (OpenID Connect Core
    /// §3.1.3.7). Answers the claims; nothing is remembered (each proof is verified anew).
    pub async fn verify_id_token(
        &self,
        token: &str,
        issuer: &str,
        client_id: &str,
    ) -> Result<Map<String, Value>, AuthError> {
        let peek = Unverified::parse(token)?;
        if peek.iss.as_deref() != Some(issuer) {
            return Err(AuthError::WrongIssuer {
                expected: issuer.to_owned(),
            });
        }
        let provider = self
            .inner
            .providers
            .iter()
            .find(|p| p.issuer == issuer)
            .ok_or_else(|| AuthError::WrongIssuer {
                expected: issuer.to_owned(),
            })?;
        let (key, alg, _) = provider_key(provider, &peek, "the token").await?;
        let claims = verify(token, &key, alg, issuer, client_id, self.inner.leeway)?;
        if let Some(Value::Array(audiences)) = claims.get("aud") {
            if audiences.len() > 1 && claims.get("azp").and_then(Value::as_str) != Some(client_id) {
                return Err(AuthError::WrongAudience {
                    expected: format!("{client_id} (as `azp`, the token names several audiences)"),
                });
            }
        }
        self.inner
            .signature_checks
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(claims)
    }

    /// Verify a provider's signed userinfo (the JWT its userinfo endpoint answered, decrypted by
    /// the registry when it came encrypted), for the registry's own use: the algorithm
    /// allow-list, the key its `kid` names in `issuer`'s key set, the signature, a `sub`; `iss`,
    /// `aud` (one of `audiences`), `exp` and `nbf` when present, as some eSignet versions leave
    /// them out. Answers the claims; the caller matches `sub` with the ID token's.
    pub async fn verify_signed_userinfo(
        &self,
        token: &str,
        issuer: &str,
        audiences: &[&str],
    ) -> Result<Map<String, Value>, AuthError> {
        let peek = Unverified::parse(token)?;
        let provider = self
            .inner
            .providers
            .iter()
            .find(|p| p.issuer == issuer)
            .ok_or_else(|| AuthError::WrongIssuer {
                expected: issuer.to_owned(),
            })?;
        let (key, alg, _) = provider_key(provider, &peek, "the userinfo JWT").await?;
        let mut validation = Validation::new(alg);
        validation.set_issuer(&[issuer]);
        validation.set_audience(audiences);
        validation.set_required_spec_claims(&["sub"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = self.inner.leeway;
        decode_checked(
            token,
            &key,
            &validation,
            issuer,
            &audiences.join(" or "),
            self.inner.leeway,
        )
    }

    fn verify_dev(
        &self,
        token: &str,
        peek: &Unverified,
        key: &DecodingKey,
    ) -> Result<Map<String, Value>, AuthError> {
        let alg = accepted_alg(&peek.alg, &[Algorithm::ES256])?;
        verify(token, key, alg, DEV_ISSUER, DEV_AUDIENCE, self.inner.leeway)
    }

    async fn verify_provider(
        &self,
        token: &str,
        peek: &Unverified,
        provider: &Provider,
    ) -> Result<(Map<String, Value>, u64), AuthError> {
        let (key, alg, generation) = provider_key(provider, peek, "the token").await?;
        let claims = verify(
            token,
            &key,
            alg,
            &provider.issuer,
            &provider.audience,
            self.inner.leeway,
        )?;
        Ok((claims, generation))
    }
}

/// The token from `Authorization: Bearer <token>` (scheme case-insensitive, RFC 7235).
fn bearer_token(header: Option<&str>) -> Result<&str, AuthError> {
    let header = header.ok_or(AuthError::MissingHeader)?.trim();
    let (scheme, token) = header.split_once(' ').unwrap_or((header, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::NotBearer);
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(AuthError::Malformed(
            "nothing follows `Bearer` in the Authorization header".into(),
        ));
    }
    Ok(token)
}

/// What the token says about itself before anything is verified: only used to pick the
/// algorithm, key and verifier, never trusted for anything else.
struct Unverified {
    alg: String,
    kid: Option<String>,
    iss: Option<String>,
}

impl Unverified {
    fn parse(token: &str) -> Result<Unverified, AuthError> {
        let parts: Vec<&str> = token.split('.').collect();
        match parts.len() {
            3 => {}
            5 => {
                return Err(AuthError::Malformed(
                    "encrypted tokens (JWE) are not accepted; send the signed access token".into(),
                ))
            }
            _ => {
                return Err(AuthError::Malformed(
                    "a JWT has three base64url parts separated by dots".into(),
                ))
            }
        }
        let header = json_part(parts[0], "header")?;
        let payload = json_part(parts[1], "payload")?;
        let text = |map: &Map<String, Value>, key: &str| {
            map.get(key).and_then(Value::as_str).map(str::to_owned)
        };
        Ok(Unverified {
            alg: text(&header, "alg")
                .ok_or_else(|| AuthError::Malformed("the token header has no `alg`".into()))?,
            kid: text(&header, "kid"),
            iss: text(&payload, "iss"),
        })
    }
}

fn json_part(part: &str, name: &str) -> Result<Map<String, Value>, AuthError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| AuthError::Malformed(format!("the token {name} is not base64url")))?;
    serde_json::from_slice(&bytes)
        .map_err(|_| AuthError::Malformed(format!("the token {name} is not a JSON object")))
}

/// The token's `alg` if it is one we accept. `none` and HMAC are refused by name with the
/// reason, whatever the configuration says: an HS token "verified" with a provider's public key
/// as the secret is the classic forgery.
/// The key `peek`'s header names in `provider`'s key set, with the algorithm and the key set's
/// generation. The algorithm is checked before any key is looked up, so a token with `none` or
/// HS* never even causes a key fetch. `what` names the token in the error ("the token").
async fn provider_key(
    provider: &Provider,
    peek: &Unverified,
    what: &str,
) -> Result<(DecodingKey, Algorithm, u64), AuthError> {
    let alg = accepted_alg(&peek.alg, &provider.algorithms)?;
    let kid = peek.kid.as_deref().ok_or_else(|| {
        AuthError::Malformed(format!(
            "{what}'s header has no `kid`, so the signing key cannot be chosen"
        ))
    })?;
    let (jwk, generation) = provider.jwks.key(kid).await?;
    Ok((key_for(&jwk, kid, alg)?, alg, generation))
}

fn accepted_alg(name: &str, allowed: &[Algorithm]) -> Result<Algorithm, AuthError> {
    let refuse = |hint: String| AuthError::DisallowedAlg {
        alg: name.to_owned(),
        hint,
    };
    if name.eq_ignore_ascii_case("none") {
        return Err(refuse("; unsigned tokens are never accepted".into()));
    }
    if name.to_ascii_uppercase().starts_with("HS") {
        return Err(refuse(
            "; shared-secret (HMAC) signatures are never accepted, the provider must sign with its private key".into(),
        ));
    }
    match name.parse::<Algorithm>() {
        Ok(alg) if allowed.contains(&alg) => Ok(alg),
        _ => Err(refuse(format!(
            " (accepted: {})",
            allowed
                .iter()
                .map(|a| format!("{a:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// The verification key from a published JWK, if the JWK can verify `alg`: its `alg` (when
/// published) must be `alg`, and its type and curve must be the algorithm's. A symmetric (`oct`)
/// key in a key set is never used.
fn key_for(jwk: &Jwk, kid: &str, alg: Algorithm) -> Result<DecodingKey, AuthError> {
    let mismatch = |what: String| AuthError::DisallowedAlg {
        alg: format!("{alg:?}"),
        hint: format!(" with key `{kid}`, which {what}"),
    };
    if let Some(published) = jwk.common.key_algorithm {
        if published.to_string() != format!("{alg:?}") {
            return Err(mismatch(format!("is published for {published}")));
        }
    }
    let fits = match (&jwk.algorithm, alg) {
        (
            AlgorithmParameters::RSA(_),
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512,
        ) => true,
        (AlgorithmParameters::EllipticCurve(p), Algorithm::ES256) => p.curve == EllipticCurve::P256,
        (AlgorithmParameters::EllipticCurve(p), Algorithm::ES384) => p.curve == EllipticCurve::P384,
        (AlgorithmParameters::OctetKeyPair(p), Algorithm::EdDSA) => {
            p.curve == EllipticCurve::Ed25519
        }
        _ => false,
    };
    if !fits {
        return Err(mismatch("is of another key type or curve".into()));
    }
    DecodingKey::from_jwk(jwk).map_err(|e| {
        AuthError::Config(format!(
            "the identity provider publishes key `{kid}` in a form this registry cannot use: {e}"
        ))
    })
}

/// Signature, issuer, audience and times; returns the claims.
fn verify(
    token: &str,
    key: &DecodingKey,
    alg: Algorithm,
    issuer: &str,
    audience: &str,
    leeway: u64,
) -> Result<Map<String, Value>, AuthError> {
    let mut validation = Validation::new(alg);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[audience]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.validate_exp = true;
    validation.validate_nbf = true;
    validation.leeway = leeway;
    decode_checked(token, key, &validation, issuer, audience, leeway)
}

/// Decode `token` under `validation`, each failure as the [`AuthError`] that says why, and
/// refuse an `iat` in the future.
fn decode_checked(
    token: &str,
    key: &DecodingKey,
    validation: &Validation,
    issuer: &str,
    audience: &str,
    leeway: u64,
) -> Result<Map<String, Value>, AuthError> {
    let data =
        jsonwebtoken::decode::<Map<String, Value>>(token, key, validation).map_err(|e| match e
            .kind()
        {
            ErrorKind::InvalidSignature => AuthError::BadSignature,
            ErrorKind::ExpiredSignature => AuthError::Expired,
            ErrorKind::ImmatureSignature => AuthError::NotYetValid,
            ErrorKind::InvalidIssuer => AuthError::WrongIssuer {
                expected: issuer.into(),
            },
            ErrorKind::InvalidAudience => AuthError::WrongAudience {
                expected: audience.into(),
            },
            ErrorKind::MissingRequiredClaim(c) if c == "iss" => AuthError::WrongIssuer {
                expected: issuer.into(),
            },
            ErrorKind::MissingRequiredClaim(c) if c == "aud" => AuthError::WrongAudience {
                expected: audience.into(),
            },
            ErrorKind::MissingRequiredClaim(c) => {
                AuthError::Malformed(format!("the token has no `{c}` claim"))
            }
            ErrorKind::InvalidClaimFormat(c) => {
                AuthError::Malformed(format!("the `{c}` claim is not a time in seconds"))
            }
            _ => AuthError::Malformed(e.to_string()),
        })?;
    // jsonwebtoken does not look at `iat`; a token issued in the future means a wrong clock
    // somewhere, and accepting it would stretch its real lifetime.
    if let Some(iat) = data.claims.get("iat") {
        let iat = iat.as_f64().ok_or_else(|| {
            AuthError::Malformed("the `iat` claim is not a time in seconds".into())
        })?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        if iat > (now + leeway) as f64 {
            return Err(AuthError::NotYetValid);
        }
    }
    Ok(data.claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_header_parsing() {
        assert_eq!(bearer_token(Some("Bearer abc")), Ok("abc"));
        assert_eq!(bearer_token(Some("bearer   abc ")), Ok("abc"));
        assert_eq!(bearer_token(None), Err(AuthError::MissingHeader));
        assert_eq!(
            bearer_token(Some("Basic dXNlcg==")),
            Err(AuthError::NotBearer)
        );
        assert!(matches!(
            bearer_token(Some("Bearer")),
            Err(AuthError::Malformed(_))
        ));
    }

    #[test]
    fn none_and_hmac_are_refused_whatever_is_allowed() {
        let all = [Algorithm::RS256, Algorithm::HS256];
        for alg in ["none", "NONE", "HS256", "hs512"] {
            assert!(
                matches!(
                    accepted_alg(alg, &all),
                    Err(AuthError::DisallowedAlg { .. })
                ),
                "{alg}"
            );
        }
        assert_eq!(accepted_alg("RS256", &all), Ok(Algorithm::RS256));
        let err = accepted_alg("ES384", &all).unwrap_err();
        assert!(err.to_string().contains("accepted: RS256"), "{err}");
    }

    #[tokio::test]
    async fn without_provider_or_dev_auth_everything_is_refused_with_a_hint() {
        let auth = Authenticator::new(&AuthConfig::default(), None).unwrap();
        let err = auth.authenticate(Some("Bearer a.b.c")).await.unwrap_err();
        assert_eq!(err, AuthError::NotConfigured);
        assert!(err.to_string().contains("--dev-auth"));
        assert!(err.to_string().contains("issuer"));
    }
}
