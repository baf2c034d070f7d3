//! The provider's signing keys, fetched from `jwks_uri` and cached.
//!
//! Refetched when a token names a key we do not have (the provider rotated its keys), but at
//! most once per [`UNKNOWN_KID_REFETCH_INTERVAL`]: a stream of tokens with made-up `kid`s must
//! not turn into a stream of requests to the provider.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{Jwk, PublicKeyUse};
use tokio::sync::Mutex;

use super::error::describe;
use super::{SignInError, TokenError};

/// Minimum time between refetches caused by an unknown `kid`.
pub const UNKNOWN_KID_REFETCH_INTERVAL: Duration = Duration::from_secs(30);

/// A provider's key set. Cheap to share behind an `Arc`; fetches are single-flight.
pub struct JwksCache {
    http: reqwest::Client,
    /// `None`: a fixed key set (tests), never fetched.
    uri: Option<String>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    keys: HashMap<String, Jwk>,
    fetched: bool,
    last_refetch: Option<Instant>,
    fetches: u64,
}

/// Why a key could not be found.
#[derive(Debug)]
pub(crate) enum KeyError {
    Token(TokenError),
    Fetch(SignInError),
}

impl JwksCache {
    pub fn new(http: reqwest::Client, jwks_uri: String) -> Self {
        JwksCache {
            http,
            uri: Some(jwks_uri),
            state: Mutex::new(State::default()),
        }
    }

    /// A fixed key set (a JWKS document), never refetched: for tests and pinned keys.
    pub fn fixed(jwks: &serde_json::Value) -> Self {
        JwksCache {
            http: reqwest::Client::new(),
            uri: None,
            state: Mutex::new(State {
                keys: usable_keys(jwks),
                fetched: true,
                ..State::default()
            }),
        }
    }

    /// How many times the key set was fetched (for tests).
    pub async fn fetch_count(&self) -> u64 {
        self.state.lock().await.fetches
    }

    /// The key named `kid`, fetching the set on first use and refetching (rate-limited) when the
    /// `kid` is unknown.
    pub(crate) async fn key(&self, kid: &str) -> Result<Jwk, KeyError> {
        let mut state = self.state.lock().await;
        if let Some(key) = state.keys.get(kid) {
            return Ok(key.clone());
        }
        let unknown = || {
            KeyError::Token(TokenError::UnknownKid {
                kid: kid.to_owned(),
            })
        };
        let Some(uri) = &self.uri else {
            return Err(unknown());
        };
        if state.fetched {
            let now = Instant::now();
            if state
                .last_refetch
                .is_some_and(|at| now.duration_since(at) < UNKNOWN_KID_REFETCH_INTERVAL)
            {
                return Err(unknown());
            }
            state.last_refetch = Some(now);
        }
        state.fetches += 1;
        let response = self
            .http
            .get(uri)
            .send()
            .await
            .map_err(|e| KeyError::Fetch(SignInError::unreachable(uri, &e)))?;
        let bad = |reason: String| {
            KeyError::Fetch(SignInError::ProviderResponse {
                url: uri.clone(),
                reason,
            })
        };
        if !response.status().is_success() {
            return Err(bad(format!(
                "HTTP {} for the signing keys",
                response.status()
            )));
        }
        let body: serde_json::Value = response
            .json()
            .await
            .map_err(|e| bad(format!("the signing keys are not JSON: {}", describe(&e))))?;
        if !body.get("keys").is_some_and(|k| k.is_array()) {
            return Err(bad("the signing key set has no `keys` array".into()));
        }
        state.keys = usable_keys(&body);
        state.fetched = true;
        state.keys.get(kid).cloned().ok_or_else(unknown)
    }
}

/// Signature keys with a `kid` that the JWT library can read; encryption keys and unknown key
/// types are skipped rather than failing the whole set.
fn usable_keys(jwks: &serde_json::Value) -> HashMap<String, Jwk> {
    jwks.get("keys")
        .and_then(|k| k.as_array())
        .into_iter()
        .flatten()
        .filter_map(|v| serde_json::from_value::<Jwk>(v.clone()).ok())
        .filter(|jwk| !matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)))
        .filter_map(|jwk| Some((jwk.common.key_id.clone()?, jwk)))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// A JWKS endpoint whose key set names `kid-<n>` on its n-th answer (rotation each fetch).
    async fn rotating_jwks() -> (String, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/jwks", listener.local_addr().unwrap());
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        tokio::spawn(async move {
            loop {
                let (mut sock, _) = listener.accept().await.unwrap();
                let mut buf = [0u8; 4096];
                let _ = sock.read(&mut buf).await;
                let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
                let mut jwks: serde_json::Value =
                    serde_json::from_str(include_str!("testdata/jwks.json")).unwrap();
                jwks["keys"][0]["kid"] = format!("kid-{n}").into();
                let body = jwks.to_string();
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = sock.write_all(head.as_bytes()).await;
                let _ = sock.write_all(body.as_bytes()).await;
            }
        });
        (url, hits)
    }

    #[tokio::test]
    async fn an_unknown_kid_refetches_once_then_waits() {
        let (url, hits) = rotating_jwks().await;
        let cache = JwksCache::new(reqwest::Client::new(), url);
        cache.key("kid-1").await.unwrap();
        cache.key("kid-1").await.unwrap();
        assert_eq!(hits.load(Ordering::SeqCst), 1, "cached");
        // The provider rotated: the unknown kid causes one refetch, which finds it.
        cache.key("kid-2").await.unwrap();
        assert_eq!(hits.load(Ordering::SeqCst), 2);
        // Another unknown kid right away is refused without asking the provider again.
        match cache.key("kid-3").await {
            Err(KeyError::Token(TokenError::UnknownKid { kid })) => assert_eq!(kid, "kid-3"),
            other => panic!("{other:?}"),
        }
        assert_eq!(hits.load(Ordering::SeqCst), 2, "rate-limited");
        assert_eq!(cache.fetch_count().await, 2);
    }
}
