//! The app's one HTTP client for the registry API.
//!
//! Every call the app makes to the registry goes through [`RegistryClient`]: its methods are the
//! API's endpoints, built on the paths, headers and bodies of [`doorstep_domain::api`] (the
//! contract the registry's router uses too), so a changed field or route fails to compile here
//! and there alike. Sync ([`crate::sync`]) and sign-in ([`crate::signin`]) hold one each, with
//! their own timeouts, and map its answers to their own errors.

mod desk;

use std::time::Duration;

use doorstep_domain::api::{
    headers, paths, relative, AreaList, ExchangeRequest, HealthReport, ListParams, Page, PullQuery,
    PullResponse, PushRequest, PushResponse, Transition,
};
use url::Url;
use uuid::Uuid;

/// The problem type of a liveness proof the registry did not accept.
pub const LIVENESS_REFUSED: &str = "/problems/liveness-refused";

/// A health check must answer fast or the app treats the registry as unreachable (offline).
const HEALTH_TIMEOUT: Duration = Duration::from_secs(5);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("the registry at {url} cannot be reached: {reason}")]
    Unreachable { url: Url, reason: String },
    #[error("the registry at {url} answered with HTTP {status}")]
    Status { url: Url, status: u16 },
    #[error("the registry at {url} sent an answer this app does not understand: {reason}")]
    BadResponse { url: Url, reason: String },
}

/// Why a call made as a signed-in person (sync, uploads, status moves) failed.
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
    /// The registry no longer serves this device or account (`/problems/revoked`); the message
    /// is the registry office's reason.
    #[error("{0}")]
    Revoked(String),
}

/// A sign-in call that got no answer: the registry URL was unusable, or the request failed on
/// the way. The caller words it (sign-in errors name the registry, not the provider).
#[derive(Debug)]
pub enum SendError {
    Url(url::ParseError),
    Network { url: Url, error: reqwest::Error },
}

/// A client bound to one registry server.
#[derive(Clone)]
pub struct RegistryClient {
    base: Url,
    http: reqwest::Client,
}

impl RegistryClient {
    /// A client for status checks (short connect timeout; each call sets its own).
    pub fn new(base: Url) -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("doorstep/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("TLS backend initialises");
        RegistryClient { base, http }
    }

    /// A client on an HTTP client of the caller's (its timeouts and settings).
    pub fn with_http(base: Url, http: reqwest::Client) -> Self {
        RegistryClient { base, http }
    }

    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// The URL of an API path (a [`paths`] constant or function, or an upload's location).
    fn try_url(&self, path: &str) -> Result<Url, url::ParseError> {
        self.base.join(relative(path))
    }

    fn url(&self, path: &str) -> Url {
        self.try_url(path).expect("API paths join")
    }

    /// `GET /health`. A 503 still carries a report (the server is up, its database is not), so it
    /// is returned as a report rather than as an error.
    pub async fn health(&self) -> Result<HealthReport, RegistryError> {
        let url = self.url(paths::HEALTH);
        let resp = self
            .http
            .get(url.clone())
            .timeout(HEALTH_TIMEOUT)
            .send()
            .await
            .map_err(|e| RegistryError::Unreachable {
                url: url.clone(),
                reason: describe(&e),
            })?;
        let status = resp.status();
        if !(status.is_success() || status == reqwest::StatusCode::SERVICE_UNAVAILABLE) {
            return Err(RegistryError::Status {
                url,
                status: status.as_u16(),
            });
        }
        resp.json::<HealthReport>()
            .await
            .map_err(|e| RegistryError::BadResponse {
                url,
                reason: describe(&e),
            })
    }

    /// `POST /v1/sync/push`.
    pub async fn push(
        &self,
        token: &str,
        request: &PushRequest,
    ) -> Result<PushResponse, TransportError> {
        self.send_json(
            token,
            self.http.post(self.url(paths::SYNC_PUSH)).json(request),
        )
        .await
    }

    /// `GET /v1/me`: who the registry takes the caller for, and what it asks of them.
    pub async fn me(&self, token: &str) -> Result<doorstep_domain::api::Me, TransportError> {
        self.send_json(token, self.http.get(self.url(paths::ME)))
            .await
    }

