//! Messages beyond the app: each notification the registry writes to a person is also sent by
//! e-mail and, through a webhook, by SMS — where the registry is configured for it, the person
//! has an address for it, and has not opted out of it.
//!
//! How it holds together:
//! - **Durable outbox.** [`crate::api::notify::write`] attaches one [`Outbound`] per channel to
//!   the notification's write; the store inserts them into `outbox` in the same statement as the
//!   notification (storage/sql.rs `write_plan`), so a message exists exactly when its
//!   notification does, whichever path wrote it, and survives any restart.
//! - **Stable id.** A message's id is [`message_id`] (notification, channel): the same however
//!   often the notification is written (a retried request finds it there), and sent with every
//!   attempt (e-mail `Message-ID`, webhook `Idempotency-Key`) so the receiver drops repeats.
//! - **At least once.** The [`worker`] claims due rows for a lease, sends, and records the
//!   outcome; a process that stops mid-send leaves its rows claimed until the lease runs out,
//!   then any process sends them again. Failures are retried with exponential backoff up to
//!   `max_attempts`, then the row is `failed` with the last error; a refusal for good (an SMTP
//!   5xx, a webhook 4xx) fails it at once.
//! - **Nothing configured, nothing kept.** A channel without its `[outbound.*]` section gets no
//!   rows, so a registry without SMTP (the demo) keeps no messages it could never send, and
//!   configuring one later does not send old notifications.

pub mod config;
pub mod email;
pub mod webhook;
pub mod worker;

use std::collections::HashMap;
use std::sync::Arc;

use doorstep_domain::{Contact, ContactChannel, Language};
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub use crate::storage::{Outbound, OutboundChannelKind, OutboxRow};
pub use config::{OutboundConfig, SchedulerConfig};

/// Why a message was not delivered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth trying again later (a timeout, a 4xx SMTP reply, a webhook 5xx).
    #[error("{0}")]
    Transient(String),
    /// Will never work as it is (a refused address, a webhook 4xx): given up at once.
    #[error("{0}")]
    Permanent(String),
}

/// One way of sending a message beyond the app.
#[async_trait::async_trait]
pub trait OutboundChannel: Send + Sync + 'static {
    fn kind(&self) -> OutboundChannelKind;

    /// Send `message` once. The receiver sees `message.id` as the message's id on every attempt.
    async fn send(&self, message: &OutboxRow) -> Result<(), SendError>;
}

/// The channels this registry sends by, from `[outbound]`.
#[derive(Clone, Default)]
pub struct Channels {
    by_kind: HashMap<OutboundChannelKind, Arc<dyn OutboundChannel>>,
}

impl Channels {
    /// The configured channels (none without `[outbound.email]` or `[outbound.webhook]`).
    pub fn from_config(config: &OutboundConfig) -> Result<Channels, SendError> {
        let mut channels = Channels::default();
        if let Some(email) = &config.email {
            channels.add(Arc::new(email::SmtpChannel::new(email)?));
        }
        if let Some(hook) = &config.webhook {
            channels.add(Arc::new(webhook::WebhookChannel::new(hook)?));
        }
        Ok(channels)
    }

    pub fn add(&mut self, channel: Arc<dyn OutboundChannel>) {
        self.by_kind.insert(channel.kind(), channel);
    }

    pub fn get(&self, kind: OutboundChannelKind) -> Option<&Arc<dyn OutboundChannel>> {
        self.by_kind.get(&kind)
    }

    /// Which kinds are configured, for writing outbox rows.
    pub fn enabled(&self) -> Enabled {
        Enabled {
            email: self.by_kind.contains_key(&OutboundChannelKind::Email),
            webhook: self.by_kind.contains_key(&OutboundChannelKind::Webhook),
        }
    }
}

/// The channels messages are kept in the outbox for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Enabled {
    pub email: bool,
    pub webhook: bool,
}

impl Enabled {
    pub fn any(self) -> bool {
        self.email || self.webhook
    }
}

