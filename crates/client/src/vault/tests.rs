//! Vault tests on real files with real crypto. (Crash safety and the OS keyring have their own
//! integration tests in `crates/client/tests/`, as they need separate processes.)

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;
use serde_json::json;
use uuid::Uuid;

use super::*;

const FAST: KdfParams = KdfParams::FAST_INSECURE_FOR_TESTS;
const PASS: &str = "sunflower-42";

/// A keyring double that keeps keys in memory, shared between vault instances like a real one.
#[derive(Default)]
struct MemoryKeyStore(Mutex<HashMap<String, SecretKey>>);

impl KeyStore for MemoryKeyStore {
    fn load(&self, p: &str) -> Result<Option<SecretKey>, KeyStoreError> {
        Ok(self.0.lock().unwrap().get(p).cloned())
    }
    fn store(&self, p: &str, key: &SecretKey) -> Result<(), KeyStoreError> {
        self.0.lock().unwrap().insert(p.to_owned(), key.clone());
        Ok(())
    }
    fn remove(&self, p: &str) -> Result<(), KeyStoreError> {
        self.0.lock().unwrap().remove(p);
        Ok(())
    }
}

/// A vault without a keyring in a fresh temp folder, with one new partition.
fn fresh_partition() -> (tempfile::TempDir, Vault, Partition) {
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::open(dir.path(), Arc::new(NoKeyStore)).unwrap();
    let (partition, _) = vault.create_partition(PASS, FAST).unwrap();
    (dir, vault, partition)
}

fn person(name: &str) -> Change {
    Change {
        kind: "individual".into(),
        id: Uuid::now_v7(),
        op: Op::Create,
        body: json!({ "given_name": name, "family_name": "Odhiambo" }),
        actor: "test".into(),
    }
}

#[test]
fn create_close_reopen_with_keyring_and_with_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    let keys = Arc::new(MemoryKeyStore::default());
    let vault = Vault::open(dir.path(), keys.clone()).unwrap();
    let (p, outcome) = vault.create_partition(PASS, FAST).unwrap();
    assert_eq!(outcome, KeyringOutcome::Stored);
    let change = person("Amina");
    p.apply(&change).unwrap();
    let id = p.id().to_owned();
    drop(p);
    drop(vault);

    let vault = Vault::open(dir.path(), keys).unwrap();
    assert_eq!(vault.partitions().unwrap(), vec![id.clone()]);
    let p = vault.unlock_with_keystore(&id).unwrap();
    assert_eq!(
        p.record("individual", change.id).unwrap().unwrap().body["given_name"],
        "Amina"
    );
    drop(p);
    let p = vault.unlock_with_passphrase(&id, PASS).unwrap();
    assert_eq!(p.records("individual").unwrap().len(), 1);
}

#[test]
fn wrong_passphrase_and_wrong_key_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let keys = Arc::new(MemoryKeyStore::default());
    let vault = Vault::open(dir.path(), keys.clone()).unwrap();
    let (p, _) = vault.create_partition(PASS, FAST).unwrap();
    let id = p.id().to_owned();
    drop(p);

    let err = vault
        .unlock_with_passphrase(&id, "not-it-at-all")
        .err()
        .unwrap();
    assert!(
        matches!(
            err,
            VaultError::WrongPassphrase {
                failed_attempts: 1,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("not right"));
    // The counter is on disk: a restart does not reset it.
    let err = Vault::open(dir.path(), keys.clone())
        .unwrap()
        .unlock_with_passphrase(&id, "nope-nope")
        .err()
        .unwrap();
    assert!(
        matches!(
            err,
            VaultError::WrongPassphrase {
                failed_attempts: 2,
                ..
            }
        ),
        "{err}"
    );
    // The right one still works and resets the counter.
    vault.unlock_with_passphrase(&id, PASS).unwrap();

    // A keyring holding some other key: refused, nothing damaged.
    keys.store(&id, &SecretKey::generate()).unwrap();
    assert!(matches!(
        vault.unlock_with_keystore(&id),
        Err(VaultError::WrongKey)
    ));
    vault.unlock_with_passphrase(&id, PASS).unwrap();

    assert!(matches!(
        vault.unlock_with_passphrase("../../etc", PASS),
        Err(VaultError::UnknownPartition(_))
    ));
    assert!(matches!(
        vault.create_partition("12345", FAST),
        Err(VaultError::PassphraseTooShort)
    ));
}

#[test]
fn changing_the_passphrase_keeps_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::open(dir.path(), Arc::new(NoKeyStore)).unwrap();
    let (p, outcome) = vault.create_partition(PASS, FAST).unwrap();
    assert_eq!(
        outcome,
        KeyringOutcome::PassphraseOnly,
        "no keyring: passphrase only"
    );
    let change = person("Baraka");
    p.apply(&change).unwrap();
    let id = p.id().to_owned();
    drop(p);
    assert!(matches!(
        vault.unlock_with_keystore(&id),
        Err(VaultError::NotInKeyStore)
    ));

    vault.change_passphrase(&id, PASS, "moonflower-7").unwrap();
    assert!(matches!(
        vault.unlock_with_passphrase(&id, PASS),
        Err(VaultError::WrongPassphrase { .. })
    ));
    let p = vault.unlock_with_passphrase(&id, "moonflower-7").unwrap();
    assert!(p.record("individual", change.id).unwrap().is_some());
}

