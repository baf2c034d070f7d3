//! Consent before an agent acts for someone, as the device knows it (offline). The registry
//! decides (crates/registry/src/api/consent.rs); the device asks for consent first, so the
//! agent captures it on the spot instead of learning from a refusal days later.
//!
//! A consent is a document of kind `consent` (a signature drawn on the screen, or a photo of a
//! signed paper form) with the statement's id and language and the person's tick, linked to the
//! person, or to their household when the head signs for it.

use std::collections::HashSet;

use doorstep_domain::document::{Document, DocumentKind};
use doorstep_domain::record::RecordKind;
use uuid::Uuid;

use super::household::current_memberships_of;
use super::records::live;
use super::AppError;
use crate::sync::REGISTRY_RULES_DRAFT;
use crate::vault::Partition;

/// Whether the registry asks agents for consent (as of the last sync; no until one said so).
pub fn required(partition: &Partition) -> Result<bool, AppError> {
    Ok(partition
        .draft(REGISTRY_RULES_DRAFT)?
        .is_some_and(|rules| rules["consent_required"] == true))
}

/// Whether `person`'s consent, or their household's, is on this device.
pub fn on_record(partition: &Partition, person: Uuid) -> Result<bool, AppError> {
    let mut covering: HashSet<Uuid> = current_memberships_of(partition, person)?
        .into_iter()
        .map(|m| *m.group_id.as_uuid())
        .collect();
    covering.insert(person);
    Ok(live::<Document>(partition, RecordKind::Document)?
        .iter()
        .any(|d| d.kind == DocumentKind::Consent && covering.contains(d.linked_record.as_uuid())))
}

/// Whether an agent must capture `person`'s consent before acting for them.
pub fn needed(partition: &Partition, person: Uuid) -> Result<bool, AppError> {
    Ok(required(partition)? && !on_record(partition, person)?)
}
