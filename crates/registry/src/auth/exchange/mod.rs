//! `POST /v1/auth/token-exchange`: the registry redeems an app's authorization code at the
//! identity provider with `private_key_jwt`.
//!
//! Why: eSignet's token endpoint accepts only signed client assertions, and a desktop app must
//! not hold an extractable client private key (anyone could copy it out of the install). So the
//! key lives here. The app sends the code, its PKCE verifier and the redirect URI; the registry
//! signs a short-lived assertion (`iss` = `sub` = client id, `aud` = token endpoint, unique
//! `jti`, `exp` ≤ 5 min), redeems the code, and returns the provider's token response as is
//! (minus any refresh token: Doorstep sessions end and the person signs in again). The app then
//! verifies the ID token itself. A code is useless without the verifier only the app knows, so
//! the route is public (the caller has no token yet); it is rate-limited per client address and
//! redeems only for loopback redirect URIs (RFC 8252 native apps), so it cannot be used as a
//! generic code redeemer for some web client.
//!
//! `POST /v1/auth/userinfo`: the registry fetches the person's userinfo with the app's access
//! token and, when the provider encrypted it to the client's `use: enc` key (eSignet's JWE
//! userinfo), decrypts it with that key, which must no more live in the app than the signing key.
//! What it returns is always the provider's own signed JWT (or its JSON) unchanged: the app
//! verifies the signature against the provider's keys, so the registry cannot forge claims.
//!
//! Wiring (the router owner does this): build a [`TokenExchange`] from an [`ExchangeConfig`]
//! (the `[signin]` section) or [`TokenExchange::disabled`], put it in the router state with a
//! `FromRef` impl, and merge [`exchange_routes`]. Per-address limits need the server to be
//! served with `into_make_service_with_connect_info::<SocketAddr>()`; without it all callers
//! share one bucket.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRef, State};
use axum::http::{header, Extensions, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;

use doorstep_domain::api::paths;
pub use doorstep_domain::api::ExchangeRequest;

use super::jwe::{self, JweError};
use crate::api::limits::RateLimiter;
use crate::problem::{Problem, ProblemKind};

mod keys;
mod provider;

use keys::*;
use provider::*;
pub use provider::{Redeemed, Userinfo};

/// The route, relative to the server root.
pub const TOKEN_EXCHANGE_ROUTE: &str = paths::TOKEN_EXCHANGE;
/// The userinfo relay, relative to the server root.
pub const USERINFO_ROUTE: &str = paths::USERINFO;
/// The key management algorithm the decryption key is published for (what eSignet uses).
pub const USERINFO_ENCRYPTION_ALG: &str = "RSA-OAEP-256";
/// The longest client assertion lifetime eSignet accepts.
pub const MAX_ASSERTION_LIFETIME_SECONDS: u64 = 300;
/// The token endpoint's OAuth errors (RFC 6749 §5.2) that refuse the client itself, not the
/// code: its registration, its keys or its assertion are wrong, for every sign-in alike.
pub const CLIENT_REFUSED: &[&str] = &["invalid_client", "unauthorized_client"];
/// How long the provider's discovery document is reused.
const METADATA_TTL: Duration = Duration::from_secs(3600);
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(20);
/// Largest request body: a code, a verifier and a URI.
const MAX_BODY: usize = 8 * 1024;
/// Largest userinfo answer read from the provider: a few claims, perhaps a photo.
const MAX_USERINFO: usize = 1024 * 1024;

/// The `[signin]` section: the registry's client registration at the identity provider.
///
/// ```toml
/// [signin]
/// issuer = "https://esignet.example.org/v1/esignet"
/// client_id = "doorstep"
/// private_key_path = "/etc/doorstep/signin-client.pem"   # PKCS#8 RSA or P-256, or PKCS#1 RSA
/// # key_id = "doorstep-sig-1"        # the id the key is registered under; default: its thumbprint
/// # userinfo_decryption_key_path = "/etc/doorstep/signin-userinfo.pem"   # RSA; encrypted userinfo
/// # userinfo_decryption_key_id = "doorstep-enc-1"
/// # assertion_lifetime_seconds = 60
/// # requests_per_minute = 60          # per client address; 0 = no limit
/// # burst = 20
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExchangeConfig {
    pub issuer: String,
    pub client_id: String,
    /// The client's private key (PEM). Register its public half (see
    /// [`TokenExchange::public_jwks`]) with the provider.
    pub private_key_path: PathBuf,
    /// The `kid` the signing key is registered under at the provider, sent in every client
    /// assertion's header (eSignet picks the verification key by it) and published in the JWKS.
    /// Default: the key's RFC 7638 thumbprint.
    #[serde(default)]
    pub key_id: Option<String>,
    /// The RSA private key (PEM, PKCS#8 or PKCS#1) the provider encrypts userinfo to, for a
    /// client registered with encrypted userinfo (eSignet registers it as a separate `use: enc`
    /// key). Its public half is published by [`TokenExchange::public_jwks`]. Without it,
    /// encrypted userinfo is refused with a message naming this setting.
    #[serde(default)]
    pub userinfo_decryption_key_path: Option<PathBuf>,
    /// The `kid` the decryption key is registered under. Default: its RFC 7638 thumbprint.
    #[serde(default)]
    pub userinfo_decryption_key_id: Option<String>,
    #[serde(default = "default_lifetime")]
    pub assertion_lifetime_seconds: u64,
    #[serde(default = "default_per_minute")]
    pub requests_per_minute: u32,
    #[serde(default = "default_burst")]
    pub burst: u32,
}

fn default_lifetime() -> u64 {
    60
}
fn default_per_minute() -> u32 {
    60
}
fn default_burst() -> u32 {
    20
}

impl ExchangeConfig {
    pub fn new(
        issuer: impl Into<String>,
        client_id: impl Into<String>,
        key: impl Into<PathBuf>,
    ) -> Self {
        ExchangeConfig {
            issuer: issuer.into(),
            client_id: client_id.into(),
            private_key_path: key.into(),
            key_id: None,
            userinfo_decryption_key_path: None,
            userinfo_decryption_key_id: None,
            assertion_lifetime_seconds: default_lifetime(),
            requests_per_minute: default_per_minute(),
            burst: default_burst(),
        }
    }
}

/// Why the exchange cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    #[error("invalid [signin] configuration: {0}")]
    Config(String),
    #[error("cannot read the [signin] private key {path}: {reason}")]
    Key { path: PathBuf, reason: String },
}

