//! IPC commands. Their TypeScript bindings (`ui/src/lib/bindings.ts`) are generated from these
//! signatures; the test below fails when the checked-in file is stale.

use doorstep_client::app::{
    AccountInput, AccountView, ApplicationForm, ApplicationView, ConflictView, DocumentsView,
    FieldChoice, HomeView, HouseholdView, MemberInput, MyDetails, NewUpload, NotificationView,
    PersonSummary, ProgrammeView, RejectionView, SessionView,
};
use doorstep_client::info::{self, AppInfo, RegistryStatus};
use doorstep_client::sync::service::SyncStatus;
use tauri::{AppHandle, State};

use crate::error::UserError;
use crate::{signin_window, AppState, SyncStatusChanged};

/// Version, data folder and registry address of this installation.
#[tauri::command]
#[specta::specta]
pub fn app_info(state: State<'_, AppState>) -> AppInfo {
    AppInfo::new(&state.settings)
}

/// Ask the registry whether it is reachable right now.
#[tauri::command]
#[specta::specta]
pub async fn registry_status(state: State<'_, AppState>) -> Result<RegistryStatus, UserError> {
    Ok(info::registry_status(&state.registry).await)
}

/// Called by the UI once its first form is on screen. Logged, and printed for the benchmark when
/// `DOORSTEP_REPORT_READY` is set.
#[tauri::command]
#[specta::specta]
pub fn ui_ready(form: String) -> Result<(), UserError> {
    if form.is_empty() || form.len() > 200 {
        return Err(UserError::invalid_input(
            "form name must be 1 to 200 characters",
        ));
    }
    let at = crate::unix_millis();
    tracing::info!(%form, at, "first form rendered");
    if std::env::var_os(crate::ENV_REPORT_READY).is_some() {
        println!("doorstep: ui-ready {at}");
    }
    Ok(())
}

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

/// "Sync now".
#[tauri::command]
#[specta::specta]
pub async fn sync_now(state: State<'_, AppState>) -> Result<(), UserError> {
    Ok(state.core.sync_now().await?)
}

/// The sync indicator's current state (later changes arrive as `SyncStatusChanged` events).
#[tauri::command]
#[specta::specta]
pub fn sync_status(state: State<'_, AppState>) -> SyncStatus {
    state.core.sync_status().borrow().clone()
}

/// The home screen, from the vault.
#[tauri::command]
#[specta::specta]
pub async fn home(state: State<'_, AppState>) -> Result<HomeView, UserError> {
    Ok(state.core.home().await?)
}

/// Save the person's own details (their registration the first time).
#[tauri::command]
#[specta::specta]
pub async fn save_my_details(
    state: State<'_, AppState>,
    details: MyDetails,
) -> Result<HomeView, UserError> {
    Ok(state.core.save_my_details(details).await?)
}

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
    individual: String,
    member: MemberInput,
) -> Result<HouseholdView, UserError> {
    Ok(state
        .core
        .edit_member(parse_id(&individual)?, member)
        .await?)
}

/// End a member's membership of the household (their record stays).
#[tauri::command]
#[specta::specta]
pub async fn remove_member(
    state: State<'_, AppState>,
    individual: String,
) -> Result<HouseholdView, UserError> {
    Ok(state.core.remove_member(parse_id(&individual)?).await?)
}

/// Make a member the head of the household.
#[tauri::command]
#[specta::specta]
pub async fn change_head(
    state: State<'_, AppState>,
    individual: String,
) -> Result<HouseholdView, UserError> {
    Ok(state.core.change_head(parse_id(&individual)?).await?)
}

/// Agent: the people of the agent's area on this device, by name or ID number.
#[tauri::command]
#[specta::specta]
pub async fn people(
    state: State<'_, AppState>,
    query: String,
    limit: u32,
) -> Result<Vec<PersonSummary>, UserError> {
    if query.chars().count() > 200 {
        return Err(UserError::invalid_input(
            "Search for at most 200 characters.",
        ));
    }
    Ok(state.core.people(query, limit).await?)
}

/// Agent: one person's details, to prefill the form.
#[tauri::command]
#[specta::specta]
pub async fn person_details(
    state: State<'_, AppState>,
    individual: String,
) -> Result<MyDetails, UserError> {
    Ok(state.core.person_details(parse_id(&individual)?).await?)
}