/// Build a partition database at schema `version` with one record in it, the way an older app
/// would have left it.
fn old_partition(vault_root: &Path, version: u32) -> (String, SecretKey) {
    let id = Uuid::now_v7().to_string();
    let dir = vault_root.join("partitions").join(&id);
    atomic::create_private_dir(&dir).unwrap();
    let key = SecretKey::generate();
    let mut conn = Connection::open(dir.join(partition::DB_FILE)).unwrap();
    conn.execute_batch(&format!(
        "PRAGMA key = \"{}\";",
        key.sqlcipher_literal().as_str()
    ))
    .unwrap();
    migrations::migrate_to(&mut conn, version).unwrap();
    if version >= 1 {
        conn.execute(
            "INSERT INTO records (kind, id, body, rev, created_at, updated_at) VALUES ('individual', ?1, '{\"given_name\":\"Old\"}', 3, 't', 't')",
            [Uuid::now_v7().to_string()],
        )
        .unwrap();
    }
    KeySlot::seal(&id, &key, PASS, FAST)
        .unwrap()
        .save(&dir.join("keyslot.json"))
        .unwrap();
    (id, key)
}

#[test]
fn migrates_up_from_every_earlier_schema_version() {
    for version in 0..migrations::LATEST {
        let dir = tempfile::tempdir().unwrap();
        let (id, _) = old_partition(dir.path(), version);
        let vault = Vault::open(dir.path(), Arc::new(NoKeyStore)).unwrap();
        let p = vault.unlock_with_passphrase(&id, PASS).unwrap();
        let records = p.records("individual").unwrap();
        assert_eq!(records.len(), usize::from(version >= 1), "from v{version}");
        // Tables of the newest schema work.
        p.save_draft("profile", &json!({"x": 1})).unwrap();
        p.store_document(
            &NewDocument {
                kind: "other".into(),
                file_name: "a.txt".into(),
                record_id: None,
                actor: "t".into(),
                consent: None,
            },
            &b"hello"[..],
        )
        .unwrap();
        p.integrity_check().unwrap();
    }
}

#[test]
fn newer_schema_is_refused_and_not_touched() {
    let dir = tempfile::tempdir().unwrap();
    let (id, key) = old_partition(dir.path(), migrations::LATEST);
    let db_path = dir
        .path()
        .join("partitions")
        .join(&id)
        .join(partition::DB_FILE);
    {
        let conn = Connection::open(&db_path).unwrap();
        conn.execute_batch(&format!(
            "PRAGMA key = \"{}\";",
            key.sqlcipher_literal().as_str()
        ))
        .unwrap();
        conn.pragma_update(None, "user_version", migrations::LATEST + 1)
            .unwrap();
    }
    let vault = Vault::open(dir.path(), Arc::new(NoKeyStore)).unwrap();
    let err = vault.unlock_with_passphrase(&id, PASS).err().unwrap();
    assert!(matches!(err, VaultError::SchemaTooNew { .. }), "{err}");
    assert!(err.to_string().contains("update the app"));
    let conn = Connection::open(&db_path).unwrap();
    conn.execute_batch(&format!(
        "PRAGMA key = \"{}\";",
        key.sqlcipher_literal().as_str()
    ))
    .unwrap();
    let v: u32 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, migrations::LATEST + 1);
}

/// Every file under `root`, read whole.
fn all_files(root: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push((path.clone(), std::fs::read(&path).unwrap()));
            }
        }
    }
    out
}

