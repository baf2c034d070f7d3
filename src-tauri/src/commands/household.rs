//! The person's household and its members.

use doorstep_client::app::{HouseholdView, MemberInput};
use tauri::State;

use crate::error::UserError;
use crate::AppState;

/// The person's household, from the vault.
#[tauri::command]
#[specta::specta]
pub async fn household(state: State<'_, AppState>) -> Result<HouseholdView, UserError> {
    Ok(state.core.household().await?)
}

/// Create a household with the person as its head.
#[tauri::command]
#[specta::specta]
pub async fn create_household(state: State<'_, AppState>) -> Result<HouseholdView, UserError> {
    Ok(state.core.create_household().await?)
}

/// Add a household member (linked by national ID when already known on this device).
#[tauri::command]
#[specta::specta]
pub async fn add_member(
    state: State<'_, AppState>,
    member: MemberInput,
) -> Result<HouseholdView, UserError> {
    Ok(state.core.add_member(member).await?)
}

/// Change a household member's details or relationship.
#[tauri::command]
#[specta::specta]
pub async fn edit_member(
    state: State<'_, AppState>,
    individual: uuid::Uuid,
    member: MemberInput,
) -> Result<HouseholdView, UserError> {
    Ok(state.core.edit_member(individual, member).await?)
}

/// End a member's membership of the household (their record stays).
#[tauri::command]
#[specta::specta]
pub async fn remove_member(
    state: State<'_, AppState>,
    individual: uuid::Uuid,
) -> Result<HouseholdView, UserError> {
    Ok(state.core.remove_member(individual).await?)
}

/// Make a member the head of the household.
#[tauri::command]
#[specta::specta]
pub async fn change_head(
    state: State<'_, AppState>,
    individual: uuid::Uuid,
) -> Result<HouseholdView, UserError> {
    Ok(state.core.change_head(individual).await?)
}
