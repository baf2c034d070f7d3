//! Signing in and out, the passphrase, and unlocking a profile.

use doorstep_client::app::SessionView;
use tauri::{AppHandle, State};

use crate::error::UserError;
use crate::{signin_window, AppState};

/// Where the person is: signed out, choosing a passphrase, locked, or with their data open.
#[tauri::command]
#[specta::specta]
pub async fn session(state: State<'_, AppState>) -> Result<SessionView, UserError> {
    Ok(state.core.view().await)
}

/// Sign in with the identity provider: the system browser on personal and agent devices, an
/// app window without persistent storage on kiosks. `remember` = "stay signed in".
#[tauri::command]
#[specta::specta]
pub async fn sign_in(
    app: AppHandle,
    state: State<'_, AppState>,
    remember: bool,
) -> Result<SessionView, UserError> {
    let browser = signin_window::browser_for(&app, state.core.config());
    let started = std::time::Instant::now();
    let result = state.core.sign_in(browser.as_ref(), remember).await;
    signin_window::close(&app);
    match &result {
        Ok(_) => tracing::info!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            "signed in"
        ),
        Err(e) => {
            tracing::warn!(elapsed_ms = started.elapsed().as_millis() as u64, error = %e, "sign-in failed")
        }
    }
    Ok(result?)
}

/// First sign-in on this device: protect the person's data with a passphrase.
#[tauri::command]
#[specta::specta]
pub async fn choose_passphrase(
    state: State<'_, AppState>,
    passphrase: String,
) -> Result<SessionView, UserError> {
    Ok(state.core.choose_passphrase(passphrase).await?)
}

/// Open a profile with its passphrase (works offline). `profile`: which one, when the device
/// has several; the most recent otherwise.
#[tauri::command]
#[specta::specta]
pub async fn unlock(
    state: State<'_, AppState>,
    profile: Option<String>,
    passphrase: String,
) -> Result<SessionView, UserError> {
    Ok(state.core.unlock(profile, passphrase).await?)
}

/// Close the data and forget the session (kiosk: and wipe the visit's data).
#[tauri::command]
#[specta::specta]
pub async fn sign_out(
    state: State<'_, AppState>,
    discard_unsent: bool,
) -> Result<SessionView, UserError> {
    Ok(state.core.sign_out(discard_unsent).await?)
}

/// Change the passphrase that protects the open data.
#[tauri::command]
#[specta::specta]
pub async fn change_passphrase(
    state: State<'_, AppState>,
    current: String,
    replacement: String,
) -> Result<(), UserError> {
    Ok(state.core.change_passphrase(current, replacement).await?)
}
