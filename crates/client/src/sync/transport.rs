//! The HTTP side of sync: push, pull and uploads against one registry with one bearer token.

use std::sync::Arc;
use std::time::Duration;

use doorstep_domain::sync::{Mutation, MutationResult, PullResponse, PushRequest, PushResponse};
use tokio::sync::RwLock;
use url::Url;
use zeroize::Zeroizing;

/// A sync request must finish within this; a dead connection is then retried by the next round.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("the registry cannot be reached: {0}")]
    Offline(String),
    #[error("the registry did not accept the sign-in token")]
    Unauthorized,
    #[error("the sync cursor is from another registry")]
    CursorReset,
    #[error("the registry answered HTTP {status}: {message}")]
    Server { status: u16, message: String },
}

/// Talks sync to one registry as one signed-in person.
#[derive(Clone)]
pub struct SyncTransport {
    base: Url,
    http: reqwest::Client,
    token: Arc<RwLock<Zeroizing<String>>>,
}

impl SyncTransport {
    pub fn new(base: Url, token: impl Into<String>) -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("doorstep/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("TLS backend initialises");
        SyncTransport {
            base,
            http,
            token: Arc::new(RwLock::new(Zeroizing::new(token.into()))),
        }
    }

    /// Use a new token (after the person signed in again).
    pub async fn set_token(&self, token: impl Into<String>) {
        *self.token.write().await = Zeroizing::new(token.into());
    }

    pub fn base_url(&self) -> &Url {
        &self.base
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub(crate) async fn bearer(&self) -> String {
        format!("Bearer {}", self.token.read().await.as_str())
    }

    pub(crate) fn url(&self, path: &str) -> Url {
        self.base.join(path).expect("static paths join")
    }

    /// `POST /v1/sync/push`.
    pub async fn push(
        &self,
        mutations: &[Mutation],
    ) -> Result<Vec<MutationResult>, TransportError> {
        let response = self
            .http
            .post(self.url("v1/sync/push"))
            .header(reqwest::header::AUTHORIZATION, self.bearer().await)
            .json(&PushRequest {
                mutations: mutations.to_vec(),
            })
            .send()
            .await
            .map_err(offline)?;
        let response = check(response).await?;
        let body: PushResponse = response.json().await.map_err(offline)?;
        Ok(body.results)
    }

    /// `GET /v1/sync/pull`.
    pub async fn pull(
        &self,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<PullResponse, TransportError> {
        let mut url = self.url("v1/sync/pull");
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("limit", &limit.to_string());
            if let Some(cursor) = cursor {
                q.append_pair("cursor", cursor);
            }
        }
        let response = self
            .http
            .get(url)
            .header(reqwest::header::AUTHORIZATION, self.bearer().await)
            .send()
            .await
            .map_err(offline)?;
        let response = check(response).await?;
        response.json().await.map_err(offline)
    }

    /// `POST /v1/applications/{id}/transitions`, once: `key` is the Idempotency-Key, so a
    /// resend after a lost answer is not applied twice.
    pub async fn transition(
        &self,
        application: uuid::Uuid,
        to_status: &str,
        note: Option<&str>,
        key: uuid::Uuid,
    ) -> Result<(), TransportError> {
        let response = self
            .http
            .post(self.url(&format!("v1/applications/{application}/transitions")))
            .header(reqwest::header::AUTHORIZATION, self.bearer().await)
            .header("Idempotency-Key", key.to_string())
            .json(&serde_json::json!({ "to": to_status, "note": note }))
            .send()
            .await
            .map_err(offline)?;
        check(response).await.map(drop)
    }
}

/// Network-level failures (refused, reset, timed out, cut mid-body) are all "offline": the
/// request may or may not have reached the registry, and resending is safe either way.
pub(crate) fn offline(e: reqwest::Error) -> TransportError {
    use std::error::Error;
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text = format!("{text}: {s}");
        source = s.source();
    }
    TransportError::Offline(text)
}

/// Turn an error status into a [`TransportError`], reading the problem's detail.
pub(crate) async fn check(
    response: reqwest::Response,
) -> Result<reqwest::Response, TransportError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    if status == reqwest::StatusCode::UNAUTHORIZED {
        return Err(TransportError::Unauthorized);
    }
    let problem: serde_json::Value = response.json().await.unwrap_or_default();
    if problem["type"] == "/problems/cursor-reset" {
        return Err(TransportError::CursorReset);
    }
    let message = problem["detail"]
        .as_str()
        .unwrap_or("no details")
        .to_owned();
    // A gateway or overloaded server: treat like a lost connection and retry later.
    if status.is_server_error() {
        return Err(TransportError::Offline(format!("HTTP {status}: {message}")));
    }
    Err(TransportError::Server {
        status: status.as_u16(),
        message,
    })
}
