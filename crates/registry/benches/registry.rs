//! Registry throughput on loopback, on SQLite and (when `DOORSTEP_TEST_POSTGRES_URL` is set, as
//! `./dev bench` does) on PostgreSQL:
//!
//! - individual upserts over HTTP (create, then update with If-Match) with 16 concurrent
//!   clients: writes/s and p50/p99 latency, against a baseline of plain single-row INSERT
//!   transactions of the same JSON into the same database with the same concurrency;
//! - change-feed read rate (records/s), paging through everything written.
//!
//! `cargo bench --bench registry -- postgres` (or `sqlite`) measures one backend only.
//!
//! Bounded: a fixed number of writes per client, three rounds per backend; prints a table (the
//! median round) and exits.

use std::time::{Duration, Instant};

use doorstep_registry::auth::Role;
use doorstep_registry::config::Config;
use doorstep_registry::storage::{DatabaseLocation, Visibility};
use serde_json::json;
use uuid::Uuid;

const CLIENTS: usize = 16;
/// Long enough that a round measures the steady state: with 150 the 16 fresh connections each side
/// opens were a fifth of a round, and PostgreSQL's ratio read 0.30 where 400 reads 0.25.
const WRITES_PER_CLIENT: usize = 400;

struct Figures {
    backend: String,
    writes_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    baseline_per_s: f64,
    feed_per_s: f64,
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn body(id: Uuid, i: usize, occupation: &str) -> serde_json::Value {
    json!({
        "id": id.to_string(), "created_at": "2026-11-01T08:30:00Z", "updated_at": "2026-11-01T08:30:00Z",
        "created_by": "bench", "given_name": format!("Person{i}"), "family_name": "Bench",
        "occupation": occupation, "reg_ids": [{"id_type": "national_id", "value": format!("B{id}")}]
    })
}

async fn http_writes(config: &Config, data: &std::path::Path) -> (f64, Vec<Duration>, String) {
    let server = doorstep_registry::server::start(config).await.unwrap();
    let token = doorstep_registry::auth::dev_token(
        data,
        Role::Agent,
        "bench",
        Some("KE.30"),
        None,
        Duration::from_secs(3600),
    )
    .unwrap();
    let http = reqwest::Client::new();
    let url = server.url();
    let start = Instant::now();
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (http, url, token) = (http.clone(), url.clone(), token.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(WRITES_PER_CLIENT);
                for i in 0..WRITES_PER_CLIENT / 2 {
                    let id = Uuid::now_v7();
                    let t = Instant::now();
                    let r = http
                        .post(format!("{url}/v1/individuals"))
                        .bearer_auth(&token)
                        .json(&body(id, c * 1000 + i, "farmer"))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
                    latencies.push(t.elapsed());
                    let t = Instant::now();
                    let r = http
                        .put(format!("{url}/v1/individuals/{id}"))
                        .bearer_auth(&token)
                        .header("if-match", "\"1\"")
                        .json(&body(id, c * 1000 + i, "trader"))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
                    latencies.push(t.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let elapsed = start.elapsed().as_secs_f64();
    server.shutdown().await.unwrap();
    all.sort();
    (all.len() as f64 / elapsed, all, url)
}

async fn feed_rate(config: &Config) -> f64 {
    let store = doorstep_registry::storage::open(&config.data_dir, &config.database)
        .await
        .unwrap();
    let start = Instant::now();
    let mut cursor = 0;
    let mut n = 0_usize;
    loop {
        let page = store
            .changes_since(cursor, 500, &Visibility::Area("KE.30".into()))
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        cursor = last.seq;
        n += page.len();
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    store.close().await;
    rate
}

/// Run `write(client, i)` for every client and write concurrently; returns writes/s.
async fn concurrently<F, Fut>(write: F) -> f64
where
    F: Fn(usize, usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let start = Instant::now();
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let write = write.clone();
            tokio::spawn(async move {
                for i in 0..WRITES_PER_CLIENT {
                    write(c, i).await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    (CLIENTS * WRITES_PER_CLIENT) as f64 / start.elapsed().as_secs_f64()
}

/// The same JSON, one plain INSERT per transaction, same concurrency, same database engine.
async fn baseline(database: &DatabaseLocation, dir: &std::path::Path) -> f64 {
    use sqlx::Executor;
    match database {
        DatabaseLocation::EmbeddedSqlite => {
            let options = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(dir.join("baseline.sqlite3"))
                .create_if_missing(true)
                .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(30));
            let pool = sqlx::sqlite::SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(options)
                .await
                .unwrap();
            pool.execute("CREATE TABLE t (id TEXT PRIMARY KEY, body TEXT NOT NULL)")
                .await
                .unwrap();
            concurrently(move |c, i| {
                let pool = pool.clone();
                async move {
                    let id = Uuid::now_v7();
                    let mut tx = pool.begin().await.unwrap();
                    sqlx::query("INSERT INTO t VALUES ($1, $2)")
                        .bind(id.to_string())
                        .bind(body(id, c * 1000 + i, "x").to_string())
                        .execute(&mut *tx)
                        .await
                        .unwrap();
                    tx.commit().await.unwrap();
                }
            })
            .await
        }
        DatabaseLocation::Postgres(url) => {
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(16)
                .connect(url)
                .await
                .unwrap();
            pool.execute("CREATE TABLE baseline_t (id UUID PRIMARY KEY, body JSONB NOT NULL)")
                .await
                .unwrap();
            concurrently(move |c, i| {
                let pool = pool.clone();
                async move {
                    let id = Uuid::now_v7();
                    let mut tx = pool.begin().await.unwrap();
                    sqlx::query("INSERT INTO baseline_t VALUES ($1::uuid, $2::jsonb)")
                        .bind(id.to_string())
                        .bind(body(id, c * 1000 + i, "x").to_string())
                        .execute(&mut *tx)
                        .await
                        .unwrap();
                    tx.commit().await.unwrap();
                }
            })
            .await
        }
    }
}

async fn fresh_postgres(admin_url: &str) -> String {
    use sqlx::Connection;
    let name = format!("doorstep_bench_{}", Uuid::now_v7().simple());
    let mut admin = sqlx::PgConnection::connect(admin_url).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut admin)
        .await
        .unwrap();
    let mut url = url::Url::parse(admin_url).unwrap();
    url.set_path(&name);
    url.to_string()
}

async fn measure(name: &str, database: DatabaseLocation, baseline_db: DatabaseLocation) -> Figures {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::ephemeral(dir.path());
    config.database = database;
    config.dev_auth = true;
    config.limits.requests_per_minute = 0;
    let (writes_per_s, latencies, _) = http_writes(&config, dir.path()).await;
    let feed_per_s = feed_rate(&config).await;
    let baseline_per_s = baseline(&baseline_db, dir.path()).await;
    Figures {
        backend: name.into(),
        writes_per_s,
        p50_ms: percentile(&latencies, 0.50),
        p99_ms: percentile(&latencies, 0.99),
        baseline_per_s,
        feed_per_s,
    }
}

#[tokio::main]
async fn main() {
    // `cargo bench --bench registry -- postgres` measures only the backends named (cargo adds
    // `--bench` itself, which is not a name).
    let named: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wanted = |backend: &str| named.is_empty() || named.iter().any(|n| n == backend);
    let mut figures = Vec::new();
    if wanted("sqlite") {
        figures.push(
            median_of_rounds(|| {
                measure(
                    "sqlite",
                    DatabaseLocation::EmbeddedSqlite,
                    DatabaseLocation::EmbeddedSqlite,
                )
            })
            .await,
        );
    }
    match std::env::var("DOORSTEP_TEST_POSTGRES_URL") {
        _ if !wanted("postgres") => {}
        Ok(admin) => {
            let admin = &admin;
            figures.push(
                median_of_rounds(|| async move {
                    let db = DatabaseLocation::Postgres(fresh_postgres(admin).await);
                    let base = DatabaseLocation::Postgres(fresh_postgres(admin).await);
                    measure("postgres", db, base).await
                })
                .await,
            );
        }
        Err(_) => eprintln!(
            "(PostgreSQL not measured: DOORSTEP_TEST_POSTGRES_URL is not set; ./dev bench sets it)"
        ),
    }
    println!("\nRegistry writes: {CLIENTS} concurrent clients, {} individual upserts over HTTP on loopback; the median of {ROUNDS} rounds by ratio (each round measures its own baseline)", CLIENTS * WRITES_PER_CLIENT);
    println!("| backend | writes/s | p50 ms | p99 ms | baseline INSERTs/s | ratio | ratios of all rounds | change feed records/s |");
    println!("|---|---:|---:|---:|---:|---:|---|---:|");
    for (f, ratios) in &figures {
        println!(
            "| {} | {:.0} | {:.1} | {:.1} | {:.0} | {:.2} | {} | {:.0} |",
            f.backend,
            f.writes_per_s,
            f.p50_ms,
            f.p99_ms,
            f.baseline_per_s,
            f.ratio(),
            ratios,
            f.feed_per_s
        );
    }
}

/// Rounds per backend. A small shared machine varies by a third from one run to the next; the
/// median round (each with its own baseline) is a figure the next run can be compared with.
const ROUNDS: usize = 3;

impl Figures {
    fn ratio(&self) -> f64 {
        self.writes_per_s / self.baseline_per_s
    }
}

/// Measure `ROUNDS` times; the round with the median ratio, and every round's ratio.
async fn median_of_rounds<F, Fut>(round: F) -> (Figures, String)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Figures>,
{
    let mut rounds = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        rounds.push(round().await);
    }
    let ratios = rounds
        .iter()
        .map(|f| format!("{:.2}", f.ratio()))
        .collect::<Vec<_>>()
        .join(", ");
    rounds.sort_by(|a, b| a.ratio().total_cmp(&b.ratio()));
    (rounds.swap_remove(ROUNDS / 2), ratios)
}
