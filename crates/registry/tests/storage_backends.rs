//! Storage behaviour that must be the same on SQLite and PostgreSQL.

mod common;

use std::sync::Arc;

use common::backends;
use doorstep_domain::RecordKind;
use doorstep_registry::storage::{
    self, CommitError, Expect, IdempotencyClaim, ListQuery, RecordIndex, StorageError, Store,
    Visibility, Write, WriteContext,
};
use serde_json::json;
use uuid::Uuid;

fn ctx(actor: &str) -> WriteContext {
    WriteContext {
        actor: actor.into(),
        on_behalf_of: None,
        at: time::OffsetDateTime::now_utc(),
        request_id: None,
        idempotency: None,
        merged: false,
    }
}

fn group(id: Uuid, expect: Expect, name: &str) -> Write {
    Write {
        kind: RecordKind::Group,
        id,
        expect,
        body: json!({ "id": id.to_string(), "name": name }),
        index: RecordIndex {
            group_id: Some(id),
            area: Some("KE.30".into()),
            search_text: name.to_lowercase(),
            keys: vec![format!("name:{name}")],
            ..RecordIndex::default()
        },
        deleted: false,
        duplicate_check: None,
        outbound: Vec::new(),
    }
}

fn head_of(group: Uuid, member: Uuid) -> Write {
    let id = Uuid::now_v7();
    Write {
        kind: RecordKind::Membership,
        id,
        expect: Expect::Absent,
        body: json!({ "id": id.to_string(), "group_id": group.to_string() }),
        index: RecordIndex {
            owner_id: Some(member),
            group_id: Some(group),
            keys: vec![format!("u:head:{group}")],
            ..RecordIndex::default()
        },
        deleted: false,
        duplicate_check: None,
        outbound: Vec::new(),
    }
}

#[tokio::test]
async fn revisions_are_checked_and_bumped() {
    for backend in backends().await {
        let dir = tempfile::tempdir().unwrap();
        let store = storage::open(dir.path(), &backend.database).await.unwrap();
        let id = Uuid::now_v7();
        let first = store
            .commit(vec![group(id, Expect::Absent, "Otieno")], &ctx("agent:a"))
            .await
            .unwrap();
        assert_eq!(first[0].rev, 1, "{}", backend.name);
        assert_eq!(first[0].body["rev"], 1);

        let again = store
            .commit(vec![group(id, Expect::Absent, "Otieno")], &ctx("agent:a"))
            .await;
        assert!(
            matches!(again, Err(CommitError::Exists { .. })),
            "{}: {again:?}",
            backend.name
        );

        let second = store
            .commit(
                vec![group(id, Expect::Rev(1), "Otieno-Achieng")],
                &ctx("agent:b"),
            )
            .await
            .unwrap();
        assert_eq!(second[0].rev, 2);
        assert_eq!(
            second[0].index.creator, "agent:a",
            "creator survives updates"
        );

        match store
            .commit(
                vec![group(id, Expect::Rev(1), "Lost update")],
                &ctx("agent:c"),
            )
            .await
        {
            Err(CommitError::Stale {
                expected: 1,
                current,
            }) => {
                assert_eq!(current.rev, 2);
                assert_eq!(current.body["name"], "Otieno-Achieng");
            }
            other => panic!("{}: expected stale, got {other:?}", backend.name),
        }
        let missing = store
            .commit(
                vec![group(Uuid::now_v7(), Expect::Rev(1), "x")],
                &ctx("agent:a"),
            )
            .await;
        assert!(
            matches!(missing, Err(CommitError::Missing { .. })),
            "{}",
            backend.name
        );

        let got = store.get(id).await.unwrap().unwrap();
        assert_eq!(
            (got.rev, got.body["name"].as_str()),
            (2, Some("Otieno-Achieng"))
        );
        let trail = store.audit_trail(id).await.unwrap();
        assert_eq!(trail.len(), 2);
        assert_eq!(trail[0].op, "create");
        assert_eq!(trail[0].before_sha256, None);
        assert_eq!(
            trail[1].before_sha256.as_deref(),
            Some(trail[0].after_sha256.as_str())
        );
        assert_eq!(trail[1].actor, "agent:b");
        store.close().await;
    }
}