#[test]
fn no_plaintext_anywhere_on_disk() {
    const MARKER: &str = "ZEBRA-MARKER-7731";
    let (dir, vault, p) = fresh_partition();
    for i in 0..50 {
        let mut c = person(&format!("{MARKER}-{i}"));
        c.body["notes"] = json!(MARKER.repeat(20));
        p.apply(&c).unwrap();
    }
    p.save_draft("form:child-benefit", &json!({ "childGivenName": MARKER }))
        .unwrap();
    let doc: Vec<u8> = MARKER.repeat(40_000).into_bytes(); // ~680 KB, many chunks
    let info = p
        .store_document(
            &NewDocument {
                kind: "id_card".into(),
                file_name: format!("{MARKER}.txt"),
                record_id: None,
                actor: "t".into(),
                consent: None,
            },
            &doc[..],
        )
        .unwrap();
    let mut back = Vec::new();
    p.open_document(info.id)
        .unwrap()
        .read_to_end(&mut back)
        .unwrap();
    assert!(back == doc);

    // Scan while open (WAL and shared-memory files present), then again after closing.
    assert_no_marker(dir.path(), MARKER, "while open");
    drop(p);
    drop(vault);
    assert_no_marker(dir.path(), MARKER, "after closing");
}

fn assert_no_marker(root: &Path, marker: &str, stage: &str) {
    let files = all_files(root);
    assert!(
        files.len() >= 3,
        "expected database, key slot and document files, found {}",
        files.len()
    );
    for (path, bytes) in &files {
        let hit = bytes.windows(marker.len()).any(|w| w == marker.as_bytes());
        assert!(
            !hit,
            "plaintext marker found in {} ({stage})",
            path.display()
        );
        assert!(
            !bytes.starts_with(b"SQLite format 3\0"),
            "{} is an unencrypted SQLite file",
            path.display()
        );
    }
}

#[test]
fn outbox_is_written_with_the_change_and_ordered() {
    let (_dir, _vault, p) = fresh_partition();
    let mut c = person("Chao");
    let m1 = p.apply(&c).unwrap();
    c.op = Op::Update;
    c.body = json!({ "given_name": "Chao", "family_name": "Lin", "phone": "+254712345678" });
    let m2 = p.apply(&c).unwrap();
    c.op = Op::Delete;
    let m3 = p.apply(&c).unwrap();

    let outbox = p.outbox().unwrap();
    assert_eq!(
        outbox.iter().map(|e| e.mutation_id).collect::<Vec<_>>(),
        vec![m1, m2, m3]
    );
    assert_eq!(
        outbox.iter().map(|e| e.op).collect::<Vec<_>>(),
        vec![Op::Create, Op::Update, Op::Delete]
    );
    assert_eq!(
        outbox[1].changes,
        json!({
            "set": { "family_name": "Lin", "phone": "+254712345678" },
            "unset": [],
            "base": { "family_name": "Odhiambo" }
        }),
        "the change set carries the values it replaced, for the registry's merge"
    );
    assert!(
        p.records("individual").unwrap().is_empty(),
        "deleted records are not listed"
    );
    assert!(
        p.record("individual", c.id)
            .unwrap()
            .unwrap()
            .deleted_at
            .is_some(),
        "soft delete keeps the row"
    );

    // Bad input changes nothing.
    let before = p.outbox().unwrap().len();
    let mut bad = person("x");
    bad.body = json!(["not", "an", "object"]);
    assert!(matches!(p.apply(&bad), Err(VaultError::InvalidInput(_))));
    bad.kind = "Individual; DROP TABLE records".into();
    assert!(matches!(p.apply(&bad), Err(VaultError::InvalidInput(_))));
    let mut not_v7 = person("z");
    not_v7.id = Uuid::from_u128(0x0192_f000_0000_4000_8000_0000_0000_0001); // a version-4 id
    assert!(matches!(p.apply(&not_v7), Err(VaultError::InvalidInput(_))));
    let mut missing = person("y");
    missing.op = Op::Update;
    assert!(matches!(p.apply(&missing), Err(VaultError::NotFound(_))));
    assert_eq!(p.outbox().unwrap().len(), before);
}

