//! Messages from the registry.

use doorstep_client::app::NotificationView;
use tauri::State;

use crate::error::UserError;
use crate::AppState;

/// The person's notifications, newest first.
#[tauri::command]
#[specta::specta]
pub async fn notifications(state: State<'_, AppState>) -> Result<Vec<NotificationView>, UserError> {
    Ok(state.core.notifications().await?)
}

/// Mark a notification read or unread.
#[tauri::command]
#[specta::specta]
pub async fn mark_notification(
    state: State<'_, AppState>,
    id: uuid::Uuid,
    read: bool,
) -> Result<Vec<NotificationView>, UserError> {
    Ok(state.core.mark_notification(id, read).await?)
}