#[tokio::test]
async fn a_failed_batch_writes_nothing() {
    for backend in backends().await {
        let dir = tempfile::tempdir().unwrap();
        let store = storage::open(dir.path(), &backend.database).await.unwrap();
        let house = Uuid::now_v7();
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        store
            .commit(
                vec![group(house, Expect::Absent, "Wanjiru"), head_of(house, a)],
                &ctx("agent:a"),
            )
            .await
            .unwrap();
        let head_before = store.head_seq().await.unwrap();

        // A second head for the same household, in a batch with an innocent new group.
        let other = Uuid::now_v7();
        let err = store
            .commit(
                vec![group(other, Expect::Absent, "Innocent"), head_of(house, b)],
                &ctx("agent:a"),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(err, CommitError::Duplicate { ref key, .. } if key == &format!("u:head:{house}")),
            "{}: {err:?}",
            backend.name
        );
        assert!(
            store.get(other).await.unwrap().is_none(),
            "{}: half a batch was written",
            backend.name
        );
        assert_eq!(store.head_seq().await.unwrap(), head_before);
        store.close().await;
    }
}

#[tokio::test]
async fn idempotent_commits_apply_once() {
    for backend in backends().await {
        let dir = tempfile::tempdir().unwrap();
        let store = storage::open(dir.path(), &backend.database).await.unwrap();
        let id = Uuid::now_v7();
        let mut c = ctx("citizen:amina");
        c.idempotency = Some(IdempotencyClaim {
            scope: "citizen:amina".into(),
            key: "key-1".into(),
            fingerprint: "f1".into(),
            status: 201,
            response: None,
        });
        store
            .commit(vec![group(id, Expect::Absent, "Amina")], &c)
            .await
            .unwrap();
        match store
            .commit(vec![group(Uuid::now_v7(), Expect::Absent, "Amina")], &c)
            .await
        {
            Err(CommitError::Replay(previous)) => {
                assert_eq!(previous.status, 201);
                assert_eq!(previous.fingerprint, "f1");
                assert_eq!(previous.body["id"], id.to_string());
            }
            other => panic!("{}: expected a replay, got {other:?}", backend.name),
        }
        assert_eq!(store.head_seq().await.unwrap(), 1, "{}", backend.name);
        // Keys are per caller.
        assert!(store
            .idempotent_response("citizen:other", "key-1")
            .await
            .unwrap()
            .is_none());
        store.close().await;
    }
}

#[tokio::test]
async fn lists_page_filter_and_hide_other_areas() {
    for backend in backends().await {
        let dir = tempfile::tempdir().unwrap();
        let store = storage::open(dir.path(), &backend.database).await.unwrap();
        let mut ids = Vec::new();
        for (i, area) in ["KE.30", "KE.30.2", "KE.300", "KE.31"]
            .iter()
            .cycle()
            .take(12)
            .enumerate()
        {
            let id = Uuid::now_v7();
            let mut w = group(id, Expect::Absent, &format!("Household {i}"));
            w.index.area = Some((*area).into());
            store.commit(vec![w], &ctx("agent:a")).await.unwrap();
            ids.push((id, *area));
        }
        let visible: Vec<Uuid> = ids
            .iter()
            .filter(|(_, a)| *a == "KE.30" || *a == "KE.30.2")
            .map(|(id, _)| *id)
            .collect();
        let mut seen = Vec::new();
        let mut query = ListQuery::new(RecordKind::Group, Visibility::Area("KE.30".into()), 4);
        loop {
            let page = store.list(&query).await.unwrap();
            seen.extend(page.iter().map(|r| r.id));
            if page.len() < 4 {
                break;
            }
            query.after = page.last().map(|r| r.id);
        }
        assert_eq!(seen, visible, "{}", backend.name);

        let mut by_key = ListQuery::new(RecordKind::Group, Visibility::All, 10);
        by_key.key = Some("name:Household 3".into());
        assert_eq!(store.list(&by_key).await.unwrap().len(), 1);
        let mut by_text = ListQuery::new(RecordKind::Group, Visibility::All, 50);
        by_text.text = Some("HOUSEHOLD 1".into());
        assert_eq!(store.list(&by_text).await.unwrap().len(), 3, "1, 10, 11");
        store.close().await;
    }
}

