//! The desktop shell: window, IPC commands, plugins. Nothing else.
//!
//! Every command is a few lines that call into `doorstep-client` and translate the result for the
//! web UI. Logic that could be tested without a window belongs in a library crate, not here.

mod bytes;
mod camera;
mod cli;
mod commands;
mod error;
mod logs;
mod signin_window;
mod startup;
mod updates;

use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use doorstep_client::app::{DeviceMode, Doorstep};
use doorstep_client::desktop::DesktopNotifier;
use doorstep_client::device_config::Layers;
use doorstep_client::kiosk::OperatorExit;
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
    /// Where each setting came from (support details).
    pub layers: Layers,
    pub logs: logs::Logs,
    /// Kiosk: the operator exit's PIN check and its lockout.
    pub operator_exit: Mutex<OperatorExit>,
    /// Signed app updates (see updates.rs).
    pub updates: Arc<updates::Updates>,
    /// Held while the app runs (see startup.rs).
    _instance: startup::InstanceLock,
}

/// Sent to the UI whenever the sync indicator should change.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
pub struct SyncStatusChanged(pub SyncStatus);

/// Set to any value to have the app print `doorstep: ui-ready <unix ms>` on stdout once the first
/// form has rendered. The benchmark uses it to time cold start.
pub const ENV_REPORT_READY: &str = "DOORSTEP_REPORT_READY";

pub fn run() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(code) = cli::run(&args) {
        std::process::exit(code);
    }
    let logs = logs::Logs::init();

    let specta = specta_builder();
    let typed = specta.invoke_handler();
    let raw = bytes::handler();
    tauri::Builder::default()
        .plugin(tauri_plugin_updater::Builder::new().build())
        .invoke_handler(move |invoke| {
            if bytes::COMMANDS.contains(&invoke.message.command()) {
                raw(invoke)
            } else {
                typed(invoke)
            }
        })
        .setup(move |app| {
            specta.mount_events(app);
            let problem = start(app, logs).err();
            if let Some(problem) = &problem {
                // The window says it; stderr and the log too, for whoever starts it by hand.
                tracing::error!(?problem, "cannot start");
                if app.get_webview_window("main").is_none() {
                    startup::main_window(app, None)?;
                }
            }
            app.manage(startup::Startup(problem));
            Ok(())
        })
        .run(tauri::generate_context!())
        .unwrap_or_else(|e| {
            eprintln!("doorstep: cannot start: {e}");
            std::process::exit(1);
        });
}

/// Everything from the configuration to a window showing the UI with its state managed.
fn start(app: &mut tauri::App, logs: logs::Logs) -> Result<(), startup::StartupProblem> {
    let config = startup::load_config(app)
        .map_err(|problem| startup::StartupProblem::Configuration { problem })?;
    let settings = config.settings.clone();
    let updated_from = startup::wait_for_previous_version();
    // One Doorstep per data folder: a second start brings the first window forward (D-Bus), or,
    // with no session bus, is told the app is open already (the lock file).
    let single = tauri_plugin_single_instance::Builder::new()
        .dbus_id(startup::instance_id(cli::IDENTIFIER, &settings.data_dir))
        .callback(|app, _args, _cwd| {
            tracing::info!("brought forward by a second start");
            if let Some(main) = app.get_webview_window("main") {
                let _ = main.unminimize();
                let _ = main.show();
                let _ = main.set_focus();
            }
        })
        .build();
    if let Err(e) = app.handle().plugin(single) {
        tracing::warn!(error = %e, "no single-instance check over D-Bus; the lock file still applies");
    }
    let instance = match startup::InstanceLock::take(&settings.data_dir) {
        Ok(Some(lock)) => lock,
        Ok(None) => return Err(startup::StartupProblem::AlreadyOpen),
        Err(e) => {
            tracing::warn!(error = %e, "cannot lock the data folder");
            return Err(startup::StartupProblem::AlreadyOpen);
        }
    };
    if let Err(e) = logs.write_to(&settings.data_dir) {
        tracing::warn!("{e}");
    }
    if let Some(pid) = updated_from {
        tracing::info!(
            pid,
            "started after an update; the previous version has ended"
        );
    }
    let mode = config.app.mode;
    let main =
        startup::main_window(app, Some(mode)).map_err(|e| startup::StartupProblem::CannotOpen {
            reason: format!("the window: {e}"),
        })?;
    camera::allow_video_capture(&main);
    tracing::info!(version = %app.package_info().version, registry = %settings.registry_url, ?mode, files = config.layers.files.len(), "starting");
    if let Some(ignored) = &config.layers.ignored_user_file {
        tracing::info!(file = %ignored.display(), "a kiosk does not read a person's settings file");
    }
    let (keys, secrets) = keyring();
    let operator_exit = Mutex::new(OperatorExit::new(config.app.operator_pin.clone()));
    let core = Doorstep::open(settings.clone(), config.app, keys, secrets).map_err(|e| {
        startup::StartupProblem::CannotOpen {
            reason: format!("this device's data: {e}"),
        }
    })?;
    let core = Arc::new(core);
    forward_sync_status(app.handle().clone(), &core);
    if mode != DeviceMode::Kiosk {
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
    let updates = updates::Updates::start(app.handle(), core.clone(), core.config());
    let registry = RegistryClient::new(settings.registry_url.clone());
    app.manage(AppState {
        settings,
        registry,
        core,
        layers: config.layers,
        logs,
        operator_exit,
        updates,
        _instance: instance,
    });
    Ok(())
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
