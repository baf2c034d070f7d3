//! The registry calls of the form builder, and what their refusals mean to an administrator.
//!
//! Programmes and form versions are the registry's configuration: they are written there
//! directly (REST, each write with its own Idempotency-Key), never queued offline, so two
//! administrators never find out days later that they published the same version number.
//! The registry decides who may write them (`access.rs`: administrators only); this module only
//! words its answers.

use doorstep_domain::api::{collections, ListParams};
use doorstep_domain::programme::{FormDefinition, Programme};
use serde::de::DeserializeOwned;
use serde_json::Value;
use uuid::Uuid;

use super::super::refusal::Refusal;
use super::super::AppError;
use crate::registry::{RegistryClient, TransportError};

/// Records asked for per page (the registry's largest page).
const PAGE: u32 = 500;
/// At most this many pages of one collection are read (100,000 records): a bound, not a
/// limit anyone should meet with programmes and their form versions.
const MAX_PAGES: usize = 200;

/// The registry as an administrator reaches it: a client and the person's bearer token.
pub struct RegistryAdmin {
    registry: RegistryClient,
    token: zeroize::Zeroizing<String>,
}

/// What a write was refused for, worded for the administrator.
fn refusal(error: TransportError, what: Doing) -> AppError {
    match error {
        TransportError::Offline(_) => offline(),
        TransportError::Unauthorized => Refusal::new(
            "adminSignInExpired",
            "Your sign-in has expired. Sign in again, then try again; your draft is kept.",
        )
        .into(),
        TransportError::Server { status: 403, .. } => Refusal::new(
            "adminOnly",
            "Only registry administrators can change programmes and publish forms. Ask an administrator to give your account that role.",
        )
        .into(),
        TransportError::Server { status: 409, .. } => match what {
            Doing::SaveProgramme { code } => Refusal::new(
                "programmeCodeTaken",
                format!("Another programme already uses the code {code}. Choose another code."),
            )
            .with("code", code)
            .into(),
            Doing::Publish { version } => Refusal::new(
                "formVersionTaken",
                format!("Someone published version {version} of this form a moment ago. Your draft is kept: look at their version, then publish yours as the next one."),
            )
            .with("version", version)
            .into(),
            Doing::Read => registry_refused("conflict"),
        },
        TransportError::Server { status: 412, .. } => Refusal::new(
            "programmeChanged",
            "Someone else changed this programme since you opened it. Go back to the list to see their changes, then make yours again.",
        )
        .into(),
        TransportError::Server { message, .. } => registry_refused(&message),
        TransportError::CursorReset | TransportError::Revoked(_) => {
            registry_refused(&error.to_string())
        }
    }
}

fn registry_refused(reason: &str) -> AppError {
    Refusal::new(
        "registryRefused",
        format!("The registry refused this: {reason}"),
    )
    .with("reason", reason)
    .into()
}

/// Without a network (or a sign-in) nothing reaches the registry.
pub(super) fn offline() -> AppError {
    Refusal::new(
        "adminOffline",
        "This needs the registry, which cannot be reached now. Connect to the network and try again; your draft is kept on this device.",
    )
    .into()
}

/// What was being done, to word a conflict.
enum Doing {
    Read,
    SaveProgramme { code: String },
    Publish { version: u32 },
}

impl RegistryAdmin {
    pub fn new(registry: RegistryClient, token: &str) -> Self {
        RegistryAdmin {
            registry,
            token: zeroize::Zeroizing::new(token.to_owned()),
        }
    }

    /// Every record of a collection the caller may see (`parent`: those hanging off it).
    async fn all<T: DeserializeOwned>(
        &self,
        collection: &str,
        parent: Option<Uuid>,
    ) -> Result<Vec<T>, AppError> {
        let mut out = Vec::new();
        let mut after = None;
        for _ in 0..MAX_PAGES {
            let params = ListParams {
                after,
                limit: Some(PAGE),
                parent,
                ..ListParams::default()
            };
            let page = self
                .registry
                .list_records(&self.token, collection, &params)
                .await
                .map_err(|e| refusal(e, Doing::Read))?;
            for item in page.items {
                out.push(serde_json::from_value(item).map_err(|e| {
                    registry_refused(&format!("a {collection} record could not be read ({e})"))
                })?);
            }
            match page.next_after {
                Some(next) => after = Some(next),
                None => return Ok(out),
            }
        }
        Ok(out)
    }

    /// The programmes at the registry.
    pub async fn programmes(&self) -> Result<Vec<Programme>, AppError> {
        self.all(collections::PROGRAMMES, None).await
    }

    /// Every published form version, of one programme or of all.
    pub async fn forms(&self, programme: Option<Uuid>) -> Result<Vec<FormDefinition>, AppError> {
        self.all(collections::FORMS, programme).await
    }

    /// The newest published version of `programme`'s form, if it has one.
    pub async fn latest_form(&self, programme: Uuid) -> Result<Option<FormDefinition>, AppError> {
        Ok(latest(self.forms(Some(programme)).await?.into_iter()))
    }

    /// Create a programme (`rev` None) or replace it as it was at `rev`.
    pub async fn save_programme(
        &self,
        programme: &Programme,
        rev: Option<u64>,
    ) -> Result<Programme, AppError> {
        let body = serde_json::to_value(programme).expect("a programme serialises");
        let doing = || Doing::SaveProgramme {
            code: programme.code.clone(),
        };
        let id = *programme.meta.id.as_uuid();
        let stored = match rev {
            None => {
                self.registry
                    .create_record(&self.token, collections::PROGRAMMES, &body, Uuid::now_v7())
                    .await
            }
            Some(rev) => {
                self.registry
                    .replace_record(
                        &self.token,
                        collections::PROGRAMMES,
                        id,
                        rev,
                        &body,
                        Uuid::now_v7(),
                    )
                    .await
            }
        }
        .map_err(|e| refusal(e, doing()))?;
        parse(stored)
    }

    /// Publish `form` (its version already chosen). A version number someone else took first
    /// is a conflict (the registry keeps one form per programme and version).
    pub async fn publish(&self, form: &FormDefinition) -> Result<FormDefinition, AppError> {
        let body = serde_json::to_value(form).expect("a form definition serialises");
        let stored = self
            .registry
            .create_record(&self.token, collections::FORMS, &body, Uuid::now_v7())
            .await
            .map_err(|e| {
                refusal(
                    e,
                    Doing::Publish {
                        version: form.version,
                    },
                )
            })?;
        parse(stored)
    }
}

fn parse<T: DeserializeOwned>(value: Value) -> Result<T, AppError> {
    serde_json::from_value(value)
        .map_err(|e| registry_refused(&format!("its answer could not be read ({e})")))
}

/// The form with the highest version among `forms` (deleted ones left out).
pub fn latest(forms: impl Iterator<Item = FormDefinition>) -> Option<FormDefinition> {
    forms
        .filter(|f| f.meta.deleted_at.is_none())
        .max_by_key(|f| f.version)
}
