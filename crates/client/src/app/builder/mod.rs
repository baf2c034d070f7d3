//! The form builder's core, for registry administrators: programmes, and the versions of
//! their Form.io application forms.
//!
//! - A programme is created or changed at the registry directly (online only; `programmes.rs`).
//! - A form is designed on the device: the design is kept in the vault as it changes (a draft
//!   per programme, `design.rs`), so nothing is lost to a crash, and it can be imported from or
//!   exported to a JSON file.
//! - Publishing writes the next version to the registry (online only; `publish.rs`); published
//!   versions never change, applications record the version they were filled in.
//!
//! The registry decides who may do this (administrators; `access.rs` there); the app shows the
//! section to those the registry calls administrators (`SessionView.role`, roles.rs) and words
//! the registry's refusals.

pub mod design;
pub mod online;
pub mod programmes;
pub mod publish;

use std::path::PathBuf;

use uuid::Uuid;

pub use design::{DesignOf, FormDesign};
pub use online::RegistryAdmin;
pub use programmes::{AdminProgramme, AdminProgrammes, ProgrammeInput};
pub use publish::PublishedForm;

use super::refusal::Refusal;
use super::{blocking, AppError, Doorstep};
use crate::sync::SyncTransport;

/// Whether `error` means the registry could not be reached (or the person is not signed in),
/// as opposed to a refusal.
fn unreachable(error: &AppError) -> bool {
    matches!(error, AppError::InvalidInput(r) if r.key == "adminOffline" || r.key == "adminSignIn")
}

impl Doorstep {
    /// The registry as the signed-in administrator reaches it.
    fn registry_admin(&self) -> Result<RegistryAdmin, AppError> {
        let session = self.session().ok_or_else(|| {
            AppError::from(Refusal::new(
                "adminSignIn",
                "Sign in online to change programmes and publish forms; your drafts are kept on this device.",
            ))
        })?;
        let token = session.access_token().secret();
        let transport =
            SyncTransport::for_device(self.settings.registry_url.clone(), token, Some(self.device));
        Ok(RegistryAdmin::new(transport.registry().clone(), token))
    }

    /// The programmes with their latest form version, from the registry. Without it (`live`
    /// false): the programmes whose forms are being designed on this device, from the designs
    /// (administrators keep no copy of the registry's records).
    pub async fn admin_programmes(&self) -> Result<AdminProgrammes, AppError> {
        let partition = self.open_partition().await?;
        let kept = blocking(move || design::kept_designs(&partition)).await?;
        let fetched = match self.registry_admin() {
            Ok(admin) => match admin.programmes().await {
                Ok(programmes) => admin.forms(None).await.map(|forms| (programmes, forms)),
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        };
        match fetched {
            Ok((programmes, forms)) => Ok(programmes::list(true, programmes, forms, &kept)),
            Err(e) if unreachable(&e) => Ok(programmes::offline(&kept)),
            Err(e) => Err(e),
        }
    }

    /// Create a programme, or change one (as it was at `input.rev`). Online only.
    pub async fn save_programme(&self, input: ProgrammeInput) -> Result<AdminProgramme, AppError> {
        let partition = self.open_partition().await?;
        let programme = programmes::record(&input, &self.actor())?;
        let admin = self.registry_admin()?;
        let stored = admin.save_programme(&programme, input.rev).await?;
        let latest = match input.id {
            Some(_) => admin.latest_form(*stored.meta.id.as_uuid()).await?,
            None => None,
        };
        let kept = blocking(move || design::kept_designs(&partition)).await?;
        let forms = latest.into_iter().collect();
        Ok(programmes::list(true, vec![stored], forms, &kept)
            .programmes
            .remove(0))
    }

    /// The design of `programme`'s form: the one kept on this device, else its latest published
    /// version, else a blank form. Without a kept design this needs the registry.
    pub async fn form_design(&self, programme: Uuid) -> Result<FormDesign, AppError> {
        let partition = self.open_partition().await?;
        if let Some(kept) = blocking(move || design::kept(&partition, programme)).await? {
            return Ok(kept);
        }
        let published = self.registry_admin()?.latest_form(programme).await?;
        Ok(FormDesign {
            based_on: published.as_ref().map(|f| f.version),
            schema: published.map(|f| f.schema).unwrap_or_else(design::blank),
            saved_at: None,
        })
    }

    /// Keep the design being built (called as the administrator works). Returns when it was kept.
    pub async fn save_form_design(
        &self,
        programme: Uuid,
        of: DesignOf,
        schema: serde_json::Value,
        based_on: Option<u32>,
    ) -> Result<String, AppError> {
        let partition = self.open_partition().await?;
        blocking(move || design::keep(&partition, programme, &of, &schema, based_on)).await
    }

    /// Give up the design kept on this device (the published version stays as it is).
    pub async fn discard_form_design(&self, programme: Uuid) -> Result<(), AppError> {
        let partition = self.open_partition().await?;
        blocking(move || design::discard(&partition, programme)).await
    }

    /// Replace the design with a form read from a JSON file's text (checked first: JSON, a
    /// Form.io form, not too large). It keeps the published version it was started from.
    pub async fn import_form(
        &self,
        programme: Uuid,
        of: DesignOf,
        text: String,
    ) -> Result<FormDesign, AppError> {
        let schema = design::parse_import(&text)?;
        let based_on = self.form_design(programme).await?.based_on;
        let partition = self.open_partition().await?;
        let kept = schema.clone();
        let saved_at =
            blocking(move || design::keep(&partition, programme, &of, &kept, based_on)).await?;
        Ok(FormDesign {
            schema,
            based_on,
            saved_at: Some(saved_at),
        })
    }

    /// Write the design (as [`Doorstep::form_design`] gives it) to a new JSON file in `folder`,
    /// named after the programme's `code`. Returns the file's path.
    pub async fn export_form(
        &self,
        programme: Uuid,
        code: String,
        folder: PathBuf,
    ) -> Result<String, AppError> {
        let design = self.form_design(programme).await?;
        blocking(move || {
            design::export(&folder, &code, &design.schema).map(|p| p.display().to_string())
        })
        .await
    }

    /// Publish the design as the next version of `programme`'s form (online only). `after`:
    /// the version the administrator now knows is the latest, after a refusal said someone
    /// published one meanwhile.
    pub async fn publish_form(
        &self,
        programme: Uuid,
        after: Option<u32>,
    ) -> Result<PublishedForm, AppError> {
        let partition = self.open_partition().await?;
        let admin = self.registry_admin()?;
        publish::publish(partition, &admin, programme, after, &self.actor()).await
    }
}
