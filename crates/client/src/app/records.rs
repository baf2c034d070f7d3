//! Small reads shared by the screens' modules.

use doorstep_domain::record::RecordKind;
use time::{Date, OffsetDateTime};

use super::AppError;
use crate::vault::Partition;

/// Today's date (UTC) for the domain's date rules, which never read a clock themselves.
pub(super) fn today() -> Date {
    OffsetDateTime::now_utc().date()
}

/// Every live record of `kind` that decodes as `T`. A record this build cannot read (written by
/// a newer registry) is skipped rather than failing the whole screen.
pub(super) fn live<T: serde::de::DeserializeOwned>(
    partition: &Partition,
    kind: RecordKind,
) -> Result<Vec<T>, AppError> {
    Ok(partition
        .records(kind.as_str())?
        .into_iter()
        .filter(|r| r.deleted_at.is_none())
        .filter_map(|r| serde_json::from_value(r.body).ok())
        .collect())
}
