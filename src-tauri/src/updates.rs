//! Signed updates with `tauri-plugin-updater`. What to decide (when, per device mode) is in
//! `doorstep_client::updates`; this module fetches, checks and installs.
//!
//! - The manifest comes from the device configuration's `updates.url` (`{{channel}}` filled in
//!   here, the plugin fills `{{target}}`, `{{arch}}`, `{{current_version}}`, `{{bundle_type}}`).
//! - Every artifact must carry a minisign signature by the key compiled into this build
//!   ([`PUBLIC_KEY`], from build.rs) **bound to the version the manifest announces**
//!   (`requireSignedVersion` in tauri.conf.json): a signature made for 0.1.0 cannot be passed off
//!   as 0.2.0's. The plugin refuses plain-http addresses in release builds.
//! - Only a newer version is taken; an older one offered is refused and said.
//! - Order of an install: download and check the signature (nothing touched yet), close the
//!   person's data (vault checkpointed), install the package, restart. Any failure before the
//!   install leaves the running version as it was.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use doorstep_client::app::{AppConfig, DeviceMode, Doorstep};
use doorstep_client::updates::{
    self, Plan, UpdateProblem, UpdateState, UpdateStatus, UpdatesOff, CHECK_EVERY,
};
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Manager};
use tauri_plugin_updater::{Error as PluginError, Update, UpdaterExt};
use tauri_specta::Event;

/// The key updates must be signed with (the `.pub` file's content), set at build time; empty
/// when the build carries none. See build.rs and the README's release checklist.
pub const PUBLIC_KEY: &str = env!("DOORSTEP_UPDATER_PUBKEY");

/// The first look, this long after start: the window and the person's data come first.
const FIRST_CHECK_AFTER: Duration = Duration::from_secs(5);
/// A manifest or package request that takes longer is given up (and retried at the next look).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// Sent to the window whenever the update status changes.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
pub struct UpdateStatusChanged(pub UpdateStatus);

pub struct Updates {
    app: AppHandle,
    core: Arc<Doorstep>,
    mode: DeviceMode,
    window: Option<(time::Time, time::Time)>,
    /// None when updates are off (then `status` says why).
    endpoint: Option<url::Url>,
    status: Mutex<UpdateStatus>,
    /// The update found by the last look, until it is installed or superseded.
    pending: tokio::sync::Mutex<Option<Update>>,
    /// Held while looking or installing: one at a time.
    busy: tokio::sync::Mutex<()>,
}

impl Updates {
    /// Set up from the device configuration; starts the periodic look when updates are on.
    pub fn start(app: &AppHandle, core: Arc<Doorstep>, config: &AppConfig) -> Arc<Updates> {
        let current = app.package_info().version.to_string();
        let (endpoint, off) = endpoint(app, config);
        let state = match off {
            Some(why) => {
                tracing::info!(?why, "updates are off");
                UpdateState::Off { why }
            }
            None => UpdateState::NotChecked,
        };
        let updates = Arc::new(Updates {
            app: app.clone(),
            core,
            mode: config.mode,
            window: config.maintenance_window,
            endpoint,
            status: Mutex::new(UpdateStatus {
                current,
                state,
                checked_at: None,
            }),
            pending: tokio::sync::Mutex::new(None),
            busy: tokio::sync::Mutex::new(()),
        });
        if updates.endpoint.is_some() {
            let looping = updates.clone();
            tauri::async_runtime::spawn(async move { looping.run().await });
        }
        updates
    }