/// N writers on two servers commit at once while a reader follows the feed: it must see every
/// change exactly once, in seq order, with no seq missing (the PostgreSQL out-of-order commit
/// hazard).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_change_feed_misses_nothing_under_concurrent_writers() {
    const WRITERS: usize = 8;
    const EACH: usize = 40;
    for backend in backends().await {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = storage::open(dir.path(), &backend.database).await.unwrap();
        // Two servers on one database: the feed stays in order across them too.
        let other: Arc<dyn Store> = storage::open(dir.path(), &backend.database).await.unwrap();
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let store = if w % 2 == 0 {
                    store.clone()
                } else {
                    other.clone()
                };
                tokio::spawn(async move {
                    for i in 0..EACH {
                        let id = Uuid::now_v7();
                        store
                            .commit(
                                vec![group(id, Expect::Absent, &format!("w{w}-{i}"))],
                                &ctx("agent:a"),
                            )
                            .await
                            .unwrap();
                    }
                })
            })
            .collect();
        let reader = {
            let store = store.clone();
            tokio::spawn(async move {
                let mut cursor = 0_u64;
                let mut seen = Vec::new();
                // Bounded: stops once everything arrived, or after many empty polls.
                for _ in 0..100_000 {
                    let page = store
                        .changes_since(cursor, 7, &Visibility::All)
                        .await
                        .unwrap();
                    for r in &page {
                        assert!(r.seq > cursor, "out of order");
                        cursor = r.seq;
                        seen.push(r.seq);
                    }
                    if seen.len() == WRITERS * EACH {
                        break;
                    }
                    if page.is_empty() {
                        tokio::task::yield_now().await;
                    }
                }
                seen
            })
        };
        for w in writers {
            w.await.unwrap();
        }
        let seen = reader.await.unwrap();
        let expected: Vec<u64> = (1..=(WRITERS * EACH) as u64).collect();
        assert_eq!(
            seen, expected,
            "{}: the reader skipped or repeated a change",
            backend.name
        );
        other.close().await;
        store.close().await;
    }
}

#[tokio::test]
async fn the_change_log_is_append_only() {
    for backend in backends().await {
        let dir = tempfile::tempdir().unwrap();
        let store = storage::open(dir.path(), &backend.database).await.unwrap();
        store
            .commit(
                vec![group(Uuid::now_v7(), Expect::Absent, "x")],
                &ctx("agent:a"),
            )
            .await
            .unwrap();
        store.close().await;
        let refused = match &backend.database {
            storage::DatabaseLocation::EmbeddedSqlite => {
                use sqlx::Connection;
                let path = dir.path().join(storage::sqlite::SQLITE_FILE);
                let mut conn =
                    sqlx::SqliteConnection::connect(&format!("sqlite:{}", path.display()))
                        .await
                        .unwrap();
                let update = sqlx::query("UPDATE changes SET actor = 'someone else'")
                    .execute(&mut conn)
                    .await;
                let delete = sqlx::query("DELETE FROM changes").execute(&mut conn).await;
                update.is_err() && delete.is_err()
            }
            storage::DatabaseLocation::Postgres(url) => {
                use sqlx::Connection;
                let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
                let update = sqlx::query("UPDATE changes SET actor = 'someone else'")
                    .execute(&mut conn)
                    .await;
                let delete = sqlx::query("DELETE FROM changes").execute(&mut conn).await;
                let truncate = sqlx::query("TRUNCATE changes").execute(&mut conn).await;
                update.is_err() && delete.is_err() && truncate.is_err()
            }
        };
        assert!(
            refused,
            "{}: the audit trail could be rewritten",
            backend.name
        );
    }
}

