//! Messages to registrants: a decision on their application, a document to send, a deadline.
//!
//! Notifications are records so they sync to the app and can be read offline; delivery by SMS
//! or e-mail (per [`crate::contact::ContactChannel`]) is done by the server, outside this crate.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::ids::RecordId;
use crate::record::{impl_record, RecordKind, RecordMeta};
use crate::validate::text::{required_line, required_text};
use crate::validate::{code, Validate, ValidationErrors};

/// Longest title: short enough for a phone's notification banner.
pub const MAX_TITLE_CHARS: usize = 120;
/// Longest body.
pub const MAX_BODY_CHARS: usize = 2000;

/// A message to one registrant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Notification {
    /// `created_at` in here is when the notification was issued.
    #[serde(flatten)]
    pub meta: RecordMeta,
    /// The individual it is addressed to.
    pub recipient_id: RecordId,
    pub kind: NotificationKind,
    pub title: String,
    pub body: String,
    /// The record it is about (the application decided, the document requested…).
    #[serde(default)]
    pub related_record: Option<RecordId>,
    /// When the recipient first opened it.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub read_at: Option<OffsetDateTime>,
    /// Last day to act, in the programme's local calendar.
    #[serde(default, with = "crate::date_format::option")]
    pub deadline: Option<Date>,
}

impl_record!(Notification, RecordKind::Notification);

impl Notification {
    /// Whether the recipient has opened it.
    pub fn is_read(&self) -> bool {
        self.read_at.is_some()
    }

    /// Records that the recipient opened it at `at`. Only the first reading is kept, so reading
    /// it again on another device does not move the date.
    pub fn mark_read(&mut self, at: OffsetDateTime) {
        if self.read_at.is_none() {
            self.read_at = Some(at);
            self.meta.touch(at);
        }
    }

    /// Whether its deadline has passed by `today` (the deadline day itself still counts).
    pub fn is_overdue(&self, today: Date) -> bool {
        self.deadline.is_some_and(|deadline| deadline < today)
    }
}

impl Validate for Notification {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        errors.merge(self.meta.validate());
        if self.recipient_id.is_nil() {
            errors.push(
                "recipient_id",
                code::REQUIRED,
                "Choose who the message is for.",
            );
        }
        required_line(&mut errors, "title", "title", &self.title, MAX_TITLE_CHARS);
        required_text(&mut errors, "body", "message", &self.body, MAX_BODY_CHARS);
        if self.kind.needs_related_record() && self.related_record.is_none() {
            errors.push(
                "related_record",
                code::REQUIRED,
                "Link the message to the application or record it is about.",
            );
        }
        if self.kind == NotificationKind::Deadline && self.deadline.is_none() {
            errors.push("deadline", code::REQUIRED, "Enter the deadline date.");
        }
        errors.into_result()
    }
}

/// What a notification is about; the app picks an icon and an action from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum NotificationKind {
    /// An application changed status.
    ApplicationStatus,
    /// Something must be done by a date.
    Deadline,
    /// A document must be sent.
    DocumentRequested,
    /// A liveness check is due.
    LivenessDue,
    General,
    /// A reviewer verified one of the person's documents (a rejected one is a
    /// `document_requested`: it must be sent again).
    DocumentReview,
    /// A reviewer verified the person's payment account, or could not.
    AccountReview,
    /// A message from the office to everyone with an application to a programme.
    Announcement,
}

/// The id of the registry's reminder `event` (e.g. `liveness_overdue`) to `person` for `day`,
/// about `about` when the event needs it (a closing programme): UUIDv8 from SHA-256 of them, so
/// every run and process of the scheduler writes one reminder once, and the app can tell which
/// reminder it holds (a first liveness check is overdue once its overdue reminder arrived).
pub fn reminder_id(
    event: &str,
    person: uuid::Uuid,
    about: Option<uuid::Uuid>,
    day: Date,
) -> uuid::Uuid {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    hash.update(b"doorstep reminder ");
    hash.update(event.as_bytes());
    hash.update(person.as_bytes());
    if let Some(about) = about {
        hash.update(about.as_bytes());
    }
    hash.update(crate::date_format::format(day).as_bytes());
    let digest = hash.finalize();
    let mut bytes = [0_u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// The reminder events' names in [`reminder_id`].
pub mod reminder {
    pub const LIVENESS_DUE_SOON: &str = "liveness_due_soon";
    pub const LIVENESS_OVERDUE: &str = "liveness_overdue";
    pub const DEADLINE_SOON: &str = "deadline_soon";
}

impl NotificationKind {
    /// Whether this kind is always about a specific record.
    pub fn needs_related_record(self) -> bool {
        matches!(
            self,
            NotificationKind::ApplicationStatus
                | NotificationKind::DocumentRequested
                | NotificationKind::DocumentReview
                | NotificationKind::AccountReview
                | NotificationKind::Announcement
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ActorId;
    use crate::test_support::id;
    use time::macros::{date, datetime};

    fn notification(kind: NotificationKind) -> Notification {
        Notification {
            meta: RecordMeta::new(
                id(1),
                datetime!(2024-05-01 8:00 UTC),
                ActorId::new("system:notify"),
            ),
            recipient_id: id(2),
            kind,
            title: "Your application was approved".into(),
            body: "Payments start in June.\nThey go to your M-Pesa number.".into(),
            related_record: Some(id(3)),
            read_at: None,
            deadline: None,
        }
    }

    #[test]
    fn valid_notification() {
        assert_eq!(
            notification(NotificationKind::ApplicationStatus).validate(),
            Ok(())
        );
    }

    #[test]
    fn kind_specific_requirements() {
        let mut deadline = notification(NotificationKind::Deadline);
        assert!(deadline
            .validate()
            .unwrap_err()
            .has("deadline", code::REQUIRED));
        deadline.deadline = Some(date!(2024 - 06 - 30));
        assert_eq!(deadline.validate(), Ok(()));

        let mut request = notification(NotificationKind::DocumentRequested);
        request.related_record = None;
        assert!(request
            .validate()
            .unwrap_err()
            .has("related_record", code::REQUIRED));

        let mut general = notification(NotificationKind::General);
        general.related_record = None;
        assert_eq!(general.validate(), Ok(()));
    }

    #[test]
    fn title_and_body_rules() {
        let mut n = notification(NotificationKind::General);
        n.title = "x".repeat(MAX_TITLE_CHARS + 1);
        n.body = String::new();
        let errors = n.validate().unwrap_err();
        assert!(errors.has("title", code::TOO_LONG));
        assert!(errors.has("body", code::REQUIRED));
    }

    #[test]
    fn first_reading_is_kept() {
        let mut n = notification(NotificationKind::General);
        assert!(!n.is_read());
        let first = datetime!(2024-05-02 9:00 UTC);
        n.mark_read(first);
        n.mark_read(datetime!(2024-05-03 9:00 UTC));
        assert_eq!(n.read_at, Some(first));
        assert_eq!(n.meta.updated_at, first);
    }

    #[test]
    fn deadline_day_is_not_overdue() {
        let mut n = notification(NotificationKind::Deadline);
        n.deadline = Some(date!(2024 - 06 - 30));
        assert!(!n.is_overdue(date!(2024 - 06 - 30)));
        assert!(n.is_overdue(date!(2024 - 07 - 01)));
    }
}
