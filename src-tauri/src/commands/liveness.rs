//! The periodic liveness check: the person (or, on an agent's laptop, the person the agent serves)
//! signs in again at the identity provider and the registry verifies it.

use doorstep_client::app::LivenessDone;
use tauri::{AppHandle, State};

use crate::error::UserError;
use crate::{signin_window, AppState};

/// Do the liveness check now, in the system browser (a kiosk: its own sign-in window, emptied
/// afterwards). `language`: the screen's language, asked of the provider's pages first.
#[tauri::command]
#[specta::specta]
pub async fn check_liveness(
    app: AppHandle,
    state: State<'_, AppState>,
    language: Option<String>,
) -> Result<LivenessDone, UserError> {
    let browser = signin_window::browser_for(&app, state.core.config());
    let result = state
        .core
        .check_liveness_now(browser.as_ref(), language.as_deref())
        .await;
    // After success, refusal or timeout alike: the next visitor meets no provider session.
    signin_window::close(&app);
    Ok(result?)
}
