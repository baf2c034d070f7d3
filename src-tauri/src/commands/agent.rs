//! A field agent's caseload: finding people and serving them.

use doorstep_client::app::{MyDetails, PersonSummary};
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