    pub fn status(&self) -> UpdateStatus {
        self.status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Look at start, then daily; a kiosk also wakes for its maintenance window.
    async fn run(self: Arc<Self>) {
        tokio::time::sleep(FIRST_CHECK_AFTER).await;
        loop {
            let wake = self.check_and_follow_policy().await;
            tokio::time::sleep(wake).await;
        }
    }

    /// One look, then what the device's policy says; returns how long to sleep.
    async fn check_and_follow_policy(&self) -> Duration {
        if self.check().await.is_none() {
            return CHECK_EVERY;
        }
        let now = updates::local_now();
        match updates::plan(self.mode, self.window, now, self.core.data_open().await) {
            Plan::Ask | Plan::Offer => CHECK_EVERY,
            Plan::InstallNow => {
                tracing::info!("kiosk maintenance window, nobody signed in: installing");
                self.install().await;
                CHECK_EVERY
            }
            Plan::WaitUntil(at) => {
                tracing::info!(%at, "kiosk: the update waits for the maintenance window");
                let wait = (at - now).unsigned_abs();
                wait.clamp(Duration::from_secs(30), CHECK_EVERY)
            }
        }
    }

    /// Ask the update server. Returns the version found, if a newer one is published.
    pub async fn check(&self) -> Option<String> {
        let endpoint = self.endpoint.clone()?;
        let _busy = self.busy.lock().await;
        self.set(UpdateState::Checking, false);
        let older = Arc::new(Mutex::new(None::<String>));
        let found = match self.updater(endpoint, older.clone()) {
            Ok(updater) => updater.check().await,
            Err(e) => Err(e),
        };
        match found {
            Ok(Some(update)) => {
                let version = update.version.clone();
                tracing::info!(%version, "update available");
                self.set(
                    UpdateState::Available {
                        version: version.clone(),
                        notes: update.body.clone().filter(|n| !n.trim().is_empty()),
                        prompt: self.mode == DeviceMode::Personal,
                    },
                    true,
                );
                *self.pending.lock().await = Some(update);
                Some(version)
            }
            Ok(None) => {
                *self.pending.lock().await = None;
                let offered = older.lock().unwrap_or_else(|p| p.into_inner()).take();
                match offered {
                    Some(offered) => {
                        tracing::warn!(%offered, "the update server offers a version that is not newer: refused");
                        self.set(failed(UpdateProblem::NotNewer { offered }), true);
                    }
                    None => self.set(UpdateState::UpToDate, true),
                }
                None
            }
            Err(e) => {
                let problem = problem(&e);
                tracing::warn!(error = %e, ?problem, "could not look for an update; the running version carries on");
                self.set(failed(problem), true);
                None
            }
        }
    }

    /// Download, check, close the data, install, restart. On any failure the running version
    /// carries on and the status says why.
    pub async fn install(&self) {
        let _busy = self.busy.lock().await;
        let Some(update) = self.pending.lock().await.clone() else {
            return;
        };
        let version = update.version.clone();
        tracing::info!(%version, "downloading the update");
        let started = std::time::Instant::now();
        let mut received = 0u64;
        let mut shown = 0u64;
        let bytes = update
            .download(
                |chunk, total| {
                    received += chunk as u64;
                    // A status every 2 % (or 1 MB without a length): enough for a progress bar.
                    let step = total.map_or(1 << 20, |t| (t / 50).max(1));
                    if received - shown >= step {
                        shown = received;
                        self.set(UpdateState::Downloading { received, total }, false);
                    }
                },
                || {},
            )
            .await;
        let bytes = match bytes {
            Ok(bytes) => bytes,
            Err(e) => {
                let problem = problem(&e);
                tracing::warn!(error = %e, ?problem, "update refused; nothing was installed");
                self.set(failed(problem), false);
                return;
            }
        };
        tracing::info!(%version, bytes = bytes.len(), ms = started.elapsed().as_millis() as u64, "update downloaded, signature valid");
        self.set(
            UpdateState::Installing {
                version: version.clone(),
            },
            false,
        );
        if let Err(e) = self.core.close_for_update().await {
            // Every commit is already on disk (synchronous=FULL); the checkpoint only tidies.
            tracing::warn!(error = %e, "closing the data before the update");
        }
        let installed = tauri::async_runtime::spawn_blocking(move || update.install(bytes)).await;
        match installed {
            Ok(Ok(())) => {
                tracing::info!(%version, "update installed; restarting");
                self.restart();
            }
            Ok(Err(e)) => {
                tracing::error!(error = %e, "installing the update failed; the running version carries on");
                self.set(
                    failed(UpdateProblem::InstallFailed {
                        detail: e.to_string(),
                    }),
                    false,
                );
            }
            Err(e) => {
                tracing::error!(error = %e, "the install task failed");
                self.set(
                    failed(UpdateProblem::InstallFailed {
                        detail: e.to_string(),
                    }),
                    false,
                );
            }
        }
    }

    /// Start the installed version and end this one. Not `AppHandle::restart`: the new process
    /// is told this one's id, and waits for it to end before it claims the single-instance
    /// name and the data folder's lock (startup.rs), or it would hand over to this one and exit.
    fn restart(&self) {
        let env = self.app.env();
        let started = tauri::process::current_binary(&env).and_then(|binary| {
            std::process::Command::new(binary)
                .args(env.args_os.iter().skip(1))
                .env(
                    crate::startup::ENV_PREVIOUS_PID,
                    std::process::id().to_string(),
                )
                .spawn()
        });
        match started {
            Ok(_) => self.app.exit(0),
            Err(e) => {
                tracing::error!(error = %e, "cannot start the new version; it starts next time");
                self.set(
                    failed(UpdateProblem::InstallFailed {
                        detail: format!("installed, but the new version did not start: {e}"),
                    }),
                    false,
                );
            }
        }
    }

    fn updater(
        &self,
        endpoint: url::Url,
        older: Arc<Mutex<Option<String>>>,
    ) -> Result<tauri_plugin_updater::Updater, PluginError> {
        self.app
            .updater_builder()
            .pubkey(PUBLIC_KEY)
            .endpoints(vec![endpoint])?
            .timeout(REQUEST_TIMEOUT)
            .version_comparator(move |current, remote| {
                if remote.version > current {
                    return true;
                }
                if remote.version < current {
                    *older.lock().unwrap_or_else(|p| p.into_inner()) =
                        Some(remote.version.to_string());
                }
                false
            })
            .build()
    }

    /// Record and send a new state; `checked` stamps the end of a look.
    fn set(&self, state: UpdateState, checked: bool) {
        let status = {
            let mut status = self.status.lock().unwrap_or_else(|p| p.into_inner());
            status.state = state;
            if checked {
                status.checked_at = time::OffsetDateTime::now_utc()
                    .format(&time::format_description::well_known::Rfc3339)
                    .ok();
            }
            status.clone()
        };
        if let Err(e) = UpdateStatusChanged(status).emit(&self.app) {
            tracing::warn!(error = %e, "cannot send the update status to the window");
        }
    }
}

fn failed(problem: UpdateProblem) -> UpdateState {
    UpdateState::Failed { problem }
}

/// The manifest's address, or why updates are off.
fn endpoint(app: &AppHandle, config: &AppConfig) -> (Option<url::Url>, Option<UpdatesOff>) {
    if PUBLIC_KEY.is_empty() {
        return (None, Some(UpdatesOff::NoKey));
    }
    let Some(url) = &config.update_url else {
        return (None, Some(UpdatesOff::NoAddress));
    };
    let filled = url.replace("{{channel}}", &config.update_channel);
    let Ok(url) = url::Url::parse(&filled) else {
        // Checked when the configuration was read; cannot happen.
        return (None, Some(UpdatesOff::NoAddress));
    };
    // The plugin's own rule (release builds: https only), asked once so the status can say it.
    match app.updater_builder().endpoints(vec![url.clone()]) {
        Ok(_) => (Some(url), None),
        Err(PluginError::InsecureTransportProtocol) => (None, Some(UpdatesOff::InsecureAddress)),
        Err(e) => {
            tracing::warn!(error = %e, "the update address is not usable");
            (None, Some(UpdatesOff::NoAddress))
        }
    }
}

/// What went wrong, for the person (the UI words it) and for support (`detail`).
fn problem(e: &PluginError) -> UpdateProblem {
    let detail = e.to_string();
    match e {
        PluginError::Reqwest(_) | PluginError::Network(_) | PluginError::ReleaseNotFound => {
            UpdateProblem::Unreachable { detail }
        }
        PluginError::Serialization(_)
        | PluginError::Semver(_)
        | PluginError::UrlParse(_)
        | PluginError::TargetNotFound(_)
        | PluginError::TargetsNotFound(_)
        | PluginError::InvalidUpdaterFormat => UpdateProblem::BadManifest { detail },
        PluginError::Minisign(_)
        | PluginError::Base64(_)
        | PluginError::SignatureUtf8(_)
        | PluginError::SignedVersionMismatch { .. }
        | PluginError::MissingSignedVersion => UpdateProblem::BadSignature { detail },
        _ => UpdateProblem::InstallFailed { detail },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_failures_are_told_apart_from_an_unreachable_server() {
        let bad = PluginError::SignedVersionMismatch {
            signed: "0.1.0".into(),
            announced: "0.2.0".into(),
        };
        assert!(matches!(problem(&bad), UpdateProblem::BadSignature { .. }));
        assert!(matches!(
            problem(&PluginError::MissingSignedVersion),
            UpdateProblem::BadSignature { .. }
        ));
        assert!(matches!(
            problem(&PluginError::Network("503".into())),
            UpdateProblem::Unreachable { .. }
        ));
        assert!(matches!(
            problem(&PluginError::TargetNotFound("linux-x86_64".into())),
            UpdateProblem::BadManifest { .. }
        ));
    }
}
