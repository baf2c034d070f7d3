//! The webhook: an HTTP POST of a JSON message to the configured URL, for an SMS gateway (or
//! anything else that forwards messages). Each request carries
//! - `Idempotency-Key`: the outbox row's id, the same on every attempt, so the receiver keeps
//!   one message however often it is sent;
//! - `Doorstep-Signature: sha256=<hex>`: HMAC-SHA256 of the exact body under the configured
//!   secret, so the receiver knows it came from this registry and was not changed.
//!
//! A 2xx answer is delivery. 408, 429 and 5xx (and no answer) are tried again later; any other
//! answer is a refusal for good.

use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

use super::config::{Secret, WebhookConfig};
use super::{OutboundChannel, OutboundChannelKind, OutboxRow, SendError};

/// The header carrying the body's signature.
pub const SIGNATURE_HEADER: &str = "Doorstep-Signature";

/// What the receiver is sent.
#[derive(Debug, Serialize)]
pub struct WebhookMessage<'a> {
    /// The message's id (also the `Idempotency-Key`).
    pub id: uuid::Uuid,
    pub notification_id: uuid::Uuid,
    /// Always `sms`: what the gateway should do with it.
    pub channel: &'static str,
    /// The phone number, E.164.
    pub to: &'a str,
    /// BCP 47 tag of the text's language.
    pub language: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
}

pub struct WebhookChannel {
    client: reqwest::Client,
    url: url::Url,
    secret: Secret,
}

impl WebhookChannel {
    pub fn new(config: &WebhookConfig) -> Result<Self, SendError> {
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            // A redirect would send the signed message somewhere nobody configured.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| SendError::Permanent(format!("cannot set up the webhook client: {e}")))?;
        Ok(WebhookChannel {
            client,
            url: config.url.clone(),
            secret: config.secret.clone(),
        })
    }
}

/// `sha256=<hex HMAC-SHA256 of body under secret>`.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[async_trait::async_trait]
impl OutboundChannel for WebhookChannel {
    fn kind(&self) -> OutboundChannelKind {
        OutboundChannelKind::Webhook
    }

    async fn send(&self, row: &OutboxRow) -> Result<(), SendError> {
        let body = serde_json::to_vec(&WebhookMessage {
            id: row.id,
            notification_id: row.notification_id,
            channel: "sms",
            to: &row.address,
            language: &row.language,
            subject: &row.subject,
            body: &row.body,
        })
        .expect("messages serialise");
        let answer = self
            .client
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(
                doorstep_domain::api::headers::IDEMPOTENCY_KEY,
                row.id.to_string(),
            )
            .header(
                SIGNATURE_HEADER,
                signature(self.secret.expose().as_bytes(), &body),
            )
            .body(body)
            .send()
            .await
            // Never the URL's query (it may carry a gateway token): only what went wrong.
            .map_err(|e| SendError::Transient(format!("webhook: {}", e.without_url())))?;
        let status = answer.status();
        if status.is_success() {
            Ok(())
        } else if status.is_server_error()
            || status == reqwest::StatusCode::REQUEST_TIMEOUT
            || status == reqwest::StatusCode::TOO_MANY_REQUESTS
        {
            Err(SendError::Transient(format!("webhook answered {status}")))
        } else {
            Err(SendError::Permanent(format!(
                "webhook refused the message: {status}"
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_rfc_4231_hmac_sha256() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
