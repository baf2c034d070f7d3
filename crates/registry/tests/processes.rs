//! Messages beyond the app and the scheduler across real registry processes (issue 18): the
//! `doorstep-registry` binary, started as an operator starts it (`serve --config <file>`), on
//! loopback, on both backends.
//!
//! - A registry SIGKILLed while a webhook delivery is in flight sends the message again after a
//!   restart on the same database, under the same id, so the receiver processes it once.
//! - Two registry processes on one database (PostgreSQL, and one SQLite file) with a one-second
//!   scheduler period write each reminder exactly once: one notification per id, one outbox row
//!   each, one delivery each.
//!
//! `tests/outbound.rs` and `tests/deadlines.rs` hold the same rules in process. Every wait is a
//! bounded loop that polls; every process is killed when its guard is dropped.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{backends, individual, meta, with, Backend};
use doorstep_registry::auth::Role;
use doorstep_registry::outbound::{message_id, OutboundChannelKind};
use doorstep_registry::scheduler::{deadline_reminder_id, reminder_id, Reminder};
use doorstep_registry::storage::DatabaseLocation;
use serde_json::{json, Value};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

const BIN: &str = env!("CARGO_BIN_EXE_doorstep-registry");
const SECRET: &str = "a-webhook-secret-for-process-tests";

/// Polls `check` every 100 ms, at most `tries` times; the first answer, else a panic naming
/// `what`.
async fn eventually<T, F, Fut>(what: &str, tries: u32, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..tries {
        if let Some(value) = check().await {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what}: not reached after {tries} tries");
}

fn day(offset: i64) -> Date {
    OffsetDateTime::now_utc().date() + time::Duration::days(offset)
}

fn text(d: Date) -> String {
    doorstep_domain::date_format::format(d)
}

// ---------------------------------------------------------------------------------------------
// A registry process.

/// One `doorstep-registry serve` process; SIGKILLed (and reaped) when dropped.
struct Registry {
    child: Child,
    url: String,
}

impl Registry {
    /// Start the binary on `config` and wait (at most a minute) for the address it prints.
    fn start(config: &Path, log: &Path) -> Registry {
        let mut child = Command::new(BIN)
            .arg("serve")
            .arg("--config")
            .arg(config)
            .env_remove("DOORSTEP_REGISTRY_DATA")
            .env_remove("DOORSTEP_REGISTRY_CONFIG")
            .env_remove("DOORSTEP_REGISTRY_DATABASE")
            .env("DOORSTEP_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::from(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(log)
                    .unwrap(),
            ))
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        // Reads the address line, then keeps the pipe drained so the process never blocks on it.
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let _ = tx.send(line);
            let _ = reader.read_to_end(&mut Vec::new());
        });
        let mut registry = Registry {
            child,
            url: String::new(),
        };
        let line = rx.recv_timeout(Duration::from_secs(60)).unwrap_or_default();
        match line.trim().strip_prefix("doorstep-registry listening on ") {
            Some(url) => registry.url = url.to_owned(),
            None => panic!(
                "the registry did not start ({line:?}); its log:\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            ),
        }
        registry
    }

    /// SIGKILL: no shutdown, no cleanup, whatever it was doing.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A data folder and config file for registries on `backend`'s database (shared by every
/// process started on it), with the webhook at `hook` and the scheduler `scheduler`-enabled.
struct Setup {
    data: tempfile::TempDir,
    database: DatabaseLocation,
    hook: String,
}

impl Setup {
    fn new(backend: &Backend, hook: &str) -> Setup {
        let data = tempfile::tempdir().unwrap();
        std::fs::write(data.path().join("hook-secret"), SECRET).unwrap();
        Setup {
            data,
            database: backend.database.clone(),
            hook: hook.to_owned(),
        }
    }

    fn log(&self) -> PathBuf {
        self.data.path().join("registry.log")
    }

    /// A config file; `scheduler`: whether this process runs the scheduled jobs.
    fn config(&self, name: &str, scheduler: bool) -> PathBuf {
        let database = match &self.database {
            DatabaseLocation::EmbeddedSqlite => "sqlite".to_owned(),
            DatabaseLocation::Postgres(url) => url.clone(),
        };
        let path = self.data.path().join(format!("{name}.toml"));
        std::fs::write(
            &path,
            format!(
                "listen = \"127.0.0.1:0\"\ndata = {data:?}\ndatabase = {database:?}\ndev_auth = true\n\
                 [outbound]\nworker_period_secs = 1\nretry_base_secs = 1\nretry_max_secs = 2\nlease_secs = 7\n\
                 [outbound.webhook]\nurl = {hook:?}\nsecret_file = {secret:?}\ntimeout_secs = 3\n\
                 [scheduler]\nenabled = {scheduler}\nperiod_secs = 1\n",
                data = self.data.path().display().to_string(),
                hook = self.hook,
                secret = self.data.path().join("hook-secret").display().to_string(),
            ),
        )
        .unwrap();
        path
    }