/// The token exchange, ready to serve (or disabled). Cheap to clone.
#[derive(Clone, Default)]
pub struct TokenExchange {
    inner: Option<Arc<Inner>>,
}

struct Inner {
    config: ExchangeConfig,
    key: ClientKey,
    decryption: Option<DecryptionKey>,
    http: reqwest::Client,
    metadata: Mutex<Option<(Metadata, Instant)>>,
    limiter: RateLimiter,
}

impl std::fmt::Debug for TokenExchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.inner {
            Some(i) => f
                .debug_struct("TokenExchange")
                .field("issuer", &i.config.issuer)
                .field("client_id", &i.config.client_id)
                .field("kid", &i.key.kid)
                .field("decryption_kid", &i.decryption.as_ref().map(|d| &d.kid))
                .finish(),
            None => f.write_str("TokenExchange(disabled)"),
        }
    }
}

impl TokenExchange {
    /// No `[signin]` section: the route answers 503 saying so.
    pub fn disabled() -> Self {
        TokenExchange { inner: None }
    }

    /// Check the settings and load the private key. Makes no network request (the provider's
    /// discovery document is read on the first exchange).
    pub fn new(config: &ExchangeConfig) -> Result<Self, ExchangeError> {
        check_url("issuer", &config.issuer).map_err(ExchangeError::Config)?;
        if config.client_id.trim().is_empty() {
            return Err(ExchangeError::Config("`client_id` is empty".into()));
        }
        if config.assertion_lifetime_seconds == 0
            || config.assertion_lifetime_seconds > MAX_ASSERTION_LIFETIME_SECONDS
        {
            return Err(ExchangeError::Config(format!(
                "`assertion_lifetime_seconds` must be between 1 and {MAX_ASSERTION_LIFETIME_SECONDS}"
            )));
        }
        for (name, id) in [
            ("key_id", &config.key_id),
            (
                "userinfo_decryption_key_id",
                &config.userinfo_decryption_key_id,
            ),
        ] {
            if let Some(id) = id {
                check_key_id(name, id).map_err(ExchangeError::Config)?;
            }
        }
        if config.userinfo_decryption_key_id.is_some()
            && config.userinfo_decryption_key_path.is_none()
        {
            return Err(ExchangeError::Config(
                "`userinfo_decryption_key_id` is set but `userinfo_decryption_key_path` is not"
                    .into(),
            ));
        }
        let key = ClientKey::load(&config.private_key_path, config.key_id.as_deref())?;
        let decryption = match &config.userinfo_decryption_key_path {
            Some(path) => Some(DecryptionKey::load(
                path,
                config.userinfo_decryption_key_id.as_deref(),
            )?),
            None => None,
        };
        // One key for both uses would publish the same key twice, and eSignet registers signing
        // and encryption keys separately.
        if decryption
            .as_ref()
            .is_some_and(|d| d.thumbprint == key.thumbprint)
        {
            return Err(ExchangeError::Config(
                "`userinfo_decryption_key_path` must be another key than `private_key_path`; generate a separate RSA key for userinfo encryption".into(),
            ));
        }
        // Two keys under one id: the provider could not tell which one to use.
        if decryption.as_ref().is_some_and(|d| d.kid == key.kid) {
            return Err(ExchangeError::Config(format!(
                "`key_id` and `userinfo_decryption_key_id` are both {:?}; give the two keys different ids",
                key.kid
            )));
        }
        let http = reqwest::Client::builder()
            .timeout(PROVIDER_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ExchangeError::Config(format!("cannot create the HTTP client: {e}")))?;
        Ok(TokenExchange {
            inner: Some(Arc::new(Inner {
                limiter: RateLimiter::new(config.requests_per_minute, config.burst),
                config: config.clone(),
                key,
                decryption,
                http,
                metadata: Mutex::new(None),
            })),
        })
    }

