//! The notifications the registry writes itself, each committed in the same transaction as what
//! it tells (a status change, a reviewer's decision, an announcement), so the person is told
//! exactly when it happened and never about something that did not. The wording comes from
//! [`crate::messages`], in the recipient's preferred language.

use doorstep_domain::notification::NotificationKind;
use doorstep_domain::{
    ActorId, Language, Notification, RecordId, RecordKind, RecordMeta, Validate,
};
use time::OffsetDateTime;
use uuid::Uuid;

use super::ApiError;
use crate::messages::Message;
use crate::problem::ProblemKind;
use crate::state::AppState;
use crate::storage::{Expect, RecordIndex, StoredRecord, Write};

/// Actor id the registry writes its own notifications as.
pub const SYSTEM_ACTOR: &str = "system:registry";

/// Whom a notification goes to: an individual, with the language they read and where they are
/// filed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub id: Uuid,
    pub language: Language,
    pub area: Option<String>,
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
        })
    }
}

/// The individual `id` as a recipient, or `None` when there is no such live individual.
pub async fn recipient(state: &AppState, id: Uuid) -> Result<Option<Recipient>, ApiError> {
    Ok(state
        .storage
        .get(id)
        .await?
        .as_ref()
        .and_then(Recipient::of))
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
    let notice = Notification {
        meta: RecordMeta::new(RecordId::from_uuid(id), at, ActorId::new(SYSTEM_ACTOR)),
        recipient_id: RecordId::from_uuid(to.id),
        kind,
        title: message.title,
        body: message.body,
        related_record: Some(RecordId::from_uuid(related)),
        read_at: None,
        deadline: None,
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
    })
}