#[tokio::test]
async fn programmes_of_the_first_schema_are_carried_over() {
    use sqlx::migrate::Migrator;
    use std::borrow::Cow;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(storage::sqlite::SQLITE_FILE);
    {
        use sqlx::Connection;
        let url = format!("sqlite:{}?mode=rwc", path.display());
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        let all = Migrator::new(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../migrations/server/sqlite"
        )))
        .await
        .unwrap();
        let mut first = all;
        first.migrations = Cow::Owned(
            first
                .migrations
                .iter()
                .filter(|m| m.version == 1)
                .cloned()
                .collect(),
        );
        first.run_direct(&mut conn).await.unwrap();
        sqlx::query("INSERT INTO programmes VALUES ('0192f000-0000-7000-8000-0000000000aa', 'pension', 'Pension', '', '2025-01-01T00:00:00Z', '2025-01-01T00:00:00Z')")
            .execute(&mut conn).await.unwrap();
        sqlx::query("INSERT INTO form_definitions VALUES ('0192f000-0000-7000-8000-0000000000aa', 1, '{\"components\": []}', '2025-01-01T00:00:00Z')")
            .execute(&mut conn).await.unwrap();
        conn.close().await.unwrap();
    }
    let store = storage::open(dir.path(), &storage::DatabaseLocation::EmbeddedSqlite)
        .await
        .unwrap();
    let programme = store
        .get("0192f000-0000-7000-8000-0000000000aa".parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(programme.kind, RecordKind::Programme);
    assert_eq!(programme.body["code"], "pension");
    let parsed = doorstep_registry::resources::parse(RecordKind::Programme, programme.body.clone());
    assert!(
        parsed.is_ok(),
        "migrated programme is not a valid record: {parsed:?}"
    );
    let mut forms = ListQuery::new(RecordKind::FormDefinition, Visibility::All, 10);
    forms.parent_id = Some(programme.id);
    let forms = store.list(&forms).await.unwrap();
    assert_eq!(forms.len(), 1);
    let parsed =
        doorstep_registry::resources::parse(RecordKind::FormDefinition, forms[0].body.clone());
    assert!(
        parsed.is_ok(),
        "migrated form is not a valid record: {parsed:?}"
    );
    assert_eq!(store.head_seq().await.unwrap(), 2);
    store.close().await;
}

#[tokio::test]
async fn unreachable_postgres_is_a_clear_error() {
    // A loopback port where nothing listens.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let location = storage::DatabaseLocation::parse(&format!(
        "postgres://reg:hunter2@127.0.0.1:{port}/registry"
    ))
    .unwrap();
    let err = storage::open(dir.path(), &location)
        .await
        .err()
        .expect("must fail");
    let text = err.to_string();
    assert!(text.contains("cannot open the database"), "{text}");
    assert!(
        !text.contains("hunter2"),
        "password leaked into the error: {text}"
    );
}

#[tokio::test]
async fn newer_postgres_schema_is_refused_and_left_alone() {
    use sqlx::Connection;
    for backend in backends().await {
        let storage::DatabaseLocation::Postgres(url) = &backend.database else {
            continue;
        };
        let dir = tempfile::tempdir().unwrap();
        storage::open(dir.path(), &backend.database)
            .await
            .unwrap()
            .close()
            .await;
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (9999, 'from the future', TRUE, '\\x00', 0)",
        )
        .execute(&mut conn)
        .await
        .unwrap();
        let err = storage::open(dir.path(), &backend.database)
            .await
            .err()
            .expect("must refuse");
        assert!(
            matches!(err, StorageError::SchemaTooNew { found: 9999, .. }),
            "{err}"
        );
        let still: i64 = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(still, 9999, "the newer schema was touched");
    }
}

/// Migration 4: sync results stored under the one shared `sync` scope move to the scope of the
/// actor who made the change, so a device that retries after the upgrade still gets its answer
/// and nobody else does.
#[tokio::test]
async fn stored_sync_results_move_to_their_callers_scope() {
    use sqlx::migrate::Migrator;
    use std::borrow::Cow;
    let until_3 = |backend: &'static str| async move {
        let mut m = Migrator::new(std::path::Path::new(&format!(
            "{}/../../migrations/server/{backend}",
            env!("CARGO_MANIFEST_DIR")
        )))
        .await
        .unwrap();
        m.migrations = Cow::Owned(
            m.migrations
                .iter()
                .filter(|m| m.version <= 3)
                .cloned()
                .collect(),
        );
        m
    };
    let rows = [
        "INSERT INTO changes (seq, at, record_id, kind, rev, op, actor, after_sha256, request_id) \
         VALUES (1, '2026-01-01T00:00:00Z', '0192f000-0000-7000-8000-0000000000aa', 'individual', 1, 'create', 'agent:wanjiru', 'x', '0192f000-0000-7000-8000-0000000000b1')",
        "INSERT INTO idempotency_keys (scope, key, fingerprint, status, response, created_at) \
         VALUES ('sync', '0192f000-0000-7000-8000-0000000000b1', 'f', 200, '{\"applied\": true}', '2026-01-01T00:00:00Z')",
        "INSERT INTO idempotency_keys (scope, key, fingerprint, status, response, created_at) \
         VALUES ('citizen:amina', 'rest-key', 'f', 201, '{}', '2026-01-01T00:00:00Z')",
    ];
    for backend in backends().await {
        let dir = tempfile::tempdir().unwrap();
        match &backend.database {
            storage::DatabaseLocation::EmbeddedSqlite => {
                use sqlx::Connection;
                let path = dir.path().join(storage::sqlite::SQLITE_FILE);
                let url = format!("sqlite:{}?mode=rwc", path.display());
                let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
                until_3("sqlite").await.run_direct(&mut conn).await.unwrap();
                for row in rows {
                    sqlx::query(row).execute(&mut conn).await.unwrap();
                }
                conn.close().await.unwrap();
            }
            storage::DatabaseLocation::Postgres(url) => {
                use sqlx::Connection;
                let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
                until_3("postgres")
                    .await
                    .run_direct(&mut conn)
                    .await
                    .unwrap();
                for row in rows {
                    sqlx::query(row).execute(&mut conn).await.unwrap();
                }
                conn.close().await.unwrap();
            }
        }
        let store = storage::open(dir.path(), &backend.database).await.unwrap();
        let key = "0192f000-0000-7000-8000-0000000000b1";
        assert!(
            store
                .idempotent_response("sync", key)
                .await
                .unwrap()
                .is_none(),
            "{}",
            backend.name
        );
        let moved = store
            .idempotent_response("sync:agent:wanjiru", key)
            .await
            .unwrap()
            .expect("moved to the actor's scope");
        assert_eq!(moved.body, json!({"applied": true}));
        assert!(store
            .idempotent_response("citizen:amina", "rest-key")
            .await
            .unwrap()
            .is_some());
        store.close().await;
    }
}

