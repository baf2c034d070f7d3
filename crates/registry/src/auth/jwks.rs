//! The identity provider's signing keys: discovered, fetched and cached.
//!
//! Keys are fetched lazily on the first token, so a registry starts (and serves its public
//! routes) while the provider is down. Fetches are single-flight (a mutex), and the only fetch a
//! caller can provoke at will, the one on an unknown `kid`, happens at most once per
//! [`UNKNOWN_KID_REFETCH_INTERVAL`]: otherwise a flood of tokens with random `kid`s would turn the
//! registry into an amplifier against the provider.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{Jwk, PublicKeyUse};
use serde::Deserialize;
use tokio::sync::Mutex;

use super::AuthError;

/// Minimum time between refetches triggered by a token naming a key we do not have.
pub const UNKNOWN_KID_REFETCH_INTERVAL: Duration = Duration::from_secs(30);
/// After a failed fetch, answer "unavailable" without retrying for this long, so a provider
/// outage does not queue every request behind a connect timeout.
const FAILURE_BACKOFF: Duration = Duration::from_secs(5);
/// A provider that takes longer than this is treated as unreachable.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the keys are.
#[derive(Debug, Clone)]
pub(crate) enum JwksSource {
    /// `jwks_url` from the config.
    Url(String),
    /// Read `jwks_uri` from the issuer's discovery document.
    Discover { issuer: String },
}

pub(crate) struct JwksCache {
    http: reqwest::Client,
    source: JwksSource,
    ttl: Duration,
    state: Mutex<State>,
    /// Bumped whenever a fetch changes the key set, so what was verified with the old set is
    /// verified again (see `verified.rs`).
    generation: std::sync::atomic::AtomicU64,
}

#[derive(Default)]
struct State {
    /// Resolved from discovery once, then reused.
    jwks_url: Option<String>,
    keys: HashMap<String, Jwk>,
    fetched_at: Option<Instant>,
    last_kid_refetch: Option<Instant>,
    last_failure: Option<(Instant, AuthError)>,
    fetches: u64,
}

#[derive(Deserialize)]
struct Discovery {
    issuer: Option<String>,
    jwks_uri: String,
}

impl JwksCache {
    pub(crate) fn new(source: JwksSource, ttl: Duration) -> Result<JwksCache, AuthError> {
        let http = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .build()
            .map_err(|e| AuthError::Config(format!("cannot create HTTP client: {e}")))?;
        Ok(JwksCache {
            http,
            source,
            ttl,
            state: Mutex::new(State::default()),
            generation: Default::default(),
        })
    }

