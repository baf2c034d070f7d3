//! Payment accounts: bank accounts and mobile wallets.

use doorstep_client::app::{AccountInput, AccountView};
use tauri::State;

use crate::error::UserError;
use crate::AppState;

/// The person's payment accounts.
#[tauri::command]
#[specta::specta]
pub async fn accounts(state: State<'_, AppState>) -> Result<Vec<AccountView>, UserError> {
    Ok(state.core.accounts().await?)
}

/// Add a bank account or mobile wallet.
#[tauri::command]
#[specta::specta]
pub async fn add_account(
    state: State<'_, AppState>,
    input: AccountInput,
) -> Result<Vec<AccountView>, UserError> {
    Ok(state.core.add_account(input).await?)
}

/// Send payments to this account.
#[tauri::command]
#[specta::specta]
pub async fn set_preferred_account(
    state: State<'_, AppState>,
    id: uuid::Uuid,
) -> Result<Vec<AccountView>, UserError> {
    Ok(state.core.set_preferred_account(id).await?)
}

/// Remove an account.
#[tauri::command]
#[specta::specta]
pub async fn remove_account(
    state: State<'_, AppState>,
    id: uuid::Uuid,
) -> Result<Vec<AccountView>, UserError> {
    Ok(state.core.remove_account(id).await?)
}