/// Writers that arrive together are committed in one transaction (group commit): each must
/// still get its own outcome, and a refused one must leave no trace, whatever its neighbours did.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writes_committed_together_keep_their_own_outcomes() {
    const EACH_KIND: usize = 8;
    for backend in backends().await {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = storage::open(dir.path(), &backend.database).await.unwrap();
        let house = Uuid::now_v7();
        let stale = Uuid::now_v7();
        store
            .commit(
                vec![
                    group(house, Expect::Absent, "House"),
                    group(stale, Expect::Absent, "Stale"),
                ],
                &ctx("agent:a"),
            )
            .await
            .unwrap();
        let head_before = store.head_seq().await.unwrap();

        // Per round: a new group (succeeds), an edit on a revision long gone (stale), and two
        // writes of which the second claims the household's head seat: the first of those wins,
        // the others are refused with nothing of them written.
        // Half the writes go through a second server on the same database: its groups race
        // this one's, and the feed's head decides who writes first.
        let other: Arc<dyn Store> = storage::open(dir.path(), &backend.database).await.unwrap();
        let start = Arc::new(tokio::sync::Barrier::new(EACH_KIND * 3));
        let mut tasks = Vec::new();
        for i in 0..EACH_KIND {
            let fresh = Uuid::now_v7();
            let innocent = Uuid::now_v7();
            for job in 0..3 {
                let server = if (i + job) % 2 == 0 { &store } else { &other };
                let (store, start) = (server.clone(), start.clone());
                tasks.push(tokio::spawn(async move {
                    let writes = match job {
                        0 => vec![group(fresh, Expect::Absent, &format!("new-{i}"))],
                        1 => vec![group(stale, Expect::Rev(7), "late")],
                        _ => vec![
                            group(innocent, Expect::Absent, &format!("innocent-{i}")),
                            head_of(house, Uuid::now_v7()),
                        ],
                    };
                    start.wait().await;
                    (
                        job,
                        fresh,
                        innocent,
                        store.commit(writes, &ctx("agent:a")).await,
                    )
                }));
            }
        }
        let mut heads = 0;
        let mut written = 0;
        for task in tasks {
            let (job, fresh, innocent, outcome) = task.await.unwrap();
            match (job, outcome) {
                (0, Ok(records)) => {
                    assert_eq!(records[0].id, fresh);
                    written += 1;
                }
                (
                    1,
                    Err(CommitError::Stale {
                        expected: 7,
                        current,
                    }),
                ) => {
                    assert_eq!(current.rev, 1, "{}", backend.name)
                }
                (2, Ok(_)) => {
                    heads += 1;
                    written += 2;
                }
                (2, Err(CommitError::Duplicate { .. })) => assert!(
                    store.get(innocent).await.unwrap().is_none(),
                    "{}: half of a refused write was kept",
                    backend.name
                ),
                (job, outcome) => panic!("{}: job {job}: {outcome:?}", backend.name),
            }
        }
        assert_eq!(heads, 1, "{}: exactly one head seat", backend.name);
        assert_eq!(
            store.head_seq().await.unwrap(),
            head_before + written,
            "{}: one change per record written, no gaps",
            backend.name
        );
        other.close().await;
        store.close().await;
    }
}