    pub fn is_enabled(&self) -> bool {
        self.inner.is_some()
    }

    /// The `kid` every client assertion carries in its header. `None` when disabled.
    pub fn assertion_key_id(&self) -> Option<&str> {
        self.inner.as_ref().map(|i| i.key.kid.as_str())
    }

    /// The public key set to register with the provider for this client (`{"keys": [...]}`,
    /// each `kid` the configured `key_id` / `userinfo_decryption_key_id`, else the key's RFC 7638
    /// thumbprint): the signing key (`use: sig`) and, when configured, the userinfo decryption key
    /// (`use: enc`, `alg: RSA-OAEP-256`). `None` when disabled. No private part is included.
    pub fn public_jwks(&self) -> Option<Value> {
        self.inner.as_ref().map(|i| {
            let mut keys = vec![i.key.public_jwk.clone()];
            keys.extend(i.decryption.as_ref().map(|d| d.public_jwk.clone()));
            json!({ "keys": keys })
        })
    }

    /// The issuer the registry redeems codes at, when configured.
    pub fn issuer(&self) -> Option<&str> {
        self.inner.as_ref().map(|i| i.config.issuer.as_str())
    }

    /// The client id the registry redeems codes as, when configured.
    pub fn client_id(&self) -> Option<&str> {
        self.inner.as_ref().map(|i| i.config.client_id.as_str())
    }

