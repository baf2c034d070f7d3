//! Publishing a design: the next version of a programme's form, written to the registry.
//!
//! A published version is never changed: the next one gets the next number. The number is the
//! registry's latest plus one, and the design says which version it was started from, so a
//! version someone else published meanwhile is noticed (their work would otherwise be replaced
//! unseen) and the administrator decides; the design is kept until a publish succeeds.

use std::sync::Arc;

use doorstep_domain::ids::{ActorId, RecordId};
use doorstep_domain::programme::FormDefinition;
use doorstep_domain::record::RecordMeta;
use doorstep_domain::Validate;
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use super::super::refusal::{refused, Refusal};
use super::super::{blocking, AppError};
use super::design;
use super::online::RegistryAdmin;
use crate::vault::{Partition, VaultError};

/// A version just published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct PublishedForm {
    pub id: String,
    pub version: u32,
}

/// Publish the design kept for `programme`. `after` is the version the administrator knows is
/// the latest (after being told someone published one meanwhile); None: the version the design
/// was started from. On any refusal the design stays on the device.
pub async fn publish(
    partition: Arc<Partition>,
    admin: &RegistryAdmin,
    programme: Uuid,
    after: Option<u32>,
    actor: &str,
) -> Result<PublishedForm, AppError> {
    let p = partition.clone();
    let kept = blocking(move || design::kept(&p, programme)).await?;
    let Some(kept) = kept else {
        return Err(refused(
            "formNothingToPublish",
            "There is nothing new to publish: change the form first.",
        ));
    };
    design::check(&kept.schema)?;
    // The registry's own definition check (the Form.io subset it validates submissions
    // against): a form it would refuse is named here, field by field, before going online.
    doorstep_domain::formio::check_definition(&kept.schema)
        .map_err(|errors| AppError::Vault(VaultError::Invalid(errors)))?;
    let latest = admin.latest_form(programme).await?;
    let latest_version = latest.as_ref().map(|f| f.version);
    let expected = after.or(kept.based_on);
    if let Some(latest) = &latest {
        // Our own publish whose answer was lost on the way back: it is there, done.
        if latest.schema == kept.schema && Some(latest.version) > expected {
            blocking(move || design::discard(&partition, programme)).await?;
            return Ok(PublishedForm {
                id: latest.meta.id.as_uuid().to_string(),
                version: latest.version,
            });
        }
    }
    if latest_version != expected {
        let version = latest_version.unwrap_or(0);
        return Err(Refusal::new(
            "formPublishedMeanwhile",
            format!("Version {version} of this form was published by someone else after you started this design. Your design is kept: look at their version, then publish yours as the next one."),
        )
        .with("version", version)
        .into());
    }
    let form = FormDefinition {
        meta: RecordMeta::new(
            RecordId::from_uuid(Uuid::now_v7()),
            OffsetDateTime::now_utc(),
            ActorId::new(actor),
        ),
        programme_id: RecordId::from_uuid(programme),
        version: latest_version.unwrap_or(0) + 1,
        schema: kept.schema,
    };
    form.validate()
        .map_err(|errors| AppError::Vault(VaultError::Invalid(errors)))?;
    let stored = admin.publish(&form).await?;
    blocking(move || design::discard(&partition, programme)).await?;
    Ok(PublishedForm {
        id: stored.meta.id.as_uuid().to_string(),
        version: stored.version,
    })
}

#[cfg(test)]
mod tests {
    /// Each component the builder offers, as its dialog saves it (written by the UI's
    /// `formBuilder.saved.test.ts` from the real @formio/js builder): the registry's definition
    /// check accepts every one, alone and all together, so what the builder makes can be
    /// published.
    #[test]
    fn what_the_builder_saves_passes_the_registrys_definition_check() {
        let saved: serde_json::Map<String, serde_json::Value> = serde_json::from_str(include_str!(
            "../../../../../ui/src/lib/formBuilder.saved.json"
        ))
        .unwrap();
        assert_eq!(saved.len(), 13, "every offered type is in the file");
        for (kind, component) in &saved {
            let form = serde_json::json!({ "display": "form", "components": [component] });
            if let Err(errors) = doorstep_domain::formio::check_definition(&form) {
                panic!("{kind}: {errors:?}");
            }
        }
        let all = serde_json::json!({ "display": "form", "components": saved.values().collect::<Vec<_>>() });
        // Keys must differ across a form; the builder makes each unique as it adds one.
        if let Err(errors) = doorstep_domain::formio::check_definition(&all) {
            panic!("all together: {errors:?}");
        }
    }
}
