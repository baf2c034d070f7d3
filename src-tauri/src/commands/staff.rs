//! The staff directory (administrators change it, staff read it); online only.

use doorstep_client::app::{StaffChange, StaffDirectory, StaffEntry, StaffGrant};
use tauri::State;

use crate::error::UserError;
use crate::AppState;

/// A page of the directory; `after` is the previous page's `nextAfter`.
#[tauri::command]
#[specta::specta]
pub async fn staff_directory(
    state: State<'_, AppState>,
    after: Option<uuid::Uuid>,
    include_revoked: bool,
) -> Result<StaffDirectory, UserError> {
    Ok(state.core.staff_directory(after, include_revoked).await?)
}

/// Give an identity a role.
#[tauri::command]
#[specta::specta]
pub async fn grant_staff(
    state: State<'_, AppState>,
    grant: StaffGrant,
) -> Result<StaffEntry, UserError> {
    Ok(state.core.grant_staff(grant).await?)
}

/// Change an entry's role and areas.
#[tauri::command]
#[specta::specta]
pub async fn change_staff(
    state: State<'_, AppState>,
    id: uuid::Uuid,
    change: StaffChange,
) -> Result<StaffEntry, UserError> {
    Ok(state.core.change_staff(id, change).await?)
}

/// Revoke an entry; the registry keeps it as the trail.
#[tauri::command]
#[specta::specta]
pub async fn revoke_staff(
    state: State<'_, AppState>,
    id: uuid::Uuid,
) -> Result<StaffEntry, UserError> {
    Ok(state.core.revoke_staff(id).await?)
}
