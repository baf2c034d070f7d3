//! A liveness check now (issue 18): the person — or the person an agent serves — signs in again
//! at the identity provider with the authentication the registry asks for, and the registry
//! verifies it and records the check (crates/registry/src/api/liveness.rs). The app only runs
//! the browser part ([`crate::signin::SignIn::step_up`]) and keeps the recorded check, so the
//! home screen's "liveness due" moves on at once (the next pull brings the same record).
//!
//! It needs the network from start to end: the registry gives the challenge and decides.
//! Offline, the refusal says so and when the check is due.

use doorstep_domain::api::LivenessChallengeRequest;
use doorstep_domain::liveness::LivenessCheck;
use doorstep_domain::sync::PulledRecord;
use doorstep_domain::RecordKind;
use serde::Serialize;

use super::refusal::{from_registry, refused, Refusal};
use super::{notifications, AppError, Doorstep};
use crate::registry::TransportError;
use crate::signin::{BrowserOpener, SignInError};

/// A liveness check the registry accepted, as the screen shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct LivenessDone {
    /// RFC 3339: when the person authenticated.
    pub performed_at: String,
    /// `YYYY-MM-DD`: when the next check is due, if the registry set one.
    pub next_due: Option<String>,
    /// Whether an agent ran it with the person (the agent's laptop).
    pub assisted: bool,
}

/// Languages at most asked of the provider's pages.
const MAX_LOCALES: usize = 8;

impl Doorstep {
    /// The check as the app's screen starts it: the screen's `language` first, then the device's
    /// configured sign-in languages. A language that is not a plain BCP 47 tag is refused.
    pub async fn check_liveness_now(
        &self,
        browser: &dyn BrowserOpener,
        language: Option<&str>,
    ) -> Result<LivenessDone, AppError> {
        let mut locales: Vec<String> = Vec::new();
        if let Some(language) = language {
            if !doorstep_domain::validate::is_valid_language_tag(language) {
                let value: String = language.chars().take(40).collect();
                return Err(Refusal::new(
                    "invalidLanguage",
                    format!("\"{value}\" is not a language tag such as en or fr-CA."),
                )
                .with("value", value)
                .into());
            }
            locales.push(language.to_owned());
        }
        if let Some(signin) = &self.config.signin {
            for l in &signin.ui_locales {
                if !locales.contains(l) {
                    locales.push(l.clone());
                }
            }
        }
        locales.truncate(MAX_LOCALES);
        let check = self.check_liveness(browser, &locales).await?;
        Ok(LivenessDone {
            performed_at: doorstep_domain::timestamp::format(check.performed_at),
            next_due: check.next_due.map(doorstep_domain::date_format::format),
            assisted: check.assisted_by.is_some(),
        })
    }

    /// Run a liveness check for the open person (an agent: the person they act for) through
    /// `browser`, in the person's languages `ui_locales` (best first). Answers the check as the
    /// registry recorded it, kept on the device; a refusal says why (a weaker way of signing in,
    /// a reused session, someone else signing in…) and records nothing.
    pub async fn check_liveness(
        &self,
        browser: &dyn BrowserOpener,
        ui_locales: &[String],
    ) -> Result<LivenessCheck, AppError> {
        let partition = self.open_partition().await?;
        let caller = self.caller();
        let due = notifications::liveness_due(&partition, caller.as_ref())?;
        let needs_network = || -> AppError {
            let due = due
                .map(doorstep_domain::date_format::format)
                .unwrap_or_default();
            Refusal::new(
                "livenessNeedsNetwork",
                if due.is_empty() {
                    "A liveness check needs the network: the registry checks it with your identity provider. Connect and try again.".to_owned()
                } else {
                    format!("A liveness check needs the network: the registry checks it with your identity provider. Connect and try again; it is due on {due}.")
                },
            )
            .with("due", due)
            .into()
        };
        let (_, transport) = self.online().await?;
        let token = transport.token().await;
        let request = LivenessChallengeRequest {
            individual_id: caller.acting_for,
        };
        let registry = transport.registry();
        let challenge = registry
            .liveness_challenge(&token, &request)
            .await
            .map_err(|e| match e {
                TransportError::Offline(_) => needs_network(),
                other => from_registry(other),
            })?;
        let provider = self.provider().await.map_err(|e| match e {
            AppError::SignIn(SignInError::ProviderUnreachable { .. }) => needs_network(),
            other => other,
        })?;
        let proof = provider.step_up(browser, &challenge, ui_locales).await?;
        let answer = registry
            .liveness_proof(&token, challenge.id, &proof)
            .await
            .map_err(|e| match e {
                TransportError::Offline(_) => needs_network(),
                other => from_registry(other),
            })?;
        let body = match answer {
            Ok(body) => body,
            Err((code, detail)) => {
                return Err(Refusal::new(
                    "livenessRefused",
                    format!("The registry did not accept the liveness check: {detail}"),
                )
                .with("reason", detail)
                .with("code", code)
                .into())
            }
        };
        let check: LivenessCheck = serde_json::from_value(body.clone()).map_err(|e| {
            refused(
                "registryRefused",
                format!("The registry answered with a liveness check this app cannot read: {e}"),
            )
        })?;
        let record = PulledRecord {
            kind: RecordKind::LivenessCheck,
            id: *check.meta.id.as_uuid(),
            rev: body["rev"].as_u64().unwrap_or(1),
            deleted: false,
            body,
        };
        partition.keep_registry_record(&record)?;
        Ok(check)
    }
}