#[test]
fn domain_records_are_validated_and_round_trip() {
    use doorstep_domain::ids::{ActorId, RecordId};
    use doorstep_domain::individual::Individual;
    use doorstep_domain::record::RecordMeta;

    let (_dir, _vault, p) = fresh_partition();
    let meta = RecordMeta::new(
        RecordId::from_uuid(Uuid::now_v7()),
        time::OffsetDateTime::now_utc(),
        ActorId::from("agent-7"),
    );
    let mut amina: Individual = serde_json::from_value(json!({
        "id": meta.id, "created_at": "2026-11-29T10:00:00Z", "updated_at": "2026-11-29T10:00:00Z",
        "created_by": "agent-7", "given_name": "Amina", "family_name": "Odhiambo"
    }))
    .expect("minimal individual deserialises");
    amina.meta = meta;
    p.apply(&Change::of(&amina, Op::Create, "agent-7").unwrap())
        .unwrap();
    let back: Individual = p.get(*amina.meta.id.as_uuid()).unwrap().unwrap();
    assert_eq!(back, amina);

    // Nameless: both names empty is refused (one of them alone is fine: some people have one name).
    amina.given_name = String::new();
    amina.family_name = " ".into();
    let err = Change::of(&amina, Op::Update, "agent-7").unwrap_err();
    assert!(matches!(err, VaultError::Invalid(_)), "{err}");
    assert!(err.to_string().contains("given_name"), "{err}");
}

#[test]
fn audit_log_chains_and_detects_tampering() {
    let (_dir, _vault, p) = fresh_partition();
    for i in 0..5 {
        p.apply(&person(&format!("P{i}"))).unwrap();
    }
    assert_eq!(p.verify_audit_log().unwrap().entries, 5);
    {
        let conn = p.conn();
        let err = conn
            .execute("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2", [])
            .unwrap_err();
        assert!(err.to_string().contains("append-only"), "{err}");
        assert!(conn
            .execute("DELETE FROM audit_log WHERE seq = 5", [])
            .is_err());
        // Someone with the key who drops the guard still cannot rewrite history unnoticed.
        conn.execute_batch("DROP TRIGGER audit_log_no_update; UPDATE audit_log SET actor = 'mallory' WHERE seq = 2;").unwrap();
    }
    let err = p.verify_audit_log().unwrap_err();
    assert!(
        matches!(err, VaultError::AuditBroken { seq: 2, .. }),
        "{err}"
    );
}

#[test]
fn wiping_one_person_leaves_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let keys = Arc::new(MemoryKeyStore::default());
    let vault = Vault::open(dir.path(), keys.clone()).unwrap();
    let (a, _) = vault.create_partition(PASS, FAST).unwrap();
    let (b, _) = vault.create_partition("other-pass-9", FAST).unwrap();
    a.apply(&person("A")).unwrap();
    let kept = person("B");
    b.apply(&kept).unwrap();
    b.store_document(
        &NewDocument {
            kind: "photo".into(),
            file_name: "b.jpg".into(),
            record_id: None,
            actor: "t".into(),
            consent: None,
        },
        &b"\xFF\xD8\xFFjpeg"[..],
    )
    .unwrap();
    let (a_id, b_id) = (a.id().to_owned(), b.id().to_owned());
    drop((a, b));

    vault.wipe(&a_id).unwrap();
    assert_eq!(vault.partitions().unwrap(), vec![b_id.clone()]);
    assert!(
        keys.load(&a_id).unwrap().is_none(),
        "key still in the keyring"
    );
    assert!(!dir.path().join("partitions").join(&a_id).exists());
    assert!(matches!(
        vault.unlock_with_passphrase(&a_id, PASS),
        Err(VaultError::UnknownPartition(_))
    ));
    let b = vault.unlock_with_keystore(&b_id).unwrap();
    assert!(b.record("individual", kept.id).unwrap().is_some());
}

#[test]
fn documents_record_sniffed_type_hash_and_size() {
    let (_dir, _vault, p) = fresh_partition();
    let pdf = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n".to_vec();
    let store = |record_id| {
        p.store_document(
            &NewDocument {
                kind: "income_certificate".into(),
                file_name: "scan.jpg".into(),
                record_id,
                actor: "t".into(),
                consent: None,
            },
            &pdf[..],
        )
        .unwrap()
    };
    // Not attached to a record: kept on the device only, nothing queued for the registry.
    let loose = store(None);
    assert_eq!(
        loose.mime_type, "application/pdf",
        "type comes from the content, not the name"
    );
    assert_eq!(loose.size_bytes, pdf.len() as u64);
    assert_eq!(loose.sha256.len(), 64);
    assert_eq!(p.document(loose.id).unwrap().unwrap(), loose);
    assert!(p.outbox().unwrap().is_empty());

    // Attached: a domain Document record goes to the outbox; its bytes wait for an upload.
    let person = uuid::Uuid::now_v7();
    let info = store(Some(person));
    let outbox = p.outbox().unwrap();
    let entry = outbox.last().unwrap();
    assert_eq!(entry.kind, "document");
    let set = &entry.changes["set"];
    assert!(
        set.get("file_key").is_none(),
        "file key must never leave the device"
    );
    assert_eq!(set["linked_record"], person.to_string());
    assert_eq!(set["sha256"], info.sha256);
    assert_eq!(set["created_by"], "t");
    let record = p.record("document", info.id).unwrap().unwrap();
    assert_eq!(record.body["file_name"], "scan.jpg");
}