    /// Changes whenever the key set does.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::Acquire)
    }

    /// How many times keys were fetched (discovery included in one fetch); for tests and metrics.
    pub(crate) async fn fetch_count(&self) -> u64 {
        self.state.lock().await.fetches
    }

    /// The key with this `kid`, fetching or refetching the key set when needed and allowed, and
    /// the [generation](Self::generation) of the set it came from.
    pub(crate) async fn key(&self, kid: &str) -> Result<(Jwk, u64), AuthError> {
        let mut state = self.state.lock().await;
        // Read under the lock that every change of the set takes.
        let key = self.key_locked(&mut state, kid).await?;
        Ok((key, self.generation()))
    }

    async fn key_locked(&self, state: &mut State, kid: &str) -> Result<Jwk, AuthError> {
        let now = Instant::now();
        let fresh = state
            .fetched_at
            .is_some_and(|at| now.duration_since(at) < self.ttl);
        if fresh {
            if let Some(key) = state.keys.get(kid) {
                return Ok(key.clone());
            }
        }
        // Only a fetch for an unknown kid on a fresh set is rate-limited: a cold or expired
        // cache must be (re)filled whatever the kid.
        let kid_refetch = fresh;
        if kid_refetch
            && state
                .last_kid_refetch
                .is_some_and(|at| now.duration_since(at) < UNKNOWN_KID_REFETCH_INTERVAL)
        {
            return Err(AuthError::UnknownKid { kid: kid.into() });
        }
        if let Some((at, err)) = &state.last_failure {
            if now.duration_since(*at) < FAILURE_BACKOFF {
                return stale_or(state, kid, err.clone());
            }
        }
        if kid_refetch {
            state.last_kid_refetch = Some(now);
        }
        state.fetches += 1;
        match self.fetch(state).await {
            Ok(keys) => {
                tracing::info!(keys = keys.len(), "identity provider signing keys fetched");
                if keys != state.keys {
                    self.generation
                        .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
                }
                state.keys = keys;
                state.fetched_at = Some(Instant::now());
                state.last_failure = None;
                state
                    .keys
                    .get(kid)
                    .cloned()
                    .ok_or_else(|| AuthError::UnknownKid { kid: kid.into() })
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot fetch the identity provider's signing keys");
                state.last_failure = Some((Instant::now(), err.clone()));
                stale_or(state, kid, err)
            }
        }
    }

    async fn fetch(&self, state: &mut State) -> Result<HashMap<String, Jwk>, AuthError> {
        let url = match (&self.source, &state.jwks_url) {
            (JwksSource::Url(url), _) | (_, Some(url)) => url.clone(),
            (JwksSource::Discover { issuer }, None) => {
                let url = self.discover(issuer).await?;
                state.jwks_url = Some(url.clone());
                url
            }
        };
        let body: serde_json::Value = self.get_json(&url).await?;
        let Some(keys) = body.get("keys").and_then(|k| k.as_array()) else {
            return Err(unreachable(&url, "the response has no `keys` array"));
        };
        Ok(usable_keys(keys))
    }

    async fn discover(&self, issuer: &str) -> Result<String, AuthError> {
        let url = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        let doc: Discovery = self.get_json(&url).await?;
        // OpenID Connect Discovery §4.3: the document must name the issuer it was fetched for;
        // a mismatch means the config points at the wrong provider (or a spoofed one).
        if let Some(found) = doc.issuer.as_deref() {
            if found != issuer {
                return Err(unreachable(
                    &url,
                    &format!("the discovery document is for issuer {found:?}, but [auth] issuer is {issuer:?}"),
                ));
            }
        }
        // The keys must come over TLS even if the discovery document says otherwise.
        super::config::check_url("jwks_uri", &doc.jwks_uri).map_err(|e| unreachable(&url, &e))?;
        Ok(doc.jwks_uri)
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, AuthError> {
        let response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| unreachable(url, &without_url(&e)))?;
        if !response.status().is_success() {
            return Err(unreachable(url, &format!("HTTP {}", response.status())));
        }
        response
            .json()
            .await
            .map_err(|e| unreachable(url, &format!("not the expected JSON: {}", without_url(&e))))
    }
}

/// During an outage keep using a key we already had: it was trusted minutes ago, and refusing
/// every caller because the provider blinked helps no one.
fn stale_or(state: &State, kid: &str, err: AuthError) -> Result<Jwk, AuthError> {
    match state.keys.get(kid) {
        Some(key) => Ok(key.clone()),
        None => Err(err),
    }
}

/// Signature keys with a `kid`, in a form we can use. Anything else (encryption keys, key types
/// the library cannot parse) is skipped rather than failing the whole set: providers publish
/// keys for other purposes next to their signing keys.
fn usable_keys(keys: &[serde_json::Value]) -> HashMap<String, Jwk> {
    keys.iter()
        .filter_map(|value| match serde_json::from_value::<Jwk>(value.clone()) {
            Ok(jwk) => Some(jwk),
            Err(e) => {
                tracing::debug!(error = %e, "skipping a JWKS entry this registry cannot use");
                None
            }
        })
        .filter(|jwk| !matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)))
        .filter_map(|jwk| Some((jwk.common.key_id.clone()?, jwk)))
        .collect()
}

fn unreachable(url: &str, reason: &str) -> AuthError {
    AuthError::ProviderUnreachable {
        url: url.to_owned(),
        reason: reason.to_owned(),
    }
}

/// reqwest's messages repeat the URL, which the error already names.
fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(url) = e.url() {
        text = text.replace(&format!(" ({url})"), "");
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
