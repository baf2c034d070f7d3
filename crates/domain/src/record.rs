//! What every stored record has in common: its id, who made it and when, its server revision
//! and whether it was deleted. Sync works on these alone, whatever the entity.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::ids::{ActorId, RecordId};
use crate::validate::{code, ValidationErrors};

/// Bookkeeping carried by every record, flattened into the record's JSON
/// (`{"id": …, "created_at": …, "given_name": …}`) as OpenG2P records carry theirs.
///
/// Timestamps are passed in by the caller: this crate never reads a clock. They come from the
/// device that made the change, and offline devices' clocks drift, so nothing here relies on
/// them being in order; the server's `rev` is what orders changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RecordMeta {
    /// Minted by whoever creates the record (app or server), normally a UUIDv7.
    pub id: RecordId,
    /// When the record was first created, RFC 3339.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When the record was last changed, RFC 3339.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// Who created the record.
    pub created_by: ActorId,
    /// Server revision of this version of the record; `None` until the server has accepted it
    /// for the first time. The app sends it back with changes so the server can spot conflicts.
    #[serde(default)]
    pub rev: Option<u64>,
    /// When the record was deleted. Records are never erased by sync, only marked, so a
    /// deletion made offline reaches every other device.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub deleted_at: Option<OffsetDateTime>,
}

impl RecordMeta {
    /// Metadata for a record created now (`at`) by `by`, not yet synced.
    pub fn new(id: RecordId, at: OffsetDateTime, by: ActorId) -> Self {
        Self {
            id,
            created_at: at,
            updated_at: at,
            created_by: by,
            rev: None,
            deleted_at: None,
        }
    }

    /// Notes a change made at `at`.
    pub fn touch(&mut self, at: OffsetDateTime) {
        self.updated_at = at;
    }

    /// Marks the record deleted at `at` (a soft delete; see [`RecordMeta::deleted_at`]).
    pub fn soft_delete(&mut self, at: OffsetDateTime) {
        self.deleted_at = Some(at);
        self.updated_at = at;
    }

    /// Whether the record has been deleted.
    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }

    /// Whether the server has ever accepted this record.
    pub fn is_synced(&self) -> bool {
        self.rev.is_some()
    }

    /// Checks the fields every record shares; entities fold this into their own validation.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        if self.id.is_nil() {
            errors.push(
                "id",
                code::REQUIRED,
                "Give the record an id: the all-zero id is reserved.",
            );
        }
        let by = self.created_by.as_str();
        if by.trim().is_empty() {
            errors.push(
                "created_by",
                code::REQUIRED,
                "Say who created the record (a user or process id).",
            );
        } else if by.len() > ActorId::MAX_LEN || by.chars().any(char::is_control) {
            errors.push(
                "created_by",
                code::INVALID_FORMAT,
                format!(
                    "Use a user or process id of at most {} characters without control characters.",
                    ActorId::MAX_LEN
                ),
            );
        }
        errors.into_result()
    }
}

/// The kinds of record the registry holds; sync, audit logs and change feeds name records by
/// kind + id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum RecordKind {
    Individual,
    Contact,
    Group,
    Membership,
    FinancialAccount,
    Document,
    IdType,
    Programme,
    FormDefinition,
    Application,
    Notification,
    LivenessCheck,
}

impl RecordKind {
    /// Every kind, in a fixed order (useful for iterating tables or feeds).
    pub const ALL: [RecordKind; 12] = [
        RecordKind::Individual,
        RecordKind::Contact,
        RecordKind::Group,
        RecordKind::Membership,
        RecordKind::FinancialAccount,
        RecordKind::Document,
        RecordKind::IdType,
        RecordKind::Programme,
        RecordKind::FormDefinition,
        RecordKind::Application,
        RecordKind::Notification,
        RecordKind::LivenessCheck,
    ];

    /// The wire name, e.g. `financial_account`.
    pub const fn as_str(self) -> &'static str {
        match self {
            RecordKind::Individual => "individual",
            RecordKind::Contact => "contact",
            RecordKind::Group => "group",
            RecordKind::Membership => "membership",
            RecordKind::FinancialAccount => "financial_account",
            RecordKind::Document => "document",
            RecordKind::IdType => "id_type",
            RecordKind::Programme => "programme",
            RecordKind::FormDefinition => "form_definition",
            RecordKind::Application => "application",
            RecordKind::Notification => "notification",
            RecordKind::LivenessCheck => "liveness_check",
        }
    }
}

