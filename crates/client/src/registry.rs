//! HTTP client for the registry API.

use std::time::Duration;

use doorstep_domain::wire::HealthReport;
use url::Url;

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

/// A client bound to one registry server.
#[derive(Clone)]
pub struct RegistryClient {
    base: Url,
    http: reqwest::Client,
}

impl RegistryClient {
    pub fn new(base: Url) -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("doorstep/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("TLS backend initialises");
        RegistryClient { base, http }
    }

    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// `GET /health`. A 503 still carries a report (the server is up, its database is not), so it
    /// is returned as a report rather than as an error.
    pub async fn health(&self) -> Result<HealthReport, RegistryError> {
        let url = self.base.join("health").expect("static path joins");
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
