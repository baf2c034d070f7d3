//! Shared by the sync tests: a real registry (SQLite, and PostgreSQL when the test scripts
//! provide one) and devices, each with its own encrypted vault.

#![allow(dead_code)] // each test binary uses its own subset

use std::sync::Arc;
use std::time::Duration;

use doorstep_client::sync::{sync_once, SyncError, SyncReport, SyncTransport};
use doorstep_client::vault::{Change, Choice, KdfParams, NoKeyStore, Op, Partition, Vault};
use doorstep_registry::auth::Role;
use doorstep_registry::config::Config;
use doorstep_registry::server::{self, RunningServer};
use doorstep_registry::storage::DatabaseLocation;
use serde_json::{json, Value};
use uuid::Uuid;

pub const PASS: &str = "correct horse battery";

/// Database backends to run against: SQLite always, PostgreSQL when `./dev test` started one.
pub async fn backends() -> Vec<(&'static str, DatabaseLocation)> {
    let mut all = vec![("sqlite", DatabaseLocation::EmbeddedSqlite)];
    match std::env::var("DOORSTEP_TEST_POSTGRES_URL") {
        Ok(admin) => all.push((
            "postgres",
            DatabaseLocation::Postgres(fresh_postgres(&admin).await),
        )),
        Err(_) => assert!(
            std::env::var_os("DOORSTEP_REQUIRE_POSTGRES").is_none(),
            "DOORSTEP_REQUIRE_POSTGRES is set but DOORSTEP_TEST_POSTGRES_URL is not"
        ),
    }
    all
}

pub async fn fresh_postgres(admin_url: &str) -> String {
    use sqlx::Connection;
    let name = format!("doorstep_sys_{}", Uuid::now_v7().simple());
    let mut admin = sqlx::PgConnection::connect(admin_url)
        .await
        .expect("connect to PostgreSQL");
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut admin)
        .await
        .expect("create database");
    let mut url = url::Url::parse(admin_url).unwrap();
    url.set_path(&name);
    url.to_string()
}

/// A registry server with dev sign-in, on a loopback port.
pub struct Registry {
    pub server: Option<RunningServer>,
    pub data: tempfile::TempDir,
    pub config: Config,
}

impl Registry {
    pub async fn start(database: &DatabaseLocation) -> Registry {
        let data = tempfile::tempdir().unwrap();
        let mut config = Config::ephemeral(data.path());
        config.database = database.clone();
        config.dev_auth = true;
        config.limits.requests_per_minute = 0;
        let server = server::start(&config).await.unwrap();
        config.listen = server.addr;
        Registry {
            server: Some(server),
            data,
            config,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.config.listen)
    }

    pub fn token(&self, subject: &str) -> String {
        doorstep_registry::auth::dev_token(
            self.data.path(),
            Role::Agent,
            subject,
            Some("KE.30"),
            None,
            Duration::from_secs(3600),
        )
        .unwrap()
    }

    pub fn staff_token(&self) -> String {
        doorstep_registry::auth::dev_token(
            self.data.path(),
            Role::Staff,
            "auditor",
            None,
            None,
            Duration::from_secs(3600),
        )
        .unwrap()
    }