    fn start(&self, name: &str, scheduler: bool) -> Registry {
        Registry::start(&self.config(name, scheduler), &self.log())
    }

    fn token(&self, role: &str, subject: &str, area: Option<&str>) -> String {
        let role: Role = serde_json::from_value(json!(role)).unwrap();
        doorstep_registry::auth::dev_token(
            self.data.path(),
            role,
            subject,
            area,
            None,
            Duration::from_secs(600),
        )
        .unwrap()
    }

    /// How many times each scheduled job has run, as far as `last_run_at` tells: the job's
    /// (name, last run) rows.
    async fn job_runs(&self) -> Vec<(String, Option<String>)> {
        let sql = "SELECT name, CAST(last_run_at AS TEXT) FROM scheduled_jobs ORDER BY name";
        match &self.database {
            DatabaseLocation::EmbeddedSqlite => {
                let url = format!(
                    "sqlite://{}?mode=ro",
                    self.data.path().join("registry.sqlite3").display()
                );
                let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
                let rows: Vec<(String, Option<String>)> =
                    sqlx::query_as(sql).fetch_all(&pool).await.unwrap();
                pool.close().await;
                rows
            }
            DatabaseLocation::Postgres(url) => {
                let pool = sqlx::PgPool::connect(url).await.unwrap();
                let rows: Vec<(String, Option<String>)> =
                    sqlx::query_as(sql).fetch_all(&pool).await.unwrap();
                pool.close().await;
                rows
            }
        }
    }
}

/// JSON calls to a registry process.
struct Client {
    http: reqwest::Client,
}

impl Client {
    fn new() -> Client {
        Client {
            http: reqwest::Client::new(),
        }
    }

    async fn call(
        &self,
        registry: &Registry,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", registry.url))
            .bearer_auth(token)
            .timeout(Duration::from_secs(30));
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let bytes = response.bytes().await.unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    async fn created(&self, registry: &Registry, path: &str, token: &str, body: Value) -> Value {
        let (status, json) = self
            .call(registry, reqwest::Method::POST, path, token, Some(&body))
            .await;
        assert_eq!(status, 201, "{path}: {json:?}");
        json
    }

    async fn get(&self, registry: &Registry, path: &str, token: &str) -> Value {
        let (status, json) = self
            .call(registry, reqwest::Method::GET, path, token, None)
            .await;
        assert_eq!(status, 200, "{path}: {json:?}");
        json
    }

    /// A person registered by `agent`, with a mobile number (so the SMS webhook reaches them).
    async fn person(&self, registry: &Registry, agent: &str, name: &str) -> Value {
        let person = self
            .created(
                registry,
                "/v1/individuals",
                agent,
                individual(Uuid::now_v7(), name, "Mwangi", None),
            )
            .await;
        self.created(
            registry,
            "/v1/contacts",
            agent,
            with(
                meta(Uuid::now_v7()),
                json!({"registrant_id": person["id"],
                       "phones": [{"id": Uuid::now_v7(), "number_e164": "+254712345678", "kind": "mobile"}]}),
            ),
        )
        .await;
        person
    }
}

// ---------------------------------------------------------------------------------------------
// An SMS gateway on loopback: keeps every attempt, processes each message id once (as a real
// gateway de-duplicates by Idempotency-Key), and can hold its first answer open for ever.

#[derive(Clone, Default)]
struct Gateway {
    /// Idempotency-Key of every request, in order.
    attempts: Arc<Mutex<Vec<String>>>,
    /// Messages processed (sent on as SMS), by key: once each.
    processed: Arc<Mutex<HashMap<String, Value>>>,
    /// Process the first request, then never answer it.
    hold_first: Arc<Mutex<bool>>,
}

impl Gateway {
    async fn start(self) -> String {
        use axum::routing::post;
        let app = axum::Router::new()
            .route("/hook", post(receive))
            .with_state(self);
        format!("{}/hook", common::serve_on_loopback(app).await)
    }