/// Agent: save a person's details on their behalf.
#[tauri::command]
#[specta::specta]
pub async fn save_person_details(
    state: State<'_, AppState>,
    individual: String,
    details: MyDetails,
) -> Result<(), UserError> {
    Ok(state
        .core
        .save_person_details(parse_id(&individual)?, details)
        .await?)
}

fn parse_id(text: &str) -> Result<uuid::Uuid, UserError> {
    text.parse()
        .map_err(|_| UserError::invalid_input("That record id is not valid."))
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
    id: String,
) -> Result<Vec<AccountView>, UserError> {
    Ok(state.core.set_preferred_account(parse_id(&id)?).await?)
}

/// Remove an account.
#[tauri::command]
#[specta::specta]
pub async fn remove_account(
    state: State<'_, AppState>,
    id: String,
) -> Result<Vec<AccountView>, UserError> {
    Ok(state.core.remove_account(parse_id(&id)?).await?)
}

/// Every programme on this device, with the person's applications to it.
#[tauri::command]
#[specta::specta]
pub async fn programmes(state: State<'_, AppState>) -> Result<Vec<ProgrammeView>, UserError> {
    Ok(state.core.programmes().await?)
}

/// The form to apply to a programme, with the answers saved so far.
#[tauri::command]
#[specta::specta]
pub async fn application_form(
    state: State<'_, AppState>,
    programme: String,
) -> Result<ApplicationForm, UserError> {
    Ok(state.core.application_form(parse_id(&programme)?).await?)
}

/// Keep the answers typed so far on this device; returns when they were saved.
#[tauri::command]
#[specta::specta]
pub async fn save_application_draft(
    state: State<'_, AppState>,
    programme: String,
    data: serde_json::Value,
) -> Result<String, UserError> {
    Ok(state
        .core
        .save_application_draft(parse_id(&programme)?, data)
        .await?)
}

/// Forget the answers typed so far.
#[tauri::command]
#[specta::specta]
pub async fn discard_application_draft(
    state: State<'_, AppState>,
    programme: String,
) -> Result<(), UserError> {
    Ok(state
        .core
        .discard_application_draft(parse_id(&programme)?)
        .await?)
}

/// Submit an application (queued when offline).
#[tauri::command]
#[specta::specta]
pub async fn submit_application(
    state: State<'_, AppState>,
    programme: String,
    data: serde_json::Value,
) -> Result<ApplicationView, UserError> {
    Ok(state
        .core
        .submit_application(parse_id(&programme)?, data)
        .await?)
}

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
    id: String,
    read: bool,
) -> Result<Vec<NotificationView>, UserError> {
    Ok(state.core.mark_notification(parse_id(&id)?, read).await?)
}

/// The person's documents and what the programmes require.
#[tauri::command]
#[specta::specta]
pub async fn documents(state: State<'_, AppState>) -> Result<DocumentsView, UserError> {
    Ok(state.core.documents().await?)
}

/// Start adding a document; returns the token its chunks are sent with (see `bytes.rs`).
#[tauri::command]
#[specta::specta]
pub async fn begin_upload(
    state: State<'_, AppState>,
    upload: NewUpload,
) -> Result<String, UserError> {
    Ok(state.core.begin_upload(upload).await?.to_string())
}

/// Every chunk sent: store the document.
#[tauri::command]
#[specta::specta]
pub async fn finish_upload(
    state: State<'_, AppState>,
    token: String,
) -> Result<DocumentsView, UserError> {
    Ok(state.core.finish_upload(parse_id(&token)?).await?)
}

/// Stop adding a document; nothing of it is kept.
#[tauri::command]
#[specta::specta]
pub async fn cancel_upload(state: State<'_, AppState>, token: String) -> Result<(), UserError> {
    state.core.cancel_upload(parse_id(&token)?).await;
    Ok(())
}

/// Delete a document.
#[tauri::command]
#[specta::specta]
pub async fn delete_document(
    state: State<'_, AppState>,
    id: String,
) -> Result<DocumentsView, UserError> {
    Ok(state.core.delete_document(parse_id(&id)?).await?)
}