impl std::str::FromStr for RecordKind {
    type Err = UnknownKind;

    /// Parses the wire name, e.g. `financial_account`.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        RecordKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == name)
            .ok_or_else(|| UnknownKind(name.to_owned()))
    }
}

/// A record kind name that is not one of [`RecordKind::ALL`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownKind(pub String);

impl fmt::Display for UnknownKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown record kind {:?}", self.0)
    }
}

impl std::error::Error for UnknownKind {}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored entity: it has [`RecordMeta`] and a [`RecordKind`]. Lets sync and storage code handle
/// every entity the same way.
pub trait Record {
    /// Which kind of record this is.
    const KIND: RecordKind;

    /// The record's bookkeeping.
    fn meta(&self) -> &RecordMeta;

    /// The record's bookkeeping, for updating revisions and timestamps.
    fn meta_mut(&mut self) -> &mut RecordMeta;

    /// The record's id.
    fn id(&self) -> RecordId {
        self.meta().id
    }
}

/// Implements [`Record`] for an entity whose metadata is in a field named `meta`.
macro_rules! impl_record {
    ($entity:ty, $kind:expr) => {
        impl $crate::record::Record for $entity {
            const KIND: $crate::record::RecordKind = $kind;

            fn meta(&self) -> &$crate::record::RecordMeta {
                &self.meta
            }

            fn meta_mut(&mut self) -> &mut $crate::record::RecordMeta {
                &mut self.meta
            }
        }
    };
}
pub(crate) use impl_record;

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn meta() -> RecordMeta {
        RecordMeta::new(
            "0190b6a2-8a3e-7c1d-9f00-1234567890ab".parse().unwrap(),
            datetime!(2024-05-01 08:30:00 +03:00),
            ActorId::new("agent:wanjiru"),
        )
    }

    #[test]
    fn new_records_are_unsynced_and_alive() {
        let meta = meta();
        assert_eq!(meta.created_at, meta.updated_at);
        assert!(!meta.is_synced());
        assert!(!meta.is_deleted());
        assert_eq!(meta.validate(), Ok(()));
    }

    #[test]
    fn soft_delete_marks_and_touches() {
        let mut meta = meta();
        let later = datetime!(2024-05-02 10:00:00 UTC);
        meta.soft_delete(later);
        assert!(meta.is_deleted());
        assert_eq!(meta.updated_at, later);
    }

    #[test]
    fn wire_format() {
        let json = serde_json::to_value(meta()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "id": "0190b6a2-8a3e-7c1d-9f00-1234567890ab",
                "created_at": "2024-05-01T08:30:00+03:00",
                "updated_at": "2024-05-01T08:30:00+03:00",
                "created_by": "agent:wanjiru",
                "rev": null,
                "deleted_at": null
            })
        );
        let minimal = serde_json::json!({
            "id": "0190b6a2-8a3e-7c1d-9f00-1234567890ab",
            "created_at": "2024-05-01T08:30:00+03:00",
            "updated_at": "2024-05-01T08:30:00+03:00",
            "created_by": "agent:wanjiru"
        });
        assert_eq!(
            serde_json::from_value::<RecordMeta>(minimal).unwrap(),
            meta()
        );
    }

    #[test]
    fn nil_id_and_blank_actor_are_refused() {
        let mut meta = meta();
        meta.id = RecordId::from_uuid(uuid::Uuid::nil());
        meta.created_by = ActorId::new(" ");
        let errors = meta.validate().unwrap_err();
        assert!(errors.has("id", code::REQUIRED));
        assert!(errors.has("created_by", code::REQUIRED));
    }

    #[test]
    fn kinds_have_snake_case_names() {
        for kind in RecordKind::ALL {
            assert_eq!(kind.as_str().parse::<RecordKind>(), Ok(kind));
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::Value::String(kind.as_str().into())
            );
        }
    }
}