    /// `POST /v1/duplicates/check`: whom the registry finds `query.person` likely to be, among
    /// everyone registered. Bounded by `timeout`: it is asked while the agent waits.
    pub async fn duplicate_check(
        &self,
        token: &str,
        query: &doorstep_domain::api::DuplicateCheck,
        timeout: std::time::Duration,
    ) -> Result<Vec<doorstep_domain::duplicates::Match>, TransportError> {
        let answer: doorstep_domain::api::DuplicateCheckAnswer = self
            .send_json(
                token,
                self.http
                    .post(self.url(paths::DUPLICATES_CHECK))
                    .json(query)
                    .timeout(timeout),
            )
            .await?;
        Ok(answer.matches)
    }

    /// Send `request` with the bearer `token` and read the JSON answer: every call whose only
    /// answer is JSON or an error status (sync, records, the desks in registry/desk.rs).
    pub(crate) async fn send_json<T: serde::de::DeserializeOwned>(
        &self,
        token: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<T, TransportError> {
        let response = request
            .header(reqwest::header::AUTHORIZATION, bearer(token))
            .send()
            .await
            .map_err(offline)?;
        let response = check(response).await?;
        response.json().await.map_err(offline)
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// `POST /v1/liveness/challenges`: start a liveness step-up for `request.individual_id`
    /// (none: the caller themself).
    pub async fn liveness_challenge(
        &self,
        token: &str,
        request: &doorstep_domain::api::LivenessChallengeRequest,
    ) -> Result<doorstep_domain::api::LivenessChallenge, TransportError> {
        self.send_json(
            token,
            self.http
                .post(self.url(paths::LIVENESS_CHALLENGES))
                .json(request),
        )
        .await
    }

    /// `POST /v1/liveness/challenges/{id}/proof`: the registry's verdict on a step-up. `Ok(Err)`
    /// is a refusal of the proof (`/problems/liveness-refused`): its reason code and sentence.
    pub async fn liveness_proof(
        &self,
        token: &str,
        challenge: Uuid,
        proof: &doorstep_domain::api::LivenessProof,
    ) -> Result<Result<serde_json::Value, (String, String)>, TransportError> {
        let response = self
            .http
            .post(self.url(&paths::liveness_proof(challenge)))
            .header(reqwest::header::AUTHORIZATION, bearer(token))
            .json(proof)
            .send()
            .await
            .map_err(offline)?;
        if response.status() == reqwest::StatusCode::UNPROCESSABLE_ENTITY {
            let problem: serde_json::Value = response.json().await.map_err(offline)?;
            if problem["type"] == LIVENESS_REFUSED {
                let code = problem["errors"][0]["code"].as_str().unwrap_or("refused");
                let detail = problem["detail"].as_str().unwrap_or("no details");
                return Ok(Err((code.to_owned(), detail.to_owned())));
            }
            return Err(TransportError::Server {
                status: 422,
                message: problem["detail"]
                    .as_str()
                    .unwrap_or("no details")
                    .to_owned(),
            });
        }
        let response = check(response).await?;
        response.json().await.map(Ok).map_err(offline)
    }

    /// `GET /v1/areas` with `If-None-Match: etag`: the caller's part of the gazetteer and its
    /// ETag, or `None` when it is still the one `etag` names (304).
    pub async fn areas(
        &self,
        token: &str,
        etag: Option<&str>,
    ) -> Result<Option<(AreaList, String)>, TransportError> {
        let mut request = self
            .http
            .get(self.url(paths::AREAS))
            .header(reqwest::header::AUTHORIZATION, bearer(token));
        if let Some(etag) = etag {
            request = request.header(reqwest::header::IF_NONE_MATCH, etag);
        }
        let response = request.send().await.map_err(offline)?;
        if response.status() == reqwest::StatusCode::NOT_MODIFIED {
            return Ok(None);
        }
        let response = check(response).await?;
        let etag = response
            .headers()
            .get(reqwest::header::ETAG)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        Ok(Some((response.json().await.map_err(offline)?, etag)))
    }

    /// `GET /v1/sync/pull`.
    pub async fn pull(
        &self,
        token: &str,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<PullResponse, TransportError> {
        let query = PullQuery {
            cursor: cursor.map(str::to_owned),
            limit: Some(limit),
        };
        self.send_json(
            token,
            self.http.get(self.url(paths::SYNC_PULL)).query(&query),
        )
        .await
    }

    /// `POST /v1/applications/{id}/transitions`, once: `key` is the Idempotency-Key, so a
    /// resend after a lost answer is not applied twice.
    pub async fn transition(
        &self,
        token: &str,
        application: Uuid,
        transition: &Transition,
        key: Uuid,
    ) -> Result<(), TransportError> {
        let response = self
            .http
            .post(self.url(&paths::transitions(application)))
            .header(reqwest::header::AUTHORIZATION, bearer(token))
            .header(headers::IDEMPOTENCY_KEY, key.to_string())
            .json(transition)
            .send()
            .await
            .map_err(offline)?;
        check(response).await.map(drop)
    }

    /// `GET /v1/{collection}`: one page of the records the caller may see.
    pub async fn list_records(
        &self,
        token: &str,
        collection: &str,
        params: &ListParams,
    ) -> Result<Page, TransportError> {
        self.send_json(
            token,
            self.http
                .get(self.url(&paths::collection(collection)))
                .query(params),
        )
        .await
    }

    /// `POST /v1/{collection}`: create `record` (its id minted by the app), once: `key` is the
    /// Idempotency-Key. Returns the record as the registry stored it.
    pub async fn create_record(
        &self,
        token: &str,
        collection: &str,
        record: &serde_json::Value,
        key: Uuid,
    ) -> Result<serde_json::Value, TransportError> {
        self.send_json(
            token,
            self.http
                .post(self.url(&paths::collection(collection)))
                .header(headers::IDEMPOTENCY_KEY, key.to_string())
                .json(record),
        )
        .await
    }

    /// `PUT /v1/{collection}/{id}` with `If-Match: rev`: replace the record as it was at that
    /// revision (412 when someone changed it since). Returns the record as stored.
    pub async fn replace_record(
        &self,
        token: &str,
        collection: &str,
        id: Uuid,
        rev: u64,
        record: &serde_json::Value,
        key: Uuid,
    ) -> Result<serde_json::Value, TransportError> {
        self.send_json(
            token,
            self.http
                .put(self.url(&paths::record(collection, id)))
                .header(reqwest::header::IF_MATCH, format!("\"{rev}\""))
                .header(headers::IDEMPOTENCY_KEY, key.to_string())
                .json(record),
        )
        .await
    }

    /// tus `POST /v1/uploads`: announce `length` bytes with their metadata (`key base64(value)`
    /// pairs). Returns the upload's location, relative to the registry's base URL.
    pub async fn create_upload(
        &self,
        token: &str,
        length: u64,
        metadata: &str,
    ) -> Result<String, TransportError> {
        let response = self
            .http
            .post(self.url(paths::UPLOADS))
            .header(reqwest::header::AUTHORIZATION, bearer(token))
            .header(headers::TUS_RESUMABLE, headers::TUS_VERSION)
            .header(headers::UPLOAD_LENGTH, length.to_string())
            .header(headers::UPLOAD_METADATA, metadata)
            .send()
            .await
            .map_err(offline)?;
        let response = check(response).await?;
        response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .map(|l| relative(l).to_owned())
            .ok_or_else(|| TransportError::Server {
                status: 201,
                message: "no upload location".into(),
            })
    }

    /// `GET /v1/documents/{id}/content`: the document's file, to read as a stream.
    pub async fn document_content(
        &self,
        token: &str,
        document: uuid::Uuid,
    ) -> Result<reqwest::Response, TransportError> {
        let response = self
            .http
            .get(self.url(&paths::document_content(document)))
            .header(reqwest::header::AUTHORIZATION, bearer(token))
            .send()
            .await
            .map_err(offline)?;
        check(response).await
    }

    /// tus `HEAD` of an upload: the offset the registry has, or `None` when it no longer knows
    /// the upload.
    pub async fn upload_offset(
        &self,
        token: &str,
        location: &str,
    ) -> Result<Option<u64>, TransportError> {
        let response = self
            .http
            .head(self.url(location))
            .header(reqwest::header::AUTHORIZATION, bearer(token))
            .header(headers::TUS_RESUMABLE, headers::TUS_VERSION)
            .send()
            .await
            .map_err(offline)?;
        if matches!(response.status().as_u16(), 404 | 410) {
            return Ok(None);
        }
        let response = check(response).await?;
        Ok(upload_offset_header(&response))
    }

    /// tus `PATCH`: `bytes` at `offset`. Returns the offset the registry acknowledged, if it
    /// said.
    pub async fn patch_upload(
        &self,
        token: &str,
        location: &str,
        offset: u64,
        bytes: Vec<u8>,
    ) -> Result<Option<u64>, TransportError> {
        let response = self
            .http
            .patch(self.url(location))
            .header(reqwest::header::AUTHORIZATION, bearer(token))
            .header(headers::TUS_RESUMABLE, headers::TUS_VERSION)
            .header(headers::UPLOAD_OFFSET, offset.to_string())
            .header(reqwest::header::CONTENT_TYPE, headers::OFFSET_OCTET_STREAM)
            .body(bytes)
            .send()
            .await
            .map_err(offline)?;
        let response = check(response).await?;
        Ok(upload_offset_header(&response))
    }

    /// `POST /v1/auth/token-exchange`: the registry redeems the code with its client key and
    /// answers with the provider's token response (or an error the caller reads).
    pub async fn token_exchange(
        &self,
        request: &ExchangeRequest,
    ) -> Result<(Url, reqwest::Response), SendError> {
        let url = self
            .try_url(paths::TOKEN_EXCHANGE)
            .map_err(SendError::Url)?;
        let sent = self.http.post(url.clone()).json(request).send().await;
        match sent {
            Ok(response) => Ok((url, response)),
            Err(error) => Err(SendError::Network { url, error }),
        }
    }

    /// `POST /v1/auth/userinfo` with the provider's access token: the provider's userinfo,
    /// decrypted by the registry when it was encrypted (the caller verifies it).
    pub async fn userinfo(
        &self,
        access_token: &str,
    ) -> Result<(Url, reqwest::Response), SendError> {
        let url = self.try_url(paths::USERINFO).map_err(SendError::Url)?;
        let sent = self
            .http
            .post(url.clone())
            .bearer_auth(access_token)
            .send()
            .await;
        match sent {
            Ok(response) => Ok((url, response)),
            Err(error) => Err(SendError::Network { url, error }),
        }
    }
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn upload_offset_header(response: &reqwest::Response) -> Option<u64> {
    response
        .headers()
        .get(headers::UPLOAD_OFFSET)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// Network-level failures (refused, reset, timed out, cut mid-body) are all "offline": the
/// request may or may not have reached the registry, and resending is safe either way.
fn offline(e: reqwest::Error) -> TransportError {
    TransportError::Offline(describe(&e))
}

/// Turn an error status into a [`TransportError`], reading the problem's detail.
async fn check(response: reqwest::Response) -> Result<reqwest::Response, TransportError> {
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
    if problem["type"] == "/problems/revoked" {
        return Err(TransportError::Revoked(message));
    }
    // A gateway or overloaded server: treat like a lost connection and retry later.
    if status.is_server_error() {
        return Err(TransportError::Offline(format!("HTTP {status}: {message}")));
    }
    Err(TransportError::Server {
        status: status.as_u16(),
        message,
    })
}

/// reqwest's Display hides the root cause ("error sending request"); walk the chain for it.
fn describe(err: &reqwest::Error) -> String {
    use std::error::Error;
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        text = format!("{text}: {s}");
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_join_under_a_base_with_a_path() {
        let client = RegistryClient::new(Url::parse("https://example.org/registry/").unwrap());
        assert_eq!(
            client.url(paths::SYNC_PUSH).as_str(),
            "https://example.org/registry/v1/sync/push"
        );
        assert_eq!(
            client.url("v1/uploads/abc").as_str(),
            "https://example.org/registry/v1/uploads/abc"
        );
    }
}