    /// Stop (finishing in-flight requests) and start again on the same port and data.
    pub async fn restart(&mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await.unwrap();
        }
        self.server = Some(server::start(&self.config).await.unwrap());
    }

    pub async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await.unwrap();
        }
    }

    /// GET a path as staff (who sees everything).
    pub async fn get(&self, path: &str) -> Value {
        reqwest::Client::new()
            .get(format!("{}{path}", self.url()))
            .bearer_auth(self.staff_token())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

/// One device: a vault partition and a connection to the registry as one field agent.
pub struct Device {
    pub name: String,
    pub dir: tempfile::TempDir,
    pub partition: Arc<Partition>,
    pub transport: SyncTransport,
}

impl Device {
    pub fn new(name: &str, registry: &Registry) -> Device {
        Device::with_url(name, registry, &registry.url())
    }

    /// A device that reaches the registry through `url` (e.g. a fault-injecting proxy).
    pub fn with_url(name: &str, registry: &Registry, url: &str) -> Device {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::open(dir.path(), Arc::new(NoKeyStore)).unwrap();
        let (partition, _) = vault
            .create_partition(PASS, KdfParams::FAST_INSECURE_FOR_TESTS)
            .unwrap();
        let transport = SyncTransport::new(url::Url::parse(url).unwrap(), registry.token(name));
        Device {
            name: name.into(),
            dir,
            partition: Arc::new(partition),
            transport,
        }
    }

    pub fn actor(&self) -> String {
        format!("agent:{}", self.name)
    }

    pub async fn sync(&self) -> Result<SyncReport, SyncError> {
        sync_once(&self.partition, &self.transport, &|_| {}).await
    }

    /// Sync until nothing is left to send (bounded), resolving nothing.
    pub async fn sync_ok(&self) -> SyncReport {
        self.sync()
            .await
            .unwrap_or_else(|e| panic!("{}: sync failed: {e} ({e:?})", self.name))
    }

    pub fn create(&self, kind: &str, body: Value) -> Uuid {
        let id: Uuid = body["id"].as_str().unwrap().parse().unwrap();
        self.partition
            .apply(&Change {
                kind: kind.into(),
                id,
                op: Op::Create,
                body,
                actor: self.actor(),
            })
            .unwrap();
        id
    }

    pub fn body(&self, kind: &str, id: Uuid) -> Value {
        self.partition
            .record(kind, id)
            .unwrap()
            .unwrap_or_else(|| panic!("{}: no {kind} {id}", self.name))
            .body
    }

    pub fn edit(&self, kind: &str, id: Uuid, change: impl FnOnce(&mut Value)) {
        let mut body = self.body(kind, id);
        change(&mut body);
        self.partition
            .apply(&Change {
                kind: kind.into(),
                id,
                op: Op::Update,
                body,
                actor: self.actor(),
            })
            .unwrap();
    }

    pub fn delete(&self, kind: &str, id: Uuid) {
        let body = self.body(kind, id);
        self.partition
            .apply(&Change {
                kind: kind.into(),
                id,
                op: Op::Delete,
                body,
                actor: self.actor(),
            })
            .unwrap();
    }

    /// Settle every open conflict by taking this device's values.
    pub fn resolve_all(
        &self,
        choose: impl Fn(&doorstep_client::vault::StoredConflict) -> Choice,
    ) -> usize {
        let conflicts = self.partition.conflicts().unwrap();
        let mut records: Vec<(String, Uuid)> = conflicts
            .iter()
            .map(|c| (c.kind.clone(), c.record_id))
            .collect();
        records.sort();
        records.dedup();
        for (kind, id) in &records {
            let choices = conflicts
                .iter()
                .filter(|c| &c.kind == kind && c.record_id == *id)
                .map(|c| (c.conflict.field.clone(), choose(c)))
                .collect();
            self.partition
                .resolve_conflicts(kind, *id, &choices, &self.actor())
                .unwrap();
        }
        conflicts.len()
    }
}

pub fn meta(id: Uuid) -> Value {
    json!({"id": id.to_string(), "created_at": "2026-11-01T08:30:00Z", "updated_at": "2026-11-01T08:30:00Z", "created_by": "device"})
}

pub fn with(mut base: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().unwrap() {
        base[k] = v.clone();
    }
    base
}

pub fn individual(given: &str, family: &str) -> Value {
    with(
        meta(Uuid::now_v7()),
        json!({"given_name": given, "family_name": family}),
    )
}

pub fn household(name: &str) -> Value {
    with(
        meta(Uuid::now_v7()),
        json!({"name": name, "kind": "household"}),
    )
}

pub fn membership(group: Uuid, person: Uuid, kind: &str) -> Value {
    with(
        meta(Uuid::now_v7()),
        json!({"group_id": group.to_string(), "individual_id": person.to_string(), "kind": kind, "start_date": "2020-01-01"}),
    )
}

/// A record's body without the bookkeeping that legitimately differs between copies.
pub fn content(mut body: Value) -> Value {
    if let Some(o) = body.as_object_mut() {
        o.remove("updated_at");
    }
    body
}
pub mod app;
pub mod oidc;
