//! The device itself: why it could not start, the kiosk's operator exit, support details.

use std::time::Instant;

use doorstep_client::kiosk::ExitRefused;
use doorstep_client::support::{support_details as details_text, SupportFacts};
use tauri::{AppHandle, State};

use crate::error::{UserError, UserErrorCode};
use crate::startup::{Startup, StartupProblem};
use crate::AppState;

/// Why the app could not start (a configuration mistake, another instance), or nothing. The
/// UI asks first: with a problem, no other command works.
#[tauri::command]
#[specta::specta]
pub fn startup_problem(startup: State<'_, Startup>) -> Option<StartupProblem> {
    startup.0.clone()
}

/// Kiosk: leave the app with the operator PIN. The visitor's session (if any) is closed first.
#[tauri::command]
#[specta::specta]
pub async fn operator_exit(
    app: AppHandle,
    state: State<'_, AppState>,
    pin: String,
) -> Result<(), UserError> {
    if pin.len() > 64 {
        return Err(UserError::invalid_input("a PIN is at most 12 digits"));
    }
    let checked = state
        .operator_exit
        .lock()
        .map_err(|_| UserError::new(UserErrorCode::Storage, "the PIN check failed"))?
        .check(&pin, Instant::now());
    match checked {
        Ok(()) => {
            tracing::info!("operator exit");
            // Nothing of a visitor stays open; unsent changes stay encrypted for their owner.
            let _ = state.core.sign_out(false).await;
            app.exit(0);
            Ok(())
        }
        Err(refused) => {
            tracing::warn!("operator exit refused: {refused}");
            let (key, params) = match refused {
                ExitRefused::NoPin => ("operatorExitUnavailable", vec![]),
                ExitRefused::WrongPin { left } => {
                    ("operatorPinWrong", vec![("left", left.to_string())])
                }
                ExitRefused::Locked { seconds } => {
                    ("operatorPinLocked", vec![("seconds", seconds.to_string())])
                }
            };
            let mut e = UserError::invalid_input(refused.to_string());
            e.key = Some(key.to_owned());
            e.params = params.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            Err(e)
        }
    }
}

/// The text of "Copy support details": version, mode, configuration, sync, recent problems.
#[tauri::command]
#[specta::specta]
pub async fn support_details(state: State<'_, AppState>) -> Result<String, UserError> {
    let view = state.core.view().await;
    let signed_in = matches!(view, doorstep_client::app::SessionView::Ready { .. });
    let sync = state.core.sync_status().borrow().clone();
    let platform = format!("{} {}", std::env::consts::OS, std::env::consts::ARCH);
    let problems = state.logs.recent_problems();
    Ok(details_text(&SupportFacts {
        version: doorstep_client::VERSION,
        platform: &platform,
        mode: state.core.config().mode,
        registry_url: state.settings.registry_url.as_str(),
        layers: &state.layers,
        sync: signed_in.then_some(&sync),
        recent_problems: &problems,
    }))
}
