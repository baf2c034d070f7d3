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

use super::refusal::{from_registry, refused, Refusal};
use super::{notifications, AppError, Doorstep};
use crate::registry::TransportError;
use crate::signin::{BrowserOpener, SignInError};

impl Doorstep {
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
