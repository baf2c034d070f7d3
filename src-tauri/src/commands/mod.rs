//! IPC commands, one module per feature. Each command is declared once, in its module, and
//! registered once, in [`specta_builder`]. Their TypeScript bindings (`ui/src/lib/bindings.ts`)
//! are generated from these signatures; the test below fails when the checked-in file is stale.

mod afresh;
mod agent;
mod alerts;
mod builder;
mod device;
mod documents;
mod finance;
mod household;
mod info;
mod liveness;
mod me;
mod notifications;
mod programmes;
mod registration;
mod review;
mod session;
mod staff;
mod sync;
mod updates;

// The registration macro names each command (and the helper items tauri generates beside it)
// unqualified, so every module's commands are in scope here.
pub use afresh::*;
pub use agent::*;
pub use alerts::*;
pub use builder::*;
pub use device::*;
pub use documents::*;
pub use finance::*;
pub use household::*;
pub use info::*;
pub use liveness::*;
pub use me::*;
pub use notifications::*;
pub use programmes::*;
pub use registration::*;
pub use review::*;
pub use session::*;
pub use staff::*;
pub use sync::*;
pub use updates::*;

use crate::updates::UpdateStatusChanged;
use crate::SyncStatusChanged;

/// All commands, registered once: used both to serve IPC and to generate the TypeScript bindings.
pub fn specta_builder() -> tauri_specta::Builder<tauri::Wry> {
    tauri_specta::Builder::<tauri::Wry>::new()
        .commands(tauri_specta::collect_commands![
            startup_problem,
            app_info,
            support_details,
            update_status,
            check_for_update,
            install_update,
            operator_exit,
            registry_status,
            ui_ready,
            session,
            sign_in,
            choose_passphrase,
            unlock,
            start_afresh_preview,
            start_afresh,
            sign_out,
            sync_now,
            sync_status,
            home,
            save_my_details,
            check_liveness,
            household,
            create_household,
            add_member,
            edit_member,
            remove_member,
            change_head,
            people,
            person_details,
            save_person_details,
            act_for,
            acting_for,
            registrations,
            start_registration,
            registration,
            registration_areas,
            save_registration,
            answer_duplicate,
            finish_registration,
            remove_registration_document,
            discard_registration,
            day_summary,
            duplicate_notices,
            answer_notice,
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
            alert_settings,
            set_alerts,
            documents,
            begin_upload,
            finish_upload,
            cancel_upload,
            delete_document,
            staff_directory,
            grant_staff,
            change_staff,
            revoke_staff,
            review_queue,
            review_programmes,
            review_case,
            decide_document,
            decide_account,
            decide_application,
            announce,
            messages_sent,
            admin_programmes,
            save_programme,
            form_design,
            save_form_design,
            discard_form_design,
            import_form,
            export_form,
            publish_form
        ])
        .events(tauri_specta::collect_events![
            SyncStatusChanged,
            UpdateStatusChanged,
            OpenScreen
        ])
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
                .header("// Generated from src-tauri/src/commands/ by `./dev bindings`. Do not edit.\n// @ts-nocheck")
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
