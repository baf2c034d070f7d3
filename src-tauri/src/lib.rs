//! The desktop shell: window, IPC commands, plugins. Nothing else.
//!
//! Every command is a few lines that call into `doorstep-client` and translate the result for the
//! web UI. Logic that could be tested without a window belongs in a library crate, not here.

mod bytes;
mod camera;
mod commands;
mod error;
mod signin_window;

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use doorstep_client::app::{AppConfig, DeviceMode, Doorstep};
use doorstep_client::desktop::DesktopNotifier;
use doorstep_client::registry::RegistryClient;
use doorstep_client::settings::Settings;
use doorstep_client::sync::service::SyncStatus;
use doorstep_client::vault::{KeyStore, NoKeyStore, OsKeyring, SecretStore};
use serde::{Deserialize, Serialize};
use tauri::Manager;
use tauri_specta::Event;

pub use commands::specta_builder;

/// State shared by every command.
pub struct AppState {
    pub settings: Settings,
    pub registry: RegistryClient,
    pub core: Arc<Doorstep>,
}

/// Sent to the UI whenever the sync indicator should change.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
pub struct SyncStatusChanged(pub SyncStatus);

/// Set to any value to have the app print `doorstep: ui-ready <unix ms>` on stdout once the first
/// form has rendered. The benchmark uses it to time cold start.
pub const ENV_REPORT_READY: &str = "DOORSTEP_REPORT_READY";

pub fn run() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("DOORSTEP_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();

    let specta = specta_builder();
    let typed = specta.invoke_handler();
    let raw = bytes::handler();
    tauri::Builder::default()
        .invoke_handler(move |invoke| {
            if bytes::COMMANDS.contains(&invoke.message.command()) {
                raw(invoke)
            } else {
                typed(invoke)
            }
        })
        .setup(move |app| {
            specta.mount_events(app);
            if let Some(main) = app.get_webview_window("main") {
                camera::allow_video_capture(&main);
            }
            let default_dir = app.path().app_data_dir()?;
            let settings = Settings::from_env(default_dir)?;
            let config = AppConfig::from_env(&settings.registry_url)?;
            tracing::info!(registry = %settings.registry_url, data = %settings.data_dir.display(), mode = ?config.mode, "starting");
            let (keys, secrets) = keyring();
            let kiosk = config.mode == DeviceMode::Kiosk;
            let core = Arc::new(Doorstep::open(settings.clone(), config, keys, secrets)?);
            forward_sync_status(app.handle().clone(), &core);
            if !kiosk {
                // Alerts go to the desktop's notification service; a click opens their screen.
                let handle = app.handle().clone();
                let notifier = DesktopNotifier::new("Doorstep", "doorstep", move |screen| {
                    commands::open_screen(&handle, screen)
                });
                let core = core.clone();
                tauri::async_runtime::spawn(async move {
                    core.set_alert_sink(Arc::new(notifier)).await;
                });
            }
            let resume = core.clone();
            tauri::async_runtime::spawn(async move {
                if let Err(e) = resume.resume().await {
                    tracing::warn!(error = %e, "could not resume the remembered session");
                }
            });
            let registry = RegistryClient::new(settings.registry_url.clone());
            app.manage(AppState {
                settings,
                registry,
                core,
            });
            Ok(())
        })
        .run(tauri::generate_context!())
        .unwrap_or_else(|e| {
            eprintln!("doorstep: cannot start: {e}");
            std::process::exit(1);
        });
}

/// The OS keyring, or (no Secret Service, e.g. a bare kiosk image) nothing: every unlock then
/// needs the passphrase, which is safe, just less convenient.
fn keyring() -> (Arc<dyn KeyStore>, Arc<dyn SecretStore>) {
    // Probe once: a build can have a keyring backend while this session has no Secret Service
    // (no D-Bus session, a bare kiosk image); then every call would fail later, mid-sign-in.
    let usable = OsKeyring::new().and_then(|k| {
        k.load_secret("doorstep-probe")?;
        Ok(k)
    });
    match usable {
        Ok(k) => {
            let k = Arc::new(k);
            (k.clone(), k)
        }
        Err(e) => {
            tracing::warn!(error = %e, "no system keyring; the passphrase will be asked every time");
            (Arc::new(NoKeyStore), Arc::new(NoKeyStore))
        }
    }
}

/// Every change of the sync status becomes a `SyncStatusChanged` event for the UI.
fn forward_sync_status(app: tauri::AppHandle, core: &Doorstep) {
    let mut status = core.sync_status();
    tauri::async_runtime::spawn(async move {
        while status.changed().await.is_ok() {
            let now = status.borrow_and_update().clone();
            if let Err(e) = SyncStatusChanged(now).emit(&app) {
                tracing::warn!(error = %e, "cannot send the sync status to the window");
            }
        }
    });
}

fn unix_millis() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}
