//! Identifier types.
//!
//! Records are created both in the app (offline, on a field worker's laptop) and on the server,
//! so ids are minted by whoever creates the record and passed into this crate: nothing here
//! generates them. Time-ordered UUIDv7 is the expected kind (it sorts by creation and indexes
//! well), but ids of other versions are accepted so records imported from elsewhere keep theirs.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::DomainError;

/// Identifier of any record (individual, group, document, application…).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RecordId(Uuid);

impl RecordId {
    /// Wraps a UUID minted by the caller (normally `Uuid::now_v7()`).
    pub const fn from_uuid(uuid: Uuid) -> Self {
        Self(uuid)
    }

    /// The UUID inside.
    pub const fn as_uuid(&self) -> &Uuid {
        &self.0
    }

    /// Whether this is a time-ordered UUIDv7, the kind Doorstep mints for new records.
    pub fn is_v7(&self) -> bool {
        self.0.get_version_num() == 7
    }

    /// Whether this is the all-zero UUID, which never names a real record.
    pub fn is_nil(&self) -> bool {
        self.0.is_nil()
    }
}

impl From<Uuid> for RecordId {
    fn from(uuid: Uuid) -> Self {
        Self(uuid)
    }
}

impl From<RecordId> for Uuid {
    fn from(id: RecordId) -> Self {
        id.0
    }
}

impl fmt::Display for RecordId {
    /// Lower-case hyphenated form, the same as on the wire.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

impl FromStr for RecordId {
    type Err = DomainError;

    /// Accepts any textual UUID form (hyphenated, simple, braced, URN).
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(input)
            .map(Self)
            .map_err(|_| DomainError::InvalidRecordId {
                input: input.to_owned(),
            })
    }
}

/// Who did something: a staff account, a registrant's sign-in subject (e.g. an eSignet `sub`),
/// or a named automatic process such as `system:sync`.
///
/// This is an opaque string rather than a [`RecordId`] because most actors are not records of
/// the registry: staff accounts live in the server's user store and sign-in subjects come from an
/// external identity provider. Keeping the string as issued lets audits trace it back there.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ActorId(String);

impl ActorId {
    /// Longest actor id accepted; identity-provider subjects are well under this.
    pub const MAX_LEN: usize = 255;

    /// Wraps an actor id as issued by its source.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ActorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for ActorId {
    fn from(id: &str) -> Self {
        Self::new(id)
    }
}

impl From<String> for ActorId {
    fn from(id: String) -> Self {
        Self(id)
    }
}

/// Code of an ID type, e.g. `national_id` or `passport` (see [`crate::id_type::IdType`]).
///
/// A code rather than a display name so that renaming "National ID" to "Huduma Number" in the
/// settings does not orphan the IDs already recorded.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct IdTypeCode(String);

impl IdTypeCode {
    /// Wraps a code; see [`crate::validate::is_valid_code`] for the accepted shape.
    pub fn new(code: impl Into<String>) -> Self {
        Self(code.into())
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IdTypeCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for IdTypeCode {
    fn from(code: &str) -> Self {
        Self::new(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V7: &str = "0190b6a2-8a3e-7c1d-9f00-1234567890ab";
    const V4: &str = "4d5b8d9e-2f0a-4c61-8b7e-3f1e2d4c5b6a";

    #[test]
    fn record_id_round_trips_through_text() {
        let id: RecordId = V7.parse().unwrap();
        assert_eq!(id.to_string(), V7);
        assert!(id.is_v7());
        let upper: RecordId = V7.to_uppercase().parse().unwrap();
        assert_eq!(upper, id, "parsing ignores case");
    }

    #[test]
    fn record_id_knows_its_version() {
        let id: RecordId = V4.parse().unwrap();
        assert!(!id.is_v7());
        assert!(RecordId::from_uuid(Uuid::nil()).is_nil());
    }

    #[test]
    fn bad_record_id_is_a_clear_error() {
        let err = "not-a-uuid".parse::<RecordId>().unwrap_err();
        assert_eq!(
            err,
            DomainError::InvalidRecordId {
                input: "not-a-uuid".into()
            }
        );
        assert!(err.to_string().contains("not-a-uuid"));
    }

    #[test]
    fn record_id_is_a_plain_string_on_the_wire() {
        let id: RecordId = V7.parse().unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), format!("\"{V7}\""));
        let back: RecordId = serde_json::from_str(&format!("\"{V7}\"")).unwrap();
        assert_eq!(back, id);
    }
}