    /// Redeem a liveness step-up's code with the registry's client and return the provider's ID
    /// token (which the caller verifies) and access token. The request is checked as a
    /// sign-in's is (a native app's loopback redirect, a PKCE verifier).
    pub async fn redeem_tokens(
        &self,
        request: &ExchangeRequest,
    ) -> Result<Redeemed, (ProblemKind, String)> {
        let Some(inner) = self.inner.as_deref() else {
            return Err((
                ProblemKind::Unavailable,
                "redeeming codes through the registry is not configured here ([signin])".into(),
            ));
        };
        check(request).map_err(|detail| (ProblemKind::BadRequest, detail))?;
        inner.redeem_tokens(request).await
    }

    /// The provider's userinfo for an access token the registry redeemed itself (eSignet puts
    /// the person's claims there, not in the ID token): JSON, or the provider's signed JWT
    /// (decrypted when it came encrypted) for the caller to verify.
    pub async fn userinfo(&self, access_token: &str) -> Result<Userinfo, (ProblemKind, String)> {
        let Some(inner) = self.inner.as_deref() else {
            return Err((
                ProblemKind::Unavailable,
                "userinfo through the registry is not configured here ([signin])".into(),
            ));
        };
        inner
            .userinfo_for_registry(access_token)
            .await
            .map_err(|Refusal { kind, detail }| (kind, detail))
    }

    /// The exchange, if it is configured and `route`'s rate limit lets the caller in; otherwise
    /// the answer to send (boxed: a response is large, and this is the rare path).
    fn admit(&self, extensions: &Extensions, route: &str) -> Result<&Inner, Box<Response>> {
        let Some(inner) = self.inner.as_deref() else {
            return Err(Box::new(problem(
                ProblemKind::Unavailable,
                "sign-in through the registry is not configured here; the registry's operator must add a [signin] section",
            )));
        };
        let caller = extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string())
            .unwrap_or_else(|| "unknown".into());
        inner
            .limiter
            .check(&format!("{route}:{caller}"))
            .map_err(|limited| Box::new(limited.into_response()))?;
        Ok(inner)
    }
}

/// The routes, for merging into the registry's router. The state must provide a
/// [`TokenExchange`] (`impl FromRef<AppState> for TokenExchange`).
pub fn exchange_routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    TokenExchange: FromRef<S>,
{
    Router::new()
        .route(TOKEN_EXCHANGE_ROUTE, post(token_exchange))
        .route(USERINFO_ROUTE, post(userinfo))
}

/// Redeem an authorization code for the app with the registry's client key.
///
/// Public: the caller is signing in and has no token yet. Answers with the identity provider's
/// token response (`id_token`, `access_token`, `token_type`, `expires_in`) unchanged except that
/// a refresh token is removed; the app must verify the ID token itself. When the provider
/// refuses the code, answers 400 with the provider's OAuth error (`error`,
/// `error_description`). When it refuses the registry's client itself (`invalid_client`,
/// `unauthorized_client`: a misconfiguration no retry fixes), answers 500
/// `/problems/signin-misconfigured`.
#[utoipa::path(
    post,
    path = "/v1/auth/token-exchange",
    tag = "auth",
    request_body = ExchangeRequest,
    responses(
        (status = 200, description = "The identity provider's token response", body = Object),
        (status = 400, description = "The request is malformed (problem+json), or the provider refused the code (its OAuth error JSON, RFC 6749 §5.2: `error`, `error_description`)", content(
            (Problem = "application/problem+json"),
            (Object = "application/json")
        )),
        (status = 413, description = "The request body is larger than a sign-in needs", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many exchanges from this address", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "The provider refused this registry as a client (`/problems/signin-misconfigured`): the operator must fix the `[signin]` registration", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Sign-in is not configured on this registry, or the provider cannot be reached", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn token_exchange(
    State(exchange): State<TokenExchange>,
    extensions: Extensions,
    body: Bytes,
) -> Response {
    let inner = match exchange.admit(&extensions, "token-exchange") {
        Ok(inner) => inner,
        Err(refused) => return *refused,
    };
    if body.len() > MAX_BODY {
        return problem(
            ProblemKind::TooLarge,
            "the request is larger than a code exchange can be",
        );
    }
    let request: ExchangeRequest = match doorstep_domain::strict_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return problem(
                ProblemKind::BadRequest,
                format!("send JSON {{\"code\", \"code_verifier\", \"redirect_uri\"}}: {e}"),
            )
        }
    };
    if let Err(detail) = check(&request) {
        return problem(ProblemKind::BadRequest, detail);
    }
    match inner.redeem(&request).await {
        Ok(response) => response,
        Err(detail) => {
            tracing::warn!(error = %detail, "token exchange with the identity provider failed");
            problem(ProblemKind::Unavailable, detail)
        }
    }
}

