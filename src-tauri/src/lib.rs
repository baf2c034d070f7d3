//! The desktop shell: window, IPC commands, plugins. Nothing else.
//!
//! Every command is a few lines that call into `doorstep-client` and translate the result for the
//! web UI. Logic that could be tested without a window belongs in a library crate, not here.

mod commands;
mod error;

use std::time::{SystemTime, UNIX_EPOCH};

use doorstep_client::registry::RegistryClient;
use doorstep_client::settings::Settings;
use tauri::Manager;

pub use commands::specta_builder;

/// State shared by every command.
pub struct AppState {
    pub settings: Settings,
    pub registry: RegistryClient,
}

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
    tauri::Builder::default()
        .invoke_handler(specta.invoke_handler())
        .setup(move |app| {
            specta.mount_events(app);
            let default_dir = app.path().app_data_dir()?;
            let settings = Settings::from_env(default_dir)?;
            tracing::info!(registry = %settings.registry_url, data = %settings.data_dir.display(), "starting");
            let registry = RegistryClient::new(settings.registry_url.clone());
            app.manage(AppState { settings, registry });
            Ok(())
        })
        .run(tauri::generate_context!())
        .unwrap_or_else(|e| {
            eprintln!("doorstep: cannot start: {e}");
            std::process::exit(1);
        });
}

fn unix_millis() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}