/// Changes the registry refused, with its reasons.
#[tauri::command]
#[specta::specta]
pub async fn rejections(state: State<'_, AppState>) -> Result<Vec<RejectionView>, UserError> {
    Ok(state.core.rejections().await?)
}

/// Drop a refused change (the record returns to the registry's version).
#[tauri::command]
#[specta::specta]
pub async fn discard_rejection(
    state: State<'_, AppState>,
    mutation_id: String,
) -> Result<(), UserError> {
    Ok(state
        .core
        .discard_rejection(parse_id(&mutation_id)?)
        .await?)
}

/// Conflicts waiting for the person, grouped by record.
#[tauri::command]
#[specta::specta]
pub async fn conflicts(state: State<'_, AppState>) -> Result<Vec<ConflictView>, UserError> {
    Ok(state.core.conflicts().await?)
}

/// Resolve every conflicting field of one record.
#[tauri::command]
#[specta::specta]
pub async fn resolve_conflict(
    state: State<'_, AppState>,
    kind: String,
    record_id: String,
    choices: Vec<FieldChoice>,
) -> Result<(), UserError> {
    let record_id = record_id
        .parse()
        .map_err(|_| UserError::invalid_input("That record id is not valid."))?;
    Ok(state
        .core
        .resolve_conflict(kind, record_id, choices)
        .await?)
}

/// All commands, registered once: used both to serve IPC and to generate the TypeScript bindings.
pub fn specta_builder() -> tauri_specta::Builder<tauri::Wry> {
    tauri_specta::Builder::<tauri::Wry>::new()
        .commands(tauri_specta::collect_commands![
            app_info,
            registry_status,
            ui_ready,
            session,
            sign_in,
            choose_passphrase,
            unlock,
            sign_out,
            sync_now,
            sync_status,
            home,
            save_my_details,
            household,
            create_household,
            add_member,
            edit_member,
            remove_member,
            change_head,
            people,
            person_details,
            save_person_details,
            change_passphrase,
            rejections,
            discard_rejection,
            accounts,
            add_account,
            set_preferred_account,
            remove_account,
            conflicts,
            resolve_conflict,
            programmes,
            application_form,
            save_application_draft,
            discard_application_draft,
            submit_application,
            notifications,
            mark_notification,
            documents,
            begin_upload,
            finish_upload,
            cancel_upload,
            delete_document
        ])
        .events(tauri_specta::collect_events![SyncStatusChanged])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Path of the generated bindings, relative to this crate.
    const BINDINGS_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../ui/src/lib/bindings.ts");

    /// Render the TypeScript bindings as text.
    fn render_bindings(path: &std::path::Path) -> Result<(), String> {
        specta_builder()
        .export(
            specta_typescript::Typescript::default()
                .header("// Generated from src-tauri/src/commands.rs by `./dev bindings`. Do not edit.\n// @ts-nocheck")
                .bigint(specta_typescript::BigIntExportBehavior::Number),
            path,
        )
        .map_err(|e| e.to_string())
    }

    /// CI guard: the checked-in bindings must equal what the Rust types generate now.
    /// Regenerate with `DOORSTEP_WRITE_BINDINGS=1 cargo test -p doorstep bindings`.
    #[test]
    fn bindings_are_up_to_date() {
        let dir = tempfile_dir();
        let fresh = dir.join("bindings.ts");
        render_bindings(&fresh).unwrap();
        let fresh_text = std::fs::read_to_string(&fresh).unwrap();
        if std::env::var_os("DOORSTEP_WRITE_BINDINGS").is_some() {
            std::fs::write(BINDINGS_PATH, &fresh_text).unwrap();
        }
        let checked_in = std::fs::read_to_string(BINDINGS_PATH).unwrap_or_default();
        assert!(
            checked_in == fresh_text,
            "ui/src/lib/bindings.ts is stale; run `./dev bindings` and commit the result"
        );
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn ui_ready_rejects_bad_names() {
        assert!(ui_ready(String::new()).is_err());
        assert!(ui_ready("x".repeat(201)).is_err());
        assert!(ui_ready("welcome".into()).is_ok());
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("doorstep-bindings-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