/// Fetch the person's userinfo from the identity provider for the app, decrypting it when the
/// provider encrypted it to the registry's `use: enc` key.
///
/// Public like the token exchange: the caller has no registry token, only the provider's access
/// token, and the provider checks that. Answers with the provider's signed userinfo JWT (the one
/// inside its JWE when it was encrypted) or its userinfo JSON, unchanged: the app must verify the
/// JWT's signature against the provider's keys itself. Encrypted userinfo that is not signed
/// inside is refused, since the app could not check it.
#[utoipa::path(
    post,
    path = "/v1/auth/userinfo",
    tag = "auth",
    params(
        ("Authorization" = String, Header, description = "`Bearer <access token>`: the identity provider's access token from the sign-in (not a registry token)")
    ),
    responses(
        (status = 200, description = "The provider's userinfo: its signed JWT (decrypted from its JWE if it was encrypted), or its JSON, unchanged", content(
            (String = "application/jwt"),
            (Object = "application/json")
        )),
        (status = 401, description = "No bearer token, or the provider refused it", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests from this address", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Sign-in is not configured on this registry, the provider cannot be reached, or its userinfo cannot be decrypted (the detail says why)", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn userinfo(
    State(exchange): State<TokenExchange>,
    extensions: Extensions,
    headers: HeaderMap,
) -> Response {
    // Credentials first: a call without them is answered 401 whatever the registry's state, so
    // a caller learns what it must send before anything about how the registry is set up.
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let token = match super::bearer_token(authorization) {
        Ok(token) => token,
        Err(e) => {
            let mut response = problem(
                ProblemKind::Unauthenticated,
                format!("{e}, with the access token the identity provider issued at sign-in"),
            );
            if let Some(challenge) = e.challenge() {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, challenge);
            }
            return response;
        }
    };
    let inner = match exchange.admit(&extensions, "userinfo") {
        Ok(inner) => inner,
        Err(refused) => return *refused,
    };
    match inner.userinfo(token).await {
        Ok(response) => response,
        Err(Refusal { kind, detail }) => {
            // The detail names endpoints, statuses, key ids and JWE errors, never claims or tokens.
            tracing::warn!(error = %detail, "userinfo through the registry failed");
            problem(kind, detail)
        }
    }
}

/// A userinfo relay that failed: the problem to answer with.
#[derive(Debug)]
struct Refusal {
    kind: ProblemKind,
    detail: String,
}

impl Refusal {
    fn unavailable(detail: impl Into<String>) -> Refusal {
        Refusal {
            kind: ProblemKind::Unavailable,
            detail: detail.into(),
        }
    }
}

/// Refuse what does not look like a native app's code exchange.
fn check(request: &ExchangeRequest) -> Result<(), String> {
    if request.code.is_empty() || request.code.len() > 4096 {
        return Err("`code` must be the authorization code from the provider's redirect".into());
    }
    // RFC 7636 §4.1: 43–128 unreserved characters.
    let v = &request.code_verifier;
    if !(43..=128).contains(&v.len())
        || !v
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
    {
        return Err(
            "`code_verifier` must be a PKCE verifier: 43 to 128 characters A-Z a-z 0-9 - . _ ~"
                .into(),
        );
    }
    let uri = url::Url::parse(&request.redirect_uri)
        .map_err(|_| "`redirect_uri` is not a URL".to_string())?;
    let loopback = match uri.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    };
    if uri.scheme() != "http" || !loopback {
        return Err("`redirect_uri` must be the app's loopback redirect (http://127.0.0.1:<port>/...); this route redeems codes for the desktop app only".into());
    }
    Ok(())
}

