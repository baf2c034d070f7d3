//! Storage behaviour that must be the same on SQLite and PostgreSQL.

mod common;

use common::backends;
use doorstep_registry::storage::{self, NewProgramme, StorageError};

fn programme(code: &str) -> NewProgramme {
    NewProgramme {
        id: uuid::Uuid::now_v7().to_string(),
        code: code.into(),
        name: "Test programme".into(),
        description: String::new(),
        form: serde_json::json!({ "components": [] }),
    }
}

#[tokio::test]
async fn programmes_are_added_once_and_survive_reopening() {
    for backend in backends().await {
        let dir = tempfile::tempdir().unwrap();
        let store = storage::open(dir.path(), &backend.database).await.unwrap();
        let p = programme("child-benefit");
        assert!(
            store.add_programme_if_absent(&p).await.unwrap(),
            "{}",
            backend.name
        );
        assert!(
            !store.add_programme_if_absent(&p).await.unwrap(),
            "{}: added twice",
            backend.name
        );
        let version = store.schema_version().await.unwrap();
        store.close().await;

        let again = storage::open(dir.path(), &backend.database).await.unwrap();
        assert_eq!(again.schema_version().await.unwrap(), version);
        assert!(
            !again.add_programme_if_absent(&p).await.unwrap(),
            "{}: lost on reopen",
            backend.name
        );
        again.close().await;
    }
}

#[tokio::test]
async fn duplicate_code_is_refused_and_nothing_half_written() {
    for backend in backends().await {
        let dir = tempfile::tempdir().unwrap();
        let store = storage::open(dir.path(), &backend.database).await.unwrap();
        store
            .add_programme_if_absent(&programme("pension"))
            .await
            .unwrap();
        let err = store
            .add_programme_if_absent(&programme("pension"))
            .await
            .unwrap_err();
        assert!(
            matches!(err, StorageError::Query(_)),
            "{}: {err}",
            backend.name
        );
        store.close().await;
    }
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
