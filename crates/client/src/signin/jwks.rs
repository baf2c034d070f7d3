//! The provider's signing keys, fetched from `jwks_uri` (by the `openidconnect` crate, which
//! also skips keys it cannot use and never picks an encryption key to verify a signature) and
//! cached.
//!
//! Refetched when a token names a key we do not have (the provider rotated its keys), but at
//! most once per [`UNKNOWN_KID_REFETCH_INTERVAL`]: a stream of tokens with made-up `kid`s must
//! not turn into a stream of requests to the provider. The crate fetches a key set on request
//! only; this rate-limited refetch is ours.

use std::time::{Duration, Instant};

use openidconnect::core::CoreJsonWebKeySet;
use openidconnect::{JsonWebKey, JsonWebKeySetUrl};
use tokio::sync::Mutex;

use super::discovery::discovery_error;
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

struct State {
    keys: CoreJsonWebKeySet,
    fetched: bool,
    last_refetch: Option<Instant>,
    fetches: u64,
}

impl State {
    fn new(keys: CoreJsonWebKeySet, fetched: bool) -> Self {
        State {
            keys,
            fetched,
            last_refetch: None,
            fetches: 0,
        }
    }

    fn has(&self, kid: Option<&str>) -> bool {
        let Some(kid) = kid else {
            return self.fetched;
        };
        self.keys
            .keys()
            .iter()
            .any(|k| k.key_id().map(|id| id.as_str()) == Some(kid))
    }
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
            state: Mutex::new(State::new(CoreJsonWebKeySet::new(Vec::new()), false)),
        }
    }

    /// As [`JwksCache::new`], starting from the key set fetched with the discovery document.
    pub(crate) fn with_keys(
        http: reqwest::Client,
        jwks_uri: String,
        keys: CoreJsonWebKeySet,
    ) -> Self {
        JwksCache {
            http,
            uri: Some(jwks_uri),
            state: Mutex::new(State::new(keys, true)),
        }
    }

    /// A fixed key set (a JWKS document), never refetched: for tests and pinned keys.
    pub fn fixed(jwks: &serde_json::Value) -> Self {
        let keys = serde_json::from_value(jwks.clone())
            .unwrap_or_else(|_| CoreJsonWebKeySet::new(Vec::new()));
        JwksCache {
            http: reqwest::Client::new(),
            uri: None,
            state: Mutex::new(State::new(keys, true)),
        }
    }

    /// How many times the key set was fetched (for tests).
    pub async fn fetch_count(&self) -> u64 {
        self.state.lock().await.fetches
    }

    /// The key set holding `kid`, fetching it on first use and refetching (rate-limited) when
    /// the `kid` is unknown.
    #[cfg(test)]
    pub(crate) async fn key(&self, kid: &str) -> Result<CoreJsonWebKeySet, KeyError> {
        self.keys_for(Some(kid)).await
    }

    /// The key set to verify a token naming `kid` (or none) with.
    pub(crate) async fn keys_for(&self, kid: Option<&str>) -> Result<CoreJsonWebKeySet, KeyError> {
        let mut state = self.state.lock().await;
        if state.has(kid) {
            return Ok(state.keys.clone());
        }
        let unknown = || {
            KeyError::Token(TokenError::UnknownKid {
                kid: kid.unwrap_or_default().to_owned(),
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
        let url = JsonWebKeySetUrl::new(uri.clone()).map_err(|e| {
            KeyError::Fetch(SignInError::ProviderResponse {
                url: uri.clone(),
                reason: format!("jwks_uri is not a URL: {e}"),
            })
        })?;
        state.keys = CoreJsonWebKeySet::fetch_async(&url, &self.http)
            .await
            .map_err(|e| KeyError::Fetch(discovery_error(uri, e)))?;
        state.fetched = true;
        if state.has(kid) {
            Ok(state.keys.clone())
        } else {
            Err(unknown())
        }
    }
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
