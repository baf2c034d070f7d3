//! "Messages sent" (registry staff and administrators): how the delivery of the registry's
//! messages beyond the app went (e-mail, and text messages through the SMS gateway's webhook),
//! newest first, from `GET /v1/outbox`. Online only and kept nowhere on the device, like the
//! other desks; the registry decides who sees what (staff limited to areas see the messages to
//! people filed there) and never gives a message's text.

pub use doorstep_domain::api::OutboxStatus;
use doorstep_domain::api::{OutboxEntry, OutboxListQuery};
use serde::Serialize;

use super::refusal::from_registry;
use super::{AppError, Doorstep};

/// Messages per page.
const PAGE: u32 = 50;

/// How a message went out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum SentChannel {
    Email,
    /// A text message, handed to the SMS gateway's webhook.
    TextMessage,
    /// A channel this app does not know yet (a newer registry).
    Other,
}

/// One message, as the screen lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SentMessage {
    pub id: String,
    /// RFC 3339 UTC: when the registry wrote it.
    pub created_at: String,
    /// The individual it is addressed to.
    pub recipient_id: String,
    /// The e-mail address or phone number it goes to.
    pub address: String,
    pub channel: SentChannel,
    pub status: OutboxStatus,
    pub attempts: u32,
    /// RFC 3339 UTC: the next attempt, while it is pending.
    pub next_attempt_at: String,
    pub last_error: Option<String>,
    pub delivered_at: Option<String>,
}

/// A page of messages, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SentMessagesView {
    pub items: Vec<SentMessage>,
    /// Pass back as `before` for the next (older) page; absent on the last.
    pub next_before: Option<String>,
}

impl Doorstep {
    /// A page of the messages sent; `before` is the previous page's `next_before`.
    pub async fn messages_sent(
        &self,
        before: Option<String>,
    ) -> Result<SentMessagesView, AppError> {
        let (_, transport) = self.online().await?;
        let token = transport.token().await;
        let page = transport
            .registry()
            .outbox(
                &token,
                &OutboxListQuery {
                    before,
                    limit: Some(PAGE),
                    ..OutboxListQuery::default()
                },
            )
            .await
            .map_err(from_registry)?;
        Ok(SentMessagesView {
            items: page.items.into_iter().map(view).collect(),
            next_before: page.next_before,
        })
    }
}

fn view(e: OutboxEntry) -> SentMessage {
    SentMessage {
        id: e.id.to_string(),
        created_at: e.created_at,
        recipient_id: e.recipient_id.to_string(),
        address: e.address,
        channel: channel(&e.channel),
        status: e.status,
        attempts: e.attempts,
        next_attempt_at: e.next_attempt_at,
        last_error: e.last_error,
        delivered_at: e.delivered_at,
    }
}

/// The registry's channel names (`storage::OutboundChannelKind`).
fn channel(name: &str) -> SentChannel {
    match name {
        "email" => SentChannel::Email,
        "webhook" => SentChannel::TextMessage,
        _ => SentChannel::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_are_named_for_people() {
        for (name, expected) in [
            ("email", SentChannel::Email),
            ("webhook", SentChannel::TextMessage),
            ("fax", SentChannel::Other),
        ] {
            assert_eq!(channel(name), expected, "{name}");
        }
    }
}
