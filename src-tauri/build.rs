//! Build script: Tauri's, plus the update key compiled into the binary.

use std::path::Path;

fn main() {
    update_key();
    tauri_build::build()
}

/// The public key every update must be signed with (see src/updates.rs), compiled in as
/// `DOORSTEP_UPDATER_PUBKEY`: the `.pub` file's content (`tauri signer generate` writes it).
///
/// From `DOORSTEP_UPDATER_PUBKEY` (the content) or `DOORSTEP_UPDATER_PUBKEY_FILE` (a path).
/// Without either, a debug build trusts the repository's test key (packaging/updater/, whose
/// private half is public, so that the update tests can sign a version N+1) and a release build
/// carries no key: it never looks for updates. A release build refuses the test key outright.
fn update_key() {
    println!("cargo:rerun-if-env-changed=DOORSTEP_UPDATER_PUBKEY");
    println!("cargo:rerun-if-env-changed=DOORSTEP_UPDATER_PUBKEY_FILE");
    let test_key_file =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../packaging/updater/test-only.key.pub");
    println!("cargo:rerun-if-changed={}", test_key_file.display());
    let read = |path: &Path| {
        std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("cannot read the update key {}: {e}", path.display()))
            .trim()
            .to_owned()
    };
    let release = std::env::var("PROFILE").as_deref() == Ok("release");
    let key = match (
        std::env::var("DOORSTEP_UPDATER_PUBKEY"),
        std::env::var("DOORSTEP_UPDATER_PUBKEY_FILE"),
    ) {
        (Ok(key), _) if !key.trim().is_empty() => key.trim().to_owned(),
        (_, Ok(file)) if !file.trim().is_empty() => read(Path::new(file.trim())),
        _ if release => {
            println!("cargo:warning=this release build carries no update key, so it will never look for updates; set DOORSTEP_UPDATER_PUBKEY_FILE (README, \"Releasing an update\")");
            String::new()
        }
        _ => read(&test_key_file),
    };
    if release && !key.is_empty() && key == read(&test_key_file) {
        panic!("refusing to build a release that trusts the repository's test update key (packaging/updater/test-only.key.pub): its private half is public. Set DOORSTEP_UPDATER_PUBKEY_FILE to the ministry's key.");
    }
    let base64 = |c: char| c.is_ascii_alphanumeric() || "+/=".contains(c);
    if !key.chars().all(base64) {
        panic!("the update key is not the content of a `tauri signer generate` .pub file (one base64 line)");
    }
    println!("cargo:rustc-env=DOORSTEP_UPDATER_PUBKEY={key}");
}
