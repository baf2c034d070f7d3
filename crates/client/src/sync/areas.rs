//! The registry's gazetteer on the device: fetched by each sync round only when it changed
//! (`If-None-Match` with the ETag kept beside it), and kept in the vault so the household
//! registration's area picker and its checks work offline.

use doorstep_domain::gazetteer::Area;
use serde::{Deserialize, Serialize};

use super::{SyncError, SyncTransport, TransportError};
use crate::vault::{Partition, VaultError};

/// The vault draft holding the caller's part of the gazetteer ([`KeptAreas`]).
pub const REGISTRY_AREAS_DRAFT: &str = "registry:areas";

/// What the last sync kept of the gazetteer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptAreas {
    /// The registry's ETag of `items`, sent back as `If-None-Match`.
    pub etag: String,
    /// The agent's own area code, as the registry knows it (`GET /v1/me`).
    #[serde(default)]
    pub own_area: Option<String>,
    /// The caller's part of the gazetteer; empty when the registry has none.
    pub items: Vec<Area>,
}

/// The gazetteer this device holds, if a sync ever brought one.
pub fn kept(partition: &Partition) -> Result<Option<KeptAreas>, VaultError> {
    match partition.draft(REGISTRY_AREAS_DRAFT)? {
        // A draft this build cannot read (a newer one wrote it) counts as none: the next sync
        // writes it again.
        Some(value) => Ok(serde_json::from_value(value).ok()),
        None => Ok(None),
    }
}

/// Fetch the gazetteer if it changed since the kept one, and keep it with the agent's area.
/// A registry that predates the gazetteer (404) leaves the device without one, which accepts
/// any areas, as that registry does.
pub async fn refresh(
    partition: &Partition,
    transport: &SyncTransport,
    own_area: Option<&str>,
) -> Result<(), SyncError> {
    let before = kept(partition)?;
    let etag = before.as_ref().map(|k| k.etag.as_str());
    let now = match transport.areas(etag).await {
        Ok(Some((list, etag))) => KeptAreas {
            etag,
            own_area: own_area.map(str::to_owned),
            items: list.items,
        },
        Ok(None) => match before {
            Some(kept) if kept.own_area.as_deref() == own_area => return Ok(()),
            Some(kept) => KeptAreas {
                own_area: own_area.map(str::to_owned),
                ..kept
            },
            None => return Ok(()),
        },
        Err(TransportError::Server { status: 404, .. }) => return Ok(()),
        Err(other) => return Err(other.into()),
    };
    let value = serde_json::to_value(&now).expect("areas serialise");
    partition.save_draft(REGISTRY_AREAS_DRAFT, &value)?;
    Ok(())
}
