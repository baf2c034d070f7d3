//! The vault with the real OS keyring (the Secret Service on Linux), across processes.
//!
//! `./dev test` runs the Rust tests inside a private D-Bus session with an unlocked GNOME Keyring
//! (`scripts/with-keyring.sh`) and sets `DOORSTEP_REQUIRE_KEYRING=1`, so there these tests must
//! pass. Run bare (`cargo test`) on a machine without a session bus they say why they skip.

#![cfg(target_os = "linux")]

use std::process::Command;
use std::sync::Arc;

use doorstep_client::vault::{Change, KdfParams, KeyringOutcome, NoKeyStore, Op, OsKeyring, Vault};
use serde_json::json;
use uuid::Uuid;

const PASS: &str = "keyring-test-pass";
const ENV_DIR: &str = "DOORSTEP_KEYRING_TEST_VAULT";

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

/// Helper process: create a partition whose key goes to the OS keyring, write one record, print
/// `PARTITION <id> RECORD <id> KEYRING <outcome>`.
#[test]
#[ignore = "helper process for the keyring tests; not a test on its own"]
fn keyring_child_create() {
    let dir = std::env::var(ENV_DIR).expect("started by a keyring test");
    let keystore: Arc<dyn doorstep_client::vault::KeyStore> = match OsKeyring::new() {
        Ok(k) => Arc::new(k),
        Err(_) => Arc::new(NoKeyStore),
    };
    let vault = Vault::open(dir.as_ref(), keystore).unwrap();
    let (p, outcome) = vault
        .create_partition(PASS, KdfParams::FAST_INSECURE_FOR_TESTS)
        .unwrap();
    let record = Uuid::now_v7();
    p.apply(&Change {
        kind: "individual".into(),
        id: record,
        op: Op::Create,
        body: json!({"given_name": "K"}),
        actor: "t".into(),
    })
    .unwrap();
    println!("PARTITION {} RECORD {record} KEYRING {outcome:?}", p.id());
}

fn run_child(dir: &std::path::Path, bus: Option<&str>) -> (String, Uuid, String) {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--ignored",
        "--exact",
        "keyring_child_create",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(ENV_DIR, dir);
    if let Some(bus) = bus {
        cmd.env("DBUS_SESSION_BUS_ADDRESS", bus);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "child failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    // libtest prints "test keyring_child_create ... " on the same line, before the result.
    let line = stdout
        .lines()
        .find_map(|l| l.find("PARTITION ").map(|at| &l[at..]))
        .unwrap_or_else(|| panic!("no result line in {stdout}"));
    let parts: Vec<&str> = line.split_whitespace().collect();
    (
        parts[1].to_owned(),
        parts[3].parse().unwrap(),
        parts[5].to_owned(),
    )
}

#[test]
fn key_stored_by_one_process_opens_the_vault_in_another() {
    if !keyring_session_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (partition, record, outcome) = run_child(dir.path(), None);
    assert_eq!(
        outcome,
        format!("{:?}", KeyringOutcome::Stored),
        "the Secret Service did not take the key"
    );

    let keyring = Arc::new(OsKeyring::new().unwrap());
    let vault = Vault::open(dir.path(), keyring.clone()).unwrap();
    let p = vault
        .unlock_with_keystore(&partition)
        .expect("key from the keyring opens the vault");
    assert!(p.record("individual", record).unwrap().is_some());
    drop(p);

    // Wiping removes the keyring entry too.
    vault.wipe(&partition).unwrap();
    use doorstep_client::vault::KeyStore;
    assert!(
        keyring.load(&partition).unwrap().is_none(),
        "keyring entry survived the wipe"
    );
}

#[test]
fn without_a_keyring_the_passphrase_still_opens_the_vault() {
    let dir = tempfile::tempdir().unwrap();
    // A session bus address where nothing listens: no Secret Service.
    let (partition, record, outcome) =
        run_child(dir.path(), Some("unix:path=/nonexistent/doorstep-test-bus"));
    assert_eq!(outcome, format!("{:?}", KeyringOutcome::PassphraseOnly));
    let vault = Vault::open(dir.path(), Arc::new(NoKeyStore)).unwrap();
    let p = vault.unlock_with_passphrase(&partition, PASS).unwrap();
    assert!(p.record("individual", record).unwrap().is_some());
}