fn problem(kind: ProblemKind, detail: impl Into<String>) -> Response {
    Problem::new(kind, detail).into_response()
}

fn json_response(status: StatusCode, body: Value) -> Response {
    no_store((status, axum::Json(body)).into_response())
}

/// 200 with `body` as `content_type`.
fn typed_response(content_type: &'static str, body: Vec<u8>) -> Response {
    no_store(
        (
            StatusCode::OK,
            [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
            body,
        )
            .into_response(),
    )
}

/// Tokens and personal claims must not sit in any cache, even when these routes are served
/// outside the registry's router (which adds `no-store` itself).
fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

fn check_url(name: &str, value: &str) -> Result<(), String> {
    super::config::check_url(name, value)
}

/// reqwest's Display hides the root cause; walk the chain.
fn describe(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const RSA: &str = include_str!("../../../tests/keys/rsa-1.pem");
    const EC: &str = include_str!("../../../tests/keys/ec-1.pem");

    fn key(pem: &str) -> ClientKey {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.pem");
        std::fs::write(&path, pem).unwrap();
        ClientKey::load(&path, None).unwrap()
    }

    #[test]
    fn algorithm_follows_the_key_and_the_provider() {
        let rsa = key(RSA);
        assert_eq!(rsa.algorithm(None).unwrap(), Algorithm::RS256);
        assert_eq!(
            rsa.algorithm(Some(&["PS256".into(), "ES256".into()]))
                .unwrap(),
            Algorithm::PS256
        );
        assert!(rsa
            .algorithm(Some(&["ES256".into()]))
            .unwrap_err()
            .contains("RSA"));
        let ec = key(EC);
        assert_eq!(
            ec.algorithm(Some(&["RS256".into(), "ES256".into()]))
                .unwrap(),
            Algorithm::ES256
        );
        assert_eq!(ec.public_jwk["crv"], "P-256");
    }

    #[test]
    fn public_jwk_has_a_thumbprint_kid_and_no_private_part() {
        let k = key(RSA);
        assert_eq!(k.public_jwk["kid"], k.kid.as_str());
        assert_eq!(k.kid.len(), 43);
        assert!(k.public_jwk.get("d").is_none());
    }

    #[test]
    fn requests_must_look_like_a_native_apps_exchange() {
        let ok = ExchangeRequest {
            code: "c".into(),
            code_verifier: "a".repeat(43),
            redirect_uri: "http://127.0.0.1:4711/callback".into(),
            resource: None,
        };
        check(&ok).unwrap();
        let web = ExchangeRequest {
            redirect_uri: "https://evil.example.org/cb".into(),
            ..ok
        };
        assert!(check(&web).unwrap_err().contains("loopback"));
        let short = ExchangeRequest {
            code_verifier: "short".into(),
            redirect_uri: "http://127.0.0.1:1/cb".into(),
            ..web
        };
        assert!(check(&short).unwrap_err().contains("PKCE"));
    }

    fn test_key(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/keys")
            .join(name)
    }

    /// An exchange that signs with `rsa-1.pem` and decrypts userinfo with `decryption`.
    fn exchange(decryption: Option<&str>) -> Result<TokenExchange, ExchangeError> {
        let mut config =
            ExchangeConfig::new("https://id.example.org", "doorstep", test_key("rsa-1.pem"));
        config.userinfo_decryption_key_path = decryption.map(test_key);
        TokenExchange::new(&config)
    }

    fn decryption_key() -> DecryptionKey {
        DecryptionKey::load(&test_key("rsa-2.pem"), None).unwrap()
    }

    #[test]
    fn the_decryption_key_is_published_for_encryption_beside_the_signing_key() {
        let jwks = exchange(Some("rsa-2.pem")).unwrap().public_jwks().unwrap();
        let keys = jwks["keys"].as_array().unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0]["use"], "sig");
        assert_eq!(keys[1]["use"], "enc");
        assert_eq!(keys[1]["alg"], "RSA-OAEP-256");
        assert_eq!(keys[1]["kid"], decryption_key().kid.as_str());
        assert_ne!(keys[0]["kid"], keys[1]["kid"]);
        assert!(keys.iter().all(|k| k.get("d").is_none()));
        let without = exchange(None).unwrap().public_jwks().unwrap();
        assert_eq!(without["keys"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn the_configured_key_ids_are_sent_and_published() {
        let mut config =
            ExchangeConfig::new("https://id.example.org", "doorstep", test_key("rsa-1.pem"));
        config.key_id = Some("doorstep-sig-2025".into());
        config.userinfo_decryption_key_path = Some(test_key("rsa-2.pem"));
        config.userinfo_decryption_key_id = Some("doorstep-enc-2025".into());
        let exchange = TokenExchange::new(&config).unwrap();
        assert_eq!(exchange.assertion_key_id(), Some("doorstep-sig-2025"));
        let assertion = exchange
            .inner
            .as_ref()
            .unwrap()
            .assertion("https://id.example.org/token", Algorithm::RS256)
            .unwrap();
        let header = jsonwebtoken::decode_header(&assertion).unwrap();
        assert_eq!(header.kid.as_deref(), Some("doorstep-sig-2025"));
        let jwks = exchange.public_jwks().unwrap();
        assert_eq!(jwks["keys"][0]["kid"], "doorstep-sig-2025");
        assert_eq!(jwks["keys"][1]["kid"], "doorstep-enc-2025");

        // Without a key_id, the thumbprint, as before.
        config.key_id = None;
        let exchange = TokenExchange::new(&config).unwrap();
        let thumbprint = key(RSA).kid;
        assert_eq!(thumbprint.len(), 43);
        assert_eq!(exchange.assertion_key_id(), Some(thumbprint.as_str()));
        assert_eq!(
            exchange.public_jwks().unwrap()["keys"][0]["kid"],
            thumbprint
        );
    }

    #[test]
    fn key_ids_must_be_usable_and_distinct() {
        let mut config =
            ExchangeConfig::new("https://id.example.org", "doorstep", test_key("rsa-1.pem"));
        for bad in ["", "has space", "tab\t", &"x".repeat(129)] {
            config.key_id = Some(bad.into());
            let err = TokenExchange::new(&config).err().unwrap().to_string();
            assert!(err.contains("key_id"), "{err}");
        }
        config.key_id = Some("same".into());
        config.userinfo_decryption_key_id = Some("same".into());
        let err = TokenExchange::new(&config).err().unwrap().to_string();
        assert!(err.contains("userinfo_decryption_key_path"), "{err}");
        config.userinfo_decryption_key_path = Some(test_key("rsa-2.pem"));
        let err = TokenExchange::new(&config).err().unwrap().to_string();
        assert!(err.contains("different ids"), "{err}");
    }

    #[test]
    fn one_key_for_signing_and_decryption_is_refused() {
        let err = exchange(Some("rsa-1.pem")).err().unwrap().to_string();
        assert!(err.contains("userinfo_decryption_key_path"), "{err}");
        let err = exchange(Some("ec-1.pem")).err().unwrap().to_string();
        assert!(err.contains("RSA-OAEP-256"), "{err}");
    }

    #[tokio::test]
    async fn userinfo_needs_the_providers_access_token_before_anything_else() {
        let response = userinfo(
            State(exchange(Some("rsa-2.pem")).unwrap()),
            Extensions::new(),
            HeaderMap::new(),
        )
        .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            response.headers()[header::WWW_AUTHENTICATE],
            "Bearer realm=\"doorstep-registry\""
        );
        // Not configured: still 401 without a token, 503 with one.
        let disabled = userinfo(
            State(TokenExchange::disabled()),
            Extensions::new(),
            HeaderMap::new(),
        )
        .await;
        assert_eq!(disabled.status(), StatusCode::UNAUTHORIZED);
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer t"));
        let disabled = userinfo(State(TokenExchange::disabled()), Extensions::new(), headers).await;
        assert_eq!(disabled.status(), StatusCode::SERVICE_UNAVAILABLE);
    }

    const SIGNED: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwZXJzb24tMSJ9.c2ln";

    async fn relayed(
        content_type: &str,
        body: &str,
        key: Option<&DecryptionKey>,
    ) -> Result<(String, String), String> {
        let response =
            relay_userinfo(content_type, body.as_bytes().to_vec(), key).map_err(|r| r.detail)?;
        let content_type = response.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .to_owned();
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        Ok((content_type, String::from_utf8(body.to_vec()).unwrap()))
    }

    fn sealed(plaintext: &str, to: &DecryptionKey) -> String {
        let header =
            json!({ "alg": "RSA-OAEP-256", "enc": "A256GCM", "cty": "JWT", "kid": to.kid });
        super::super::jwe::tests::encrypt(
            &header,
            plaintext.as_bytes(),
            &to.key.to_public_key(),
            32,
        )
    }

    #[tokio::test]
    async fn signed_or_plain_userinfo_passes_through_unchanged() {
        let key = decryption_key();
        let json = r#"{"sub":"person-1"}"#;
        assert_eq!(
            relayed("application/json; charset=utf-8", json, Some(&key)).await,
            Ok(("application/json".into(), json.into()))
        );
        assert_eq!(
            relayed("application/jwt", &format!("{SIGNED}\n"), None).await,
            Ok(("application/jwt".into(), SIGNED.into()))
        );
        let err = relayed("text/html", "<html>", Some(&key))
            .await
            .unwrap_err();
        assert!(err.contains("text/html"), "{err}");
    }

    #[tokio::test]
    async fn encrypted_userinfo_is_decrypted_to_the_providers_signed_jwt() {
        let key = decryption_key();
        let jwe = sealed(SIGNED, &key);
        assert_eq!(
            relayed("application/jwt", &jwe, Some(&key)).await,
            Ok(("application/jwt".into(), SIGNED.into()))
        );
    }

    #[tokio::test]
    async fn encrypted_userinfo_that_cannot_be_trusted_or_read_is_refused_with_the_fix() {
        let key = decryption_key();
        // Claims encrypted but not signed: the registry would be vouching for them.
        let bare = sealed(r#"{"sub":"person-1","name":"A"}"#, &key);
        let err = relayed("application/jwt", &bare, Some(&key))
            .await
            .unwrap_err();
        assert!(err.contains("userinfo_signed_response_alg"), "{err}");
        assert!(!err.contains("person-1"), "no claims in errors: {err}");
        // No decryption key configured.
        let err = relayed("application/jwt", &bare, None).await.unwrap_err();
        assert!(err.contains("userinfo_decryption_key_path"), "{err}");
        // Encrypted for another key than the registry's: both keys are named.
        let other = DecryptionKey::load(&test_key("rsa-1.pem"), None).unwrap();
        let err = relayed("application/jwt", &sealed(SIGNED, &key), Some(&other))
            .await
            .unwrap_err();
        assert!(err.contains("another key"), "{err}");
        assert!(err.contains(&key.kid) && err.contains(&other.kid), "{err}");
    }

    #[test]
    fn bad_settings_are_named() {
        let mut c = ExchangeConfig::new("http://id.example.org", "doorstep", "/nonexistent.pem");
        assert!(TokenExchange::new(&c)
            .err()
            .unwrap()
            .to_string()
            .contains("https"));
        c.issuer = "https://id.example.org".into();
        c.assertion_lifetime_seconds = 600;
        assert!(TokenExchange::new(&c)
            .err()
            .unwrap()
            .to_string()
            .contains("assertion_lifetime"));
        c.assertion_lifetime_seconds = 60;
        assert!(TokenExchange::new(&c)
            .err()
            .unwrap()
            .to_string()
            .contains("/nonexistent.pem"));
    }
}