/// A batch (a sync push's run of mutations) reads its own writes, is invisible to others until
/// it finishes, and leaves nothing if dropped unfinished.
#[tokio::test]
async fn a_batch_is_one_transaction_that_sees_its_own_writes() {
    for backend in backends().await {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = storage::open(dir.path(), &backend.database).await.unwrap();
        let (dropped, kept, refused) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());

        let batch = store.begin_batch().await.unwrap();
        batch
            .commit(
                vec![group(dropped, Expect::Absent, "Dropped")],
                &ctx("agent:a"),
            )
            .await
            .unwrap();
        assert!(
            batch.get(dropped).await.unwrap().is_some(),
            "{}",
            backend.name
        );
        drop(batch);
        assert!(
            store.get(dropped).await.unwrap().is_none(),
            "{}: an unfinished batch was kept",
            backend.name
        );

        let batch = store.begin_batch().await.unwrap();
        let first = batch
            .commit(vec![group(kept, Expect::Absent, "Kept")], &ctx("agent:a"))
            .await
            .unwrap();
        // A refusal inside the batch leaves the rest of it alone.
        let err = batch
            .commit(
                vec![
                    group(refused, Expect::Absent, "Refused"),
                    group(kept, Expect::Absent, "Again"),
                ],
                &ctx("agent:a"),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(err, CommitError::Exists { .. }),
            "{}: {err:?}",
            backend.name
        );
        let second = batch
            .commit(
                vec![group(kept, Expect::Rev(1), "Kept twice")],
                &ctx("agent:a"),
            )
            .await
            .unwrap();
        assert_eq!(
            second[0].seq,
            first[0].seq + 1,
            "{}: the batch numbers on",
            backend.name
        );
        assert!(
            store.get(kept).await.unwrap().is_none(),
            "{}: seen before the end",
            backend.name
        );
        batch.finish().await.unwrap();
        assert!(
            matches!(batch.finish().await, Err(StorageError::BatchEnded)),
            "{}",
            backend.name
        );
        assert_eq!(
            store.get(kept).await.unwrap().unwrap().rev,
            2,
            "{}",
            backend.name
        );
        assert!(
            store.get(refused).await.unwrap().is_none(),
            "{}",
            backend.name
        );
        assert_eq!(
            store.head_seq().await.unwrap(),
            second[0].seq,
            "{}",
            backend.name
        );
        store.close().await;
    }
}

/// An update replaces the record's keys: the ones it dropped are free for others, the ones it
/// kept still find it, and a deleted record holds none.
#[tokio::test]
async fn an_update_replaces_the_records_keys() {
    for backend in backends().await {
        let dir = tempfile::tempdir().unwrap();
        let store = storage::open(dir.path(), &backend.database).await.unwrap();
        let found = |key: &str| {
            let mut q = ListQuery::new(RecordKind::Group, Visibility::All, 10);
            q.key = Some(key.to_owned());
            q.include_deleted = true;
            q
        };
        let id = Uuid::now_v7();
        let mut write = group(id, Expect::Absent, "Old");
        write.index.keys.push("kept".into());
        store.commit(vec![write], &ctx("agent:a")).await.unwrap();

        let mut write = group(id, Expect::Rev(1), "New");
        write.index.keys.push("kept".into());
        store.commit(vec![write], &ctx("agent:a")).await.unwrap();
        for (key, holders) in [("name:Old", 0), ("name:New", 1), ("kept", 1)] {
            assert_eq!(
                store.list(&found(key)).await.unwrap().len(),
                holders,
                "{}: {key}",
                backend.name
            );
        }

        let mut gone = group(id, Expect::Rev(2), "New");
        gone.deleted = true;
        store.commit(vec![gone], &ctx("agent:a")).await.unwrap();
        for key in ["name:New", "kept"] {
            assert!(
                store.list(&found(key)).await.unwrap().is_empty(),
                "{}: {key}",
                backend.name
            );
        }
        store.close().await;
    }
}
