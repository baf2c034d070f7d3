//! E-mail over SMTP (`lettre`, on tokio): plain text, in the person's language, with the
//! outbox row's id as its `Message-ID`, so a message sent twice (a process stopped between
//! sending and recording it) is recognisably the same message.

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::config::{EmailConfig, TlsMode};
use super::{OutboundChannel, OutboundChannelKind, OutboxRow, SendError};

pub struct SmtpChannel {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// The part after `@` of Message-IDs: the sender's domain.
    id_domain: String,
}

impl SmtpChannel {
    pub fn new(config: &EmailConfig) -> Result<Self, SendError> {
        let setup = |e: lettre::transport::smtp::Error| {
            SendError::Permanent(format!("cannot set up SMTP to {}: {e}", config.host))
        };
        let builder = match config.tls {
            TlsMode::Starttls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&config.host).map_err(setup)?
            }
            TlsMode::Tls => {
                AsyncSmtpTransport::<Tokio1Executor>::relay(&config.host).map_err(setup)?
            }
            TlsMode::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host),
        };
        let mut builder = builder.port(config.port).timeout(Some(config.timeout));
        if let Some((user, password)) = &config.credentials {
            builder =
                builder.credentials(Credentials::new(user.clone(), password.expose().to_owned()));
        }
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|e| SendError::Permanent(format!("[outbound.email] from: {e}")))?;
        let id_domain = from.email.domain().to_owned();
        Ok(SmtpChannel {
            transport: builder.build(),
            from,
            id_domain,
        })
    }

    /// The e-mail for one outbox row.
    fn message(&self, row: &OutboxRow) -> Result<Message, SendError> {
        let to: Mailbox = row
            .address
            .parse()
            .map_err(|e| SendError::Permanent(format!("not an e-mail address: {e}")))?;
        let mut message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(row.subject.clone())
            .message_id(Some(format!("<{}@{}>", row.id, self.id_domain)))
            .header(ContentType::TEXT_PLAIN)
            .body(row.body.clone())
            .map_err(|e| SendError::Permanent(format!("cannot build the e-mail: {e}")))?;
        // Lets mail clients pick fonts and direction (Arabic is right-to-left).
        message.headers_mut().insert_raw(HeaderValue::new(
            HeaderName::new_from_ascii_str("Content-Language"),
            row.language.clone(),
        ));
        Ok(message)
    }
}

#[async_trait::async_trait]
impl OutboundChannel for SmtpChannel {
    fn kind(&self) -> OutboundChannelKind {
        OutboundChannelKind::Email
    }

    async fn send(&self, row: &OutboxRow) -> Result<(), SendError> {
        let message = self.message(row)?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            // A 5xx reply: this address or message will never be taken.
            Err(e) if e.is_permanent() => Err(SendError::Permanent(format!("SMTP: {e}"))),
            Err(e) => Err(SendError::Transient(format!("SMTP: {e}"))),
        }
    }
}
