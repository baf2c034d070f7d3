//! The notifications the registry writes itself, each committed in the same transaction as what
//! it tells (a status change, a reviewer's decision, an announcement), so the person is told
//! exactly when it happened and never about something that did not. The wording comes from
//! [`crate::messages`], in the recipient's preferred language. Each also carries its messages
//! beyond the app ([`crate::outbound`]): one per configured channel the person has an address
//! for and has not opted out of (their contact record), kept in the outbox in the same statement.

use doorstep_domain::notification::NotificationKind;
use doorstep_domain::{
    ActorId, Contact, Language, Notification, RecordId, RecordKind, RecordMeta, Validate,
};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::ApiError;
use crate::messages::Message;
use crate::outbound::{Enabled, OutboundChannelKind};
use crate::problem::ProblemKind;
use crate::state::AppState;
use crate::storage::{
    Expect, ListQuery, RecordIndex, StorageError, Store, StoredRecord, Visibility, Write,
};

/// Actor id the registry writes its own notifications as.
pub const SYSTEM_ACTOR: &str = "system:registry";

/// Whom a notification goes to: an individual, with the language they read and where they are
/// filed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub id: Uuid,
    pub language: Language,
    pub area: Option<String>,
    /// Where messages beyond the app go (see [`crate::outbound::reach`]); empty until
    /// [`Recipient::reached_by`] fills it in.
    pub reach: Vec<(OutboundChannelKind, String)>,
}

impl Recipient {
    /// The individual `person` as stored (`None` if it is not a live individual).
    pub fn of(person: &StoredRecord) -> Option<Recipient> {
        (person.kind == RecordKind::Individual && !person.deleted).then(|| Recipient {
            id: person.id,
            language: Language::of_tag(
                person
                    .body
                    .get("preferred_language")
                    .and_then(serde_json::Value::as_str),
            ),
            area: person.index.area.clone(),
            reach: Vec::new(),
        })
    }

    /// With the addresses messages beyond the app go to: from the person's contact record, for
    /// the `enabled` channels, none they opted out of.
    pub async fn reached_by(
        mut self,
        store: &dyn Store,
        enabled: Enabled,
    ) -> Result<Self, StorageError> {
        if !enabled.any() {
            return Ok(self);
        }
        let mut query = ListQuery::new(RecordKind::Contact, Visibility::All, 1);
        query.owner_id = Some(self.id);
        let contact: Option<Contact> = store
            .list(&query)
            .await?
            .into_iter()
            .next()
            .and_then(|c| serde_json::from_value(c.body).ok());
        self.reach = crate::outbound::reach(contact.as_ref(), enabled);
        Ok(self)
    }
}

/// The individual `id` as a recipient, or `None` when there is no such live individual.
pub async fn recipient(state: &AppState, id: Uuid) -> Result<Option<Recipient>, ApiError> {
    Ok(recipient_in(state.storage.as_ref(), state.outbound, id).await?)
}

/// [`recipient`] from any store, for the registry's own jobs.
pub async fn recipient_in(
    store: &dyn Store,
    enabled: Enabled,
    id: Uuid,
) -> Result<Option<Recipient>, StorageError> {
    match store.get(id).await?.as_ref().and_then(Recipient::of) {
        Some(to) => Ok(Some(to.reached_by(store, enabled).await?)),
        None => Ok(None),
    }
}

/// A new notification to `to` about `related`, as a write: checked like any record, filed
/// where its recipient is, created by the registry.
pub fn write(
    id: Uuid,
    to: &Recipient,
    kind: NotificationKind,
    related: Uuid,
    message: Message,
    at: OffsetDateTime,
) -> Result<Write, ApiError> {
    write_due(id, to, kind, related, message, at, None)
}

/// [`write`], with the last day to act.
pub fn write_due(
    id: Uuid,
    to: &Recipient,
    kind: NotificationKind,
    related: Uuid,
    message: Message,
    at: OffsetDateTime,
    deadline: Option<Date>,
) -> Result<Write, ApiError> {
    let outbound =
        crate::outbound::messages(id, &to.reach, to.language, &message.title, &message.body);
    let notice = Notification {
        meta: RecordMeta::new(RecordId::from_uuid(id), at, ActorId::new(SYSTEM_ACTOR)),
        recipient_id: RecordId::from_uuid(to.id),
        kind,
        title: message.title,
        body: message.body,
        related_record: Some(RecordId::from_uuid(related)),
        read_at: None,
        deadline,
    };
    notice.validate().map_err(|e| {
        ApiError::new(
            ProblemKind::Internal,
            format!("the registry's own notification is invalid: {e:?}"),
        )
    })?;
    Ok(Write {
        kind: RecordKind::Notification,
        id,
        expect: Expect::Absent,
        body: serde_json::to_value(&notice).expect("domain records serialise"),
        index: RecordIndex {
            owner_id: Some(to.id),
            area: to.area.clone(),
            parent_id: Some(related),
            creator: SYSTEM_ACTOR.into(),
            ..RecordIndex::default()
        },
        deleted: false,
        duplicate_check: None,
        outbound,
    })
}