    fn attempts(&self) -> Vec<String> {
        self.attempts.lock().unwrap().clone()
    }

    fn processed(&self) -> HashMap<String, Value> {
        self.processed.lock().unwrap().clone()
    }
}

async fn receive(
    axum::extract::State(g): axum::extract::State<Gateway>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> axum::http::StatusCode {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    g.attempts.lock().unwrap().push(key.clone());
    g.processed
        .lock()
        .unwrap()
        .entry(key)
        .or_insert_with(|| serde_json::from_slice(&body).unwrap_or(Value::Null));
    let hold = std::mem::take(&mut *g.hold_first.lock().unwrap());
    if hold {
        // Processed, but the sender never hears so: it must send again, under the same key.
        std::future::pending::<()>().await;
    }
    axum::http::StatusCode::OK
}

// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_registry_killed_mid_delivery_delivers_after_restart_and_the_receiver_processes_once() {
    for backend in backends().await {
        let name = backend.name;
        let gateway = Gateway::default();
        *gateway.hold_first.lock().unwrap() = true;
        let hook = gateway.clone().start().await;
        let setup = Setup::new(&backend, &hook);
        let client = Client::new();
        let mut first = setup.start("first", false);
        let agent = setup.token("agent", "agent-a", Some("KE.30"));
        let staff = setup.token("staff", "reviewer", None);
        let person = client.person(&first, &agent, "Wanjiru").await;
        // Staff write a notification: the registry keeps its SMS in the same statement.
        let note = client
            .created(
                &first,
                "/v1/notifications",
                &staff,
                with(
                    meta(Uuid::now_v7()),
                    json!({"recipient_id": person["id"], "kind": "general",
                           "title": "Office closed on Friday", "body": "Come on Monday instead."}),
                ),
            )
            .await;
        let notification: Uuid = note["id"].as_str().unwrap().parse().unwrap();
        let id = message_id(notification, OutboundChannelKind::Webhook).to_string();

        // The first attempt reaches the gateway, which processes it and never answers; the
        // registry is killed while it waits.
        eventually("the first attempt", 300, || async {
            (!gateway.attempts().is_empty()).then_some(())
        })
        .await;
        first.kill();
        assert_eq!(gateway.attempts(), std::slice::from_ref(&id), "{name}");

        // Restarted on the same database: once the dead process's claim runs out, sent again.
        let again = setup.start("again", false);
        let rows = eventually("delivery after the restart", 600, || async {
            let rows = client.get(&again, "/v1/outbox", &staff).await;
            (rows["items"][0]["status"] == "delivered").then_some(rows)
        })
        .await;
        let items = rows["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{name}: {rows:?}");
        assert_eq!(items[0]["id"], json!(id));
        assert_eq!(items[0]["notification_id"], json!(notification));
        // Two claims; the first never settled (it was not a timeout or a refusal).
        assert_eq!(items[0]["attempts"], 2, "{name}: {rows:?}");
        assert!(items[0]["last_error"].is_null(), "{name}: {rows:?}");
        // Sent twice under one id; processed once.
        assert_eq!(gateway.attempts(), [id.clone(), id.clone()], "{name}");
        let processed = gateway.processed();
        assert_eq!(processed.len(), 1, "{name}");
        assert!(processed[&id].is_object(), "{processed:?}");
        // The notification itself exists once.
        let notes = client
            .get(
                &again,
                &format!("/v1/notifications?owner={}", person["id"].as_str().unwrap()),
                &staff,
            )
            .await;
        assert_eq!(notes["items"].as_array().unwrap().len(), 1, "{name}");
        drop(again);
    }
}

#[tokio::test]
async fn two_registry_processes_on_one_database_write_each_reminder_once() {
    for backend in backends().await {
        let name = backend.name;
        let gateway = Gateway::default();
        let hook = gateway.clone().start().await;
        let setup = Setup::new(&backend, &hook);
        let client = Client::new();
        let agent = setup.token("agent", "agent-a", Some("KE.30"));
        let staff = setup.token("staff", "reviewer", None);
        let admin = setup.token("admin", "root", None);

        // The world, written through a registry that runs no jobs.
        let mut expected: Vec<Uuid> = Vec::new();
        {
            let setup_registry = setup.start("setup", false);
            let r = &setup_registry;
            let uuid = |v: &Value| -> Uuid { v["id"].as_str().unwrap().parse().unwrap() };
            // Liveness: due soon, overdue (the registry's 30 days of grace are over), not yet.
            for (given, due, reminder) in [
                ("Soon", 3, Some(Reminder::LivenessDueSoon)),
                ("Late", -40, Some(Reminder::LivenessOverdue)),
                ("Later", 60, None),
            ] {
                let person = client.person(r, &agent, given).await;
                client
                    .created(
                        r,
                        "/v1/liveness-checks",
                        &staff,
                        with(
                            meta(Uuid::now_v7()),
                            json!({"individual_id": person["id"], "outcome": "passed",
                                   "performed_at": format!("{}T09:00:00Z", text(day(-300))),
                                   "provider": "esignet", "next_due": text(day(due))}),
                        ),
                    )
                    .await;
                if let Some(reminder) = reminder {
                    expected.push(reminder_id(reminder, uuid(&person), day(due)));
                }
            }
            // A programme closing in three days, and two people with a draft.
            let programme = client
                .created(
                    r,
                    "/v1/programmes",
                    &admin,
                    with(
                        meta(Uuid::now_v7()),
                        json!({"code": "soon", "name": "Soon", "applications_close_on": text(day(3))}),
                    ),
                )
                .await;
            client
                .created(
                    r,
                    "/v1/forms",
                    &admin,
                    with(
                        meta(Uuid::now_v7()),
                        json!({"programme_id": programme["id"], "version": 1,
                               "schema": {"display": "form", "components": [{"type": "textfield", "key": "v"}]}}),
                    ),
                )
                .await;
            for given in ["Draft", "Drafter"] {
                let person = client.person(r, &agent, given).await;
                client
                    .created(
                        r,
                        "/v1/applications",
                        &agent,
                        with(
                            meta(Uuid::now_v7()),
                            json!({"programme_id": programme["id"], "applicant_id": person["id"],
                                   "form_version": 1, "data": {}, "status": "draft"}),
                        ),
                    )
                    .await;
                expected.push(deadline_reminder_id(
                    uuid(&person),
                    uuid(&programme),
                    day(3),
                ));
            }
        }
        expected.sort();

        // Two processes with the jobs on, started together: they race from their first tick.
        let one = setup.start("one", true);
        let two = setup.start("two", true);
        eventually("every reminder delivered", 600, || async {
            (gateway.processed().len() >= expected.len()).then_some(())
        })
        .await;
        // Then each job runs again, at least three times, in one process or the other.
        let runs = setup.job_runs().await;
        assert_eq!(
            runs.iter().map(|(job, _)| job.as_str()).collect::<Vec<_>>(),
            ["deadline_reminders", "liveness_reminders"],
            "{name}"
        );
        let mut seen: HashMap<String, Vec<Option<String>>> =
            runs.into_iter().map(|(job, at)| (job, vec![at])).collect();
        let mut tries = 0;
        while !seen.values().all(|runs| runs.len() > 3) {
            tries += 1;
            assert!(tries <= 600, "{name}: the jobs stopped running: {seen:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
            for (job, at) in setup.job_runs().await {
                let runs = seen.entry(job).or_default();
                if runs.last() != Some(&at) {
                    runs.push(at);
                }
            }
        }

        // Each reminder once: one notification per id, one outbox row each, one delivery each.
        for registry in [&one, &two] {
            let page = client
                .get(registry, "/v1/notifications?limit=200", &staff)
                .await;
            let mut ids: Vec<Uuid> = page["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|n| n["kind"] == "liveness_due" || n["kind"] == "deadline")
                .map(|n| n["id"].as_str().unwrap().parse().unwrap())
                .collect();
            ids.sort();
            assert_eq!(ids, expected, "{name}");
        }
        let outbox = client.get(&one, "/v1/outbox?limit=200", &staff).await;
        let rows = outbox["items"].as_array().unwrap();
        let mut carried: Vec<Uuid> = rows
            .iter()
            .map(|r| r["notification_id"].as_str().unwrap().parse().unwrap())
            .collect();
        carried.sort();
        assert_eq!(carried, expected, "{name}: {outbox:?}");
        assert!(
            rows.iter()
                .all(|r| r["status"] == "delivered" && r["attempts"] == 1),
            "{name}: {outbox:?}"
        );
        let mut sent = gateway.attempts();
        sent.sort();
        let mut messages: Vec<String> = expected
            .iter()
            .map(|n| message_id(*n, OutboundChannelKind::Webhook).to_string())
            .collect();
        messages.sort();
        assert_eq!(sent, messages, "{name}: one delivery each");
        drop((one, two));
    }
}
