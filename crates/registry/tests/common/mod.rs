//! Shared by the server's integration tests: the database backends to run each test against.
//!
//! SQLite always; PostgreSQL when `DOORSTEP_TEST_POSTGRES_URL` points at a server (`./dev test`
//! starts a throwaway one through `scripts/with-postgres.sh` and then also sets
//! `DOORSTEP_REQUIRE_POSTGRES=1`, so a missing server fails the run instead of skipping).

#![allow(dead_code)] // each test binary uses its own subset

use doorstep_registry::config::Config;
use doorstep_registry::storage::DatabaseLocation;

/// A database each test gets to itself.
pub struct Backend {
    pub name: &'static str,
    pub database: DatabaseLocation,
}

impl Backend {
    /// A server configuration on an ephemeral loopback port using this backend.
    pub fn config(&self, data_dir: &std::path::Path) -> Config {
        let mut config = Config::ephemeral(data_dir);
        config.database = self.database.clone();
        config
    }
}

pub async fn backends() -> Vec<Backend> {
    let mut all = vec![Backend {
        name: "sqlite",
        database: DatabaseLocation::EmbeddedSqlite,
    }];
    match std::env::var("DOORSTEP_TEST_POSTGRES_URL") {
        Ok(admin_url) => all.push(Backend {
            name: "postgres",
            database: DatabaseLocation::Postgres(fresh_database(&admin_url).await),
        }),
        Err(_) => {
            assert!(
                std::env::var_os("DOORSTEP_REQUIRE_POSTGRES").is_none(),
                "DOORSTEP_REQUIRE_POSTGRES is set but DOORSTEP_TEST_POSTGRES_URL is not"
            );
            eprintln!(
                "PostgreSQL not available: testing SQLite only (./dev test provides PostgreSQL)"
            );
        }
    }
    all
}

/// Create an empty database on the test server and return its URL.
async fn fresh_database(admin_url: &str) -> String {
    use sqlx::Connection;
    let name = format!("doorstep_test_{}", uuid::Uuid::now_v7().simple());
    let mut admin = sqlx::PgConnection::connect(admin_url)
        .await
        .expect("connect to the test PostgreSQL server");
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut admin)
        .await
        .expect("create a test database");
    let mut url = url::Url::parse(admin_url).expect("admin URL parses");
    url.set_path(&name);
    url.to_string()
}