#[test]
fn possible_duplicates_are_kept_with_the_answer_until_dismissed() {
    use doorstep_domain::duplicates::{Match, Reason};
    use doorstep_domain::sync::MutationResult;

    let (_dir, _vault, p) = fresh_partition();
    let c = person("Amina");
    let first = p.apply(&c).unwrap();
    let other = Uuid::now_v7();
    let applied = |mutation_id: Uuid, score: u8| MutationResult::Applied {
        mutation_id,
        rev: 1,
        merged: false,
        record: json!({ "id": c.id.to_string(), "given_name": "Amina", "family_name": "Odhiambo" }),
        possible_duplicates: vec![Match {
            id: other.into(),
            score,
            reasons: vec![Reason::SameBirthdate],
        }],
    };
    let tally = p.record_push_results(&[applied(first, 90)]).unwrap();
    assert_eq!((tally.applied, tally.notices), (1, 1));
    // The same answer again (after a crash between recording and the next push): kept once.
    p.record_push_results(&[applied(first, 90)]).unwrap();
    let open = p.notices(false).unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].kind, POSSIBLE_DUPLICATE);
    assert_eq!(
        (open[0].record_kind.as_str(), open[0].record_id),
        ("individual", c.id)
    );
    assert_eq!(open[0].matches[0].id.as_uuid(), &other);

    // A later check of the same person replaces the open notice.
    let mut edit = c.clone();
    edit.op = Op::Update;
    edit.body["addl_name"] = json!("Wanjiru");
    let second = p.apply(&edit).unwrap();
    p.record_push_results(&[applied(second, 95)]).unwrap();
    let open = p.notices(false).unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].matches[0].score, 95);
    assert_eq!(p.notices(true).unwrap().len(), 2);

    p.dismiss_notice(open[0].id).unwrap();
    assert!(p.notices(false).unwrap().is_empty());
    assert!(matches!(
        p.dismiss_notice(9_999),
        Err(VaultError::NotFound(_))
    ));
}

/// The flake seen in the app system test (`rejected: 2`, "A change may not set created_by"): an
/// edit made on a copy read before a sync adopted the registry's version of the record sent the
/// registry-owned fields of the old copy back as changes. They now keep their stored values.
#[test]
fn an_edit_of_a_stale_copy_never_changes_what_the_registry_owns() {
    let (_dir, _vault, p) = fresh_partition();
    let id = Uuid::now_v7();
    let local = json!({
        "id": id, "created_at": "2026-11-01T08:30:00Z", "updated_at": "2026-11-01T08:30:00Z",
        "created_by": "person-1", "given_name": "Amina", "family_name": "Otieno",
    });
    p.apply(&Change {
        kind: "individual".into(),
        id,
        op: Op::Create,
        body: local.clone(),
        actor: "person-1".into(),
    })
    .unwrap();
    // The create is sent; the registry answers with its version: its own created_by, a rev.
    let mut theirs = local.clone();
    theirs["created_by"] = json!("citizen:person-1");
    theirs["rev"] = json!(1);
    let create = p.outbox().unwrap().remove(0);
    p.record_push_results(&[doorstep_domain::sync::MutationResult::Applied {
        mutation_id: create.mutation_id,
        rev: 1,
        merged: false,
        possible_duplicates: Vec::new(),
        record: theirs,
    }])
    .unwrap();
    assert_eq!(
        p.record("individual", id).unwrap().unwrap().body["created_by"],
        "citizen:person-1"
    );
    // A screen that read the record before that answer saves its edit of that copy.
    let mut stale = local;
    stale["occupation"] = json!("farmer");
    p.apply(&Change {
        kind: "individual".into(),
        id,
        op: Op::Update,
        body: stale,
        actor: "person-1".into(),
    })
    .unwrap();
    let edit = p.outbox().unwrap().pop().unwrap();
    let set: Vec<&String> = edit.changes["set"].as_object().unwrap().keys().collect();
    assert_eq!(set, ["occupation"], "{:?}", edit.changes);
    let stored = p.record("individual", id).unwrap().unwrap().body;
    assert_eq!(stored["created_by"], "citizen:person-1");
    assert_eq!(stored["occupation"], "farmer");
}
