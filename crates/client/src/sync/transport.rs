//! The HTTP side of sync: push, pull, uploads and status moves against one registry with one
//! bearer token, through the app's [`RegistryClient`].

use std::sync::Arc;
use std::time::Duration;

use doorstep_domain::api::Transition;
use doorstep_domain::sync::{Mutation, MutationResult, PullResponse, PushRequest};
use tokio::sync::RwLock;
use url::Url;
use zeroize::Zeroizing;

use crate::registry::RegistryClient;
pub use crate::registry::TransportError;

/// A sync request must finish within this; a dead connection is then retried by the next round.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Talks sync to one registry as one signed-in person.
#[derive(Clone)]
pub struct SyncTransport {
    registry: RegistryClient,
    token: Arc<RwLock<Zeroizing<String>>>,
}

impl SyncTransport {
    pub fn new(base: Url, token: impl Into<String>) -> Self {
        Self::for_device(base, token, None)
    }

    /// A transport that names this installation (`Doorstep-Device`) on every request, so the
    /// registry can stop serving a lost or handed-over device.
    pub fn for_device(base: Url, token: impl Into<String>, device: Option<uuid::Uuid>) -> Self {
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(device) = device {
            headers.insert(
                doorstep_domain::api::headers::DEVICE,
                reqwest::header::HeaderValue::from_str(&device.to_string())
                    .expect("a UUID is a valid header value"),
            );
        }
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("doorstep/", env!("CARGO_PKG_VERSION")))
            .default_headers(headers)
            .build()
            .expect("TLS backend initialises");
        SyncTransport {
            registry: RegistryClient::with_http(base, http),
            token: Arc::new(RwLock::new(Zeroizing::new(token.into()))),
        }
    }

    /// Use a new token (after the person signed in again).
    pub async fn set_token(&self, token: impl Into<String>) {
        *self.token.write().await = Zeroizing::new(token.into());
    }

    pub fn base_url(&self) -> &Url {
        self.registry.base_url()
    }

    pub(crate) fn registry(&self) -> &RegistryClient {
        &self.registry
    }

    /// The current bearer token.
    pub(crate) async fn token(&self) -> Zeroizing<String> {
        self.token.read().await.clone()
    }

    /// `POST /v1/sync/push`.
    pub async fn push(
        &self,
        mutations: &[Mutation],
    ) -> Result<Vec<MutationResult>, TransportError> {
        let request = PushRequest {
            mutations: mutations.to_vec(),
        };
        let token = self.token().await;
        Ok(self.registry.push(&token, &request).await?.results)
    }

    /// `GET /v1/documents/{id}/content`, as a stream.
    pub async fn document_content(
        &self,
        document: uuid::Uuid,
    ) -> Result<reqwest::Response, TransportError> {
        let token = self.token().await;
        self.registry.document_content(&token, document).await
    }

    /// `GET /v1/me`.
    pub async fn me(&self) -> Result<doorstep_domain::api::Me, TransportError> {
        let token = self.token().await;
        self.registry.me(&token).await
    }

    /// `GET /v1/areas`, unless the list `etag` names is still current (`None`).
    pub async fn areas(
        &self,
        etag: Option<&str>,
    ) -> Result<Option<(doorstep_domain::api::AreaList, String)>, TransportError> {
        let token = self.token().await;
        self.registry.areas(&token, etag).await
    }

    /// `GET /v1/sync/pull`.
    pub async fn pull(
        &self,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<PullResponse, TransportError> {
        let token = self.token().await;
        self.registry.pull(&token, cursor, limit).await
    }

    /// `POST /v1/applications/{id}/transitions`, once: `key` is the Idempotency-Key, so a
    /// resend after a lost answer is not applied twice. A status this app does not know is
    /// refused like the registry would refuse it.
    pub async fn transition(
        &self,
        application: uuid::Uuid,
        to_status: &str,
        note: Option<&str>,
        key: uuid::Uuid,
    ) -> Result<(), TransportError> {
        let to = serde_json::from_value(serde_json::Value::from(to_status)).map_err(|e| {
            TransportError::Server {
                status: 400,
                message: format!("{to_status:?} is not an application status: {e}"),
            }
        })?;
        let transition = Transition {
            to,
            note: note.map(str::to_owned),
        };
        let token = self.token().await;
        self.registry
            .transition(&token, application, &transition, key)
            .await
    }
}
