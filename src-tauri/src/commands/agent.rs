//! A field agent's caseload: finding people and serving them.

use doorstep_client::app::{ActingFor, MyDetails, PersonSummary};
use tauri::State;

use crate::error::UserError;
use crate::AppState;

/// Agent: the people of the agent's area on this device, by name (also spelled differently), ID
/// number or phone; with `attention_only`, only those who need something done.
#[tauri::command]
#[specta::specta]
pub async fn people(
    state: State<'_, AppState>,
    query: String,
    attention_only: bool,
    limit: u32,
) -> Result<Vec<PersonSummary>, UserError> {
    if query.chars().count() > 200 {
        return Err(UserError::invalid_input(
            "Search for at most 200 characters.",
        ));
    }
    Ok(state.core.people(query, attention_only, limit).await?)
}

/// Agent: one person's details, to prefill the form.
#[tauri::command]
#[specta::specta]
pub async fn person_details(
    state: State<'_, AppState>,
    individual: uuid::Uuid,
) -> Result<MyDetails, UserError> {
    Ok(state.core.person_details(individual).await?)
}

/// Agent: save a person's details on their behalf.
#[tauri::command]
#[specta::specta]
pub async fn save_person_details(
    state: State<'_, AppState>,
    individual: uuid::Uuid,
    details: MyDetails,
) -> Result<(), UserError> {
    Ok(state.core.save_person_details(individual, details).await?)
}

/// Agent: serve a person in every section ("Acting for" them), or `null` to go back to the
/// caseload.
#[tauri::command]
#[specta::specta]
pub async fn act_for(
    state: State<'_, AppState>,
    individual: Option<uuid::Uuid>,
) -> Result<Option<ActingFor>, UserError> {
    Ok(state.core.act_for(individual).await?)
}

/// Agent: the person being served, if any (for the "Acting for" banner).
#[tauri::command]
#[specta::specta]
pub async fn acting_for(state: State<'_, AppState>) -> Result<Option<ActingFor>, UserError> {
    Ok(state.core.acting_for().await?)
}