/// Where a person can be sent messages beyond the app: their first e-mail address unless they
/// opted out of e-mail, their first mobile number in use unless they opted out of SMS (the
/// webhook is an SMS gateway), for the channels that are `enabled`.
pub fn reach(contact: Option<&Contact>, enabled: Enabled) -> Vec<(OutboundChannelKind, String)> {
    let Some(contact) = contact else {
        return Vec::new();
    };
    let mut reach = Vec::new();
    if enabled.email && !contact.opted_out_of(ContactChannel::Email) {
        if let Some(email) = contact.emails.first() {
            reach.push((OutboundChannelKind::Email, email.clone()));
        }
    }
    if enabled.webhook && !contact.opted_out_of(ContactChannel::Sms) {
        if let Some(phone) = contact.active_phones().find(|p| p.kind.receives_sms()) {
            reach.push((OutboundChannelKind::Webhook, phone.number_e164.clone()));
        }
    }
    reach
}

/// The messages carrying one notification to the addresses in `reach`.
pub fn messages(
    notification: Uuid,
    reach: &[(OutboundChannelKind, String)],
    language: Language,
    subject: &str,
    body: &str,
) -> Vec<Outbound> {
    reach
        .iter()
        .map(|(channel, address)| Outbound {
            id: message_id(notification, *channel),
            channel: *channel,
            address: address.clone(),
            language: language.as_str().to_owned(),
            subject: subject.to_owned(),
            body: format!("{body}\n\n{}", crate::messages::outbound_footer(language)),
        })
        .collect()
}

/// The id of the message carrying `notification` by `channel` (UUIDv8 from SHA-256 of both):
/// the same every time, so the outbox holds it once and the receiver can drop repeats.
pub fn message_id(notification: Uuid, channel: OutboundChannelKind) -> Uuid {
    let mut hash = Sha256::new();
    hash.update(b"doorstep outbound ");
    hash.update(notification.as_bytes());
    hash.update(channel.as_str().as_bytes());
    let digest = hash.finalize();
    let mut bytes = [0_u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

#[cfg(test)]
mod tests {
    use super::*;
    use doorstep_domain::{ActorId, Phone, PhoneKind, RecordId, RecordMeta};

    fn contact() -> Contact {
        let id = |n: u128| RecordId::from_uuid(Uuid::from_u128(n));
        Contact {
            meta: RecordMeta::new(id(1), time::OffsetDateTime::UNIX_EPOCH, ActorId::new("a")),
            registrant_id: id(2),
            phones: vec![
                Phone {
                    id: id(3),
                    number_e164: "+254700000001".into(),
                    date_collected: None,
                    kind: PhoneKind::Landline,
                    disabled: false,
                },
                Phone {
                    id: id(4),
                    number_e164: "+254700000002".into(),
                    date_collected: None,
                    kind: PhoneKind::Mobile,
                    disabled: false,
                },
            ],
            emails: vec!["amina@example.org".into()],
            address: None,
            preferred_channel: None,
            opted_out: Vec::new(),
        }
    }

    #[test]
    fn reach_follows_configuration_addresses_and_opt_outs() {
        let all = Enabled {
            email: true,
            webhook: true,
        };
        let mut c = contact();
        assert_eq!(
            reach(Some(&c), all),
            vec![
                (OutboundChannelKind::Email, "amina@example.org".to_owned()),
                // Not the landline.
                (OutboundChannelKind::Webhook, "+254700000002".to_owned()),
            ]
        );
        assert!(reach(Some(&c), Enabled::default()).is_empty());
        assert!(reach(None, all).is_empty());
        c.opted_out = vec![ContactChannel::Sms];
        assert_eq!(reach(Some(&c), all).len(), 1);
        c.opted_out = vec![ContactChannel::Email, ContactChannel::Sms];
        assert!(reach(Some(&c), all).is_empty());
    }

    #[test]
    fn one_id_per_notification_and_channel() {
        let n = Uuid::now_v7();
        assert_eq!(
            message_id(n, OutboundChannelKind::Email),
            message_id(n, OutboundChannelKind::Email)
        );
        assert_ne!(
            message_id(n, OutboundChannelKind::Email),
            message_id(n, OutboundChannelKind::Webhook)
        );
        assert_ne!(
            message_id(n, OutboundChannelKind::Email),
            message_id(Uuid::now_v7(), OutboundChannelKind::Email)
        );
    }
}
