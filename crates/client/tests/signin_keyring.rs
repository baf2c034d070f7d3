//! "Stay signed in" with the real OS keyring (the Secret Service on Linux): the session survives
//! a new `SessionStore` (as after a restart), and signing out removes it from the keyring.
//!
//! Like `os_keyring.rs`: required under `./dev test` (`DOORSTEP_REQUIRE_KEYRING=1`), skipped
//! with a message on a machine without a session bus.

#![cfg(target_os = "linux")]

use std::sync::Arc;

use doorstep_client::signin::{AccessToken, Identity, Session, SessionStore};
use doorstep_client::vault::{OsKeyring, SecretStore};
use zeroize::Zeroizing;

fn keyring_session_available() -> bool {
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some() {
        return true;
    }
    assert!(
        std::env::var_os("DOORSTEP_REQUIRE_KEYRING").is_none(),
        "DOORSTEP_REQUIRE_KEYRING is set but there is no D-Bus session (run through scripts/with-keyring.sh)"
    );
    eprintln!("skipped: no D-Bus session bus, so no Secret Service (./dev test provides one)");
    false
}

#[test]
fn a_remembered_session_survives_a_restart_and_sign_out_removes_it() {
    if !keyring_session_available() {
        return;
    }
    let keyring: Arc<dyn SecretStore> =
        Arc::new(OsKeyring::with_service("org.doorstep.client.test-signin").unwrap());
    let account = format!("signin-session-test-{}", std::process::id());
    let now = doorstep_client::signin::unix_now();
    let session = Session::new(
        Identity {
            issuer: "https://id.example.org".into(),
            subject: "pairwise-1".into(),
            individual_id: Some("4918273645".into()),
            name: None,
            birthdate: None,
            phone_number: None,
            acr: None,
            auth_time: Some(now),
        },
        AccessToken::new(Zeroizing::new("keyring-access-token".into())),
        now + 600,
    );
    SessionStore::with_account(keyring.clone(), &account)
        .set(session, true)
        .unwrap();

    let after_restart = SessionStore::with_account(keyring.clone(), &account);
    let restored = after_restart.restore(now).unwrap().expect("remembered");
    assert_eq!(restored.access_token().secret(), "keyring-access-token");
    assert_eq!(
        restored.identity.individual_id.as_deref(),
        Some("4918273645")
    );

    after_restart.sign_out().unwrap();
    assert!(keyring.load_secret(&account).unwrap().is_none());
}
