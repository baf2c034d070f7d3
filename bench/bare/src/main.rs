//! The baseline Doorstep is measured against: the same toolkit (Tauri 2 + WebKitGTK + Form.io)
//! with no Doorstep code. Prints `doorstep: ui-ready <unix ms>` like the app does, so the
//! benchmark times both the same way.

use std::time::{SystemTime, UNIX_EPOCH};

#[tauri::command]
fn ui_ready() {
    let at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    println!("doorstep: ui-ready {at}");
}

fn main() {
    tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![ui_ready])
        .run(tauri::generate_context!())
        .expect("bare window runs");
}
