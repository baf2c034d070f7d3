//! Server-side validation of an application on a 200-field form (issue 17's benchmark): what
//! the registry's check of one submission costs, alone and on the registry's real write path,
//! beside the plain write of the same application without the check.
//!
//! The form is generated deterministically ([`form`]): ten panels of twenty fields mixing every
//! kind Doorstep offers (text with a pattern, numbers with limits, selects, radios, select
//! boxes, e-mail, dates, days, text areas, checkboxes), twenty calculated fields, twenty fields
//! with a condition (legacy and JSON logic) and one panel hidden by its condition, whose twenty
//! answers the check drops.
//!
//! - "check": `formio::validate_submission` (read the form, then check the answers); "check,
//!   form already read" checks with the form read once, which is what the registry does on a
//!   write (it keeps the form versions it has read, `api/form_rules.rs`). Per submission
//!   p50/p99 on one thread; throughput with two threads (2 cores).
//! - "write": PUT of the application through the HTTP API on SQLite (the real `write::prepare`
//!   and group commit): a draft (stored as typed: no check) beside an application the office
//!   sent back for more information (checked on every write). Both look the form version up,
//!   so the difference is the check and its cleaned answers. One client for p50/p99, then four
//!   clients at once for throughput.
//!
//! `cargo bench -p doorstep-registry --bench form_validation` (also part of
//! `./dev bench registry`). Bounded: fixed counts; prints a table and the ratios, then exits.

use std::time::{Duration, Instant};

use doorstep_domain::formio::{validate_submission, CompiledForm};
use doorstep_registry::auth::Role;
use doorstep_registry::config::Config;
use serde_json::{json, Map, Value};
use uuid::Uuid;

const CHECKS: usize = 2_000;
const SEQUENTIAL_WRITES: usize = 300;
const CLIENTS: usize = 4;
const WRITES_PER_CLIENT: usize = 100;
const ROUNDS: usize = 3;

/// The 200-field form and a complete, valid set of answers for it.
fn form() -> (Value, Value) {
    let mut panels = Vec::new();
    let mut answers = Map::new();
    for p in 0..10 {
        let mut fields = Vec::new();
        for j in 0..20 {
            let i = p * 20 + j;
            let key = format!("f{i}");
            let label = format!("Question {i}");
            let (mut field, answer) = match i % 10 {
                0 => (
                    json!({"type": "checkbox", "validate": {"required": i == 0}}),
                    json!(true),
                ),
                1 => (
                    json!({"type": "textfield", "validate": {"required": true, "maxLength": 50, "pattern": "[A-Za-z ]+"}}),
                    json!("Amina Odhiambo"),
                ),
                2 => (
                    json!({"type": "number", "validate": {"required": true, "min": 0, "max": 120}}),
                    json!(i % 90),
                ),
                3 => (
                    json!({"type": "select", "data": {"values": (0..5).map(|o| json!({"label": format!("Option {o}"), "value": format!("opt{o}")})).collect::<Vec<_>>()}, "validate": {"required": true}}),
                    json!("opt3"),
                ),
                4 => (
                    json!({"type": "radio", "values": [{"label": "A", "value": "a"}, {"label": "B", "value": "b"}, {"label": "C", "value": "c"}]}),
                    json!("b"),
                ),
                5 => (
                    json!({"type": "email"}),
                    json!(format!("person{i}@example.org")),
                ),
                6 => (
                    json!({"type": "datetime", "enableTime": false, "datePicker": {"minDate": "2000-01-01", "maxDate": "2030-12-31"}}),
                    json!("2024-05-01T00:00:00+03:00"),
                ),
                7 if i % 50 == 47 => (
                    json!({"type": "day", "fields": {"day": {"required": false}, "month": {"required": false}, "year": {"required": true}}}),
                    json!("05/01/1990"),
                ),
                7 => (
                    json!({"type": "textarea", "validate": {"maxWords": 50}}),
                    json!("I farm maize and beans near the lake."),
                ),
                8 => (
                    json!({"type": "selectboxes", "values": (["a", "b", "c", "d"].map(|v| json!({"label": v, "value": v}))), "validate": {"required": true}}),
                    json!({"a": true, "b": false, "c": true, "d": false}),
                ),
                _ => (
                    json!({"type": "number", "calculateValue": {"+": [{"var": format!("data.f{}", i - 7)}, 1]}}),
                    json!(0),
                ),
            };
            field["key"] = json!(key);
            field["label"] = json!(label);
            field["input"] = json!(true);
            if i % 20 == 11 {
                field["conditional"] = json!({"show": true, "when": "f0", "eq": "true"});
            }
            if i % 20 == 13 {
                field["conditional"] =
                    json!({"json": {"==": [{"var": format!("data.f{}", i - 10)}, "opt3"]}});
            }
            answers.insert(key, answer);
            fields.push(field);
        }
        let mut panel = json!({"type": "panel", "key": format!("p{p}"), "title": format!("Part {p}"), "input": false, "components": fields});
        if p == 9 {
            panel["clearOnHide"] = json!(true);
            panel["conditional"] = json!({"json": {"!": [{"var": "data.f0"}]}});
        }
        panels.push(panel);
    }
    panels.push(json!({"type": "button", "key": "submit", "label": "Submit", "input": true, "action": "submit"}));
    (
        json!({"display": "form", "components": panels}),
        Value::Object(answers),
    )
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

struct Row {
    what: &'static str,
    p50: Duration,
    p99: Duration,
    per_s: f64,
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

/// p50/p99 of `run` on one thread, and its throughput on two threads.
fn in_process(what: &'static str, run: impl Fn() + Sync) -> Row {
    let mut times: Vec<Duration> = (0..CHECKS)
        .map(|_| {
            let t = Instant::now();
            run();
            t.elapsed()
        })
        .collect();
    times.sort();
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| (0..CHECKS / 2).for_each(|_| run()));
        }
    });
    Row {
        what,
        p50: percentile(&times, 0.5),
        p99: percentile(&times, 0.99),
        per_s: CHECKS as f64 / start.elapsed().as_secs_f64(),
    }
}

struct Registry {
    server: doorstep_registry::server::RunningServer,
    url: String,
    http: reqwest::Client,
    admin: String,
    agent: String,
    staff: String,
    programme: String,
    _dir: tempfile::TempDir,
}

impl Registry {
    async fn start(schema: &Value) -> Registry {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::ephemeral(dir.path());
        config.dev_auth = true;
        config.limits.requests_per_minute = 0;
        let server = doorstep_registry::server::start(&config).await.unwrap();
        let token = |role, subject: &str, area: Option<&str>| {
            doorstep_registry::auth::dev_token(
                dir.path(),
                role,
                subject,
                area,
                None,
                Duration::from_secs(3600),
            )
            .unwrap()
        };
        let mut registry = Registry {
            url: server.url(),
            server,
            http: reqwest::Client::new(),
            admin: token(Role::Admin, "root", None),
            agent: token(Role::Agent, "agent", Some("KE.30")),
            staff: token(Role::Staff, "reviewer", None),
            programme: String::new(),
            _dir: dir,
        };
        let programme = registry
            .post(
                &registry.admin.clone(),
                "/v1/programmes",
                record(json!({"code": "bench", "name": "Bench"})),
                201,
            )
            .await;
        registry.programme = programme["id"].as_str().unwrap().to_owned();
        let form =
            record(json!({"programme_id": registry.programme, "version": 1, "schema": schema}));
        registry
            .post(&registry.admin.clone(), "/v1/forms", form, 201)
            .await;
        registry
    }

    async fn post(&self, token: &str, path: &str, body: Value, status: u16) -> Value {
        let r = self
            .http
            .post(format!("{}{path}", self.url))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status().as_u16(),
            status,
            "{path}: {}",
            r.text().await.unwrap()
        );
        r.json().await.unwrap()
    }

    /// An application with `answers`: a draft, or (checked) one the office sent back.
    async fn application(&self, answers: &Value, checked: bool) -> Value {
        let person = self
            .post(
                &self.agent,
                "/v1/individuals",
                record(json!({"given_name": "Bench", "family_name": "Person"})),
                201,
            )
            .await;
        let draft = record(
            json!({"programme_id": self.programme, "applicant_id": person["id"], "form_version": 1,
                                  "data": answers, "status": "draft"}),
        );
        let mut app = self.post(&self.agent, "/v1/applications", draft, 201).await;
        if checked {
            let path = format!(
                "/v1/applications/{}/transitions",
                app["id"].as_str().unwrap()
            );
            self.post(&self.agent, &path, json!({"to": "submitted"}), 200)
                .await;
            self.post(&self.staff, &path, json!({"to": "under_review"}), 200)
                .await;
            app = self
                .post(
                    &self.staff,
                    &path,
                    json!({"to": "more_information_needed", "note": "Check your answers."}),
                    200,
                )
                .await;
        }
        app
    }

    /// Draft writes and checked writes, measured in turns so both meet the same conditions
    /// (the machine's other work, the database's growth): one write of each alternately for
    /// the latencies, then [`ROUNDS`] rounds of each with [`CLIENTS`] writers for throughput
    /// (the median round).
    async fn measure(&self, answers: &Value) -> (Row, Row) {
        let client = self.client();
        let (mut draft, mut checked) = (
            self.application(answers, false).await,
            self.application(answers, true).await,
        );
        let (mut draft_times, mut checked_times) = (Vec::new(), Vec::new());
        for n in 0..SEQUENTIAL_WRITES {
            let time;
            (draft, time) = client.write(draft, n).await;
            draft_times.push(time);
            let time;
            (checked, time) = client.write(checked, n).await;
            checked_times.push(time);
        }
        let (mut draft_rates, mut checked_rates) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            draft_rates.push(self.round(answers, false).await);
            checked_rates.push(self.round(answers, true).await);
        }
        let row = |what, mut times: Vec<Duration>, mut rates: Vec<f64>| {
            times.sort();
            rates.sort_by(f64::total_cmp);
            Row {
                what,
                p50: percentile(&times, 0.5),
                p99: percentile(&times, 0.99),
                per_s: rates[rates.len() / 2],
            }
        };
        (
            row("write, draft (no check)", draft_times, draft_rates),
            row("write, checked", checked_times, checked_rates),
        )
    }

    /// Writes per second of [`CLIENTS`] writers at once, each on its own application.
    async fn round(&self, answers: &Value, checked: bool) -> f64 {
        let mut apps = Vec::new();
        for _ in 0..CLIENTS {
            apps.push(self.application(answers, checked).await);
        }
        let start = Instant::now();
        let tasks: Vec<_> = apps
            .into_iter()
            .map(|app| {
                let client = self.client();
                tokio::spawn(async move { client.writes(app, WRITES_PER_CLIENT).await })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        (CLIENTS * WRITES_PER_CLIENT) as f64 / start.elapsed().as_secs_f64()
    }

    /// A writer that can go to another task (the server stays with `self`).
    fn client(&self) -> Client {
        Client {
            url: self.url.clone(),
            http: self.http.clone(),
            agent: self.agent.clone(),
        }
    }
}

/// What a concurrent writer needs.
struct Client {
    url: String,
    http: reqwest::Client,
    agent: String,
}

impl Client {
    /// One PUT of `app` as the agent, changing one answer: the application as written, and how
    /// long it took.
    async fn write(&self, mut app: Value, n: usize) -> (Value, Duration) {
        app["data"]["f1"] = json!(if n.is_multiple_of(2) {
            "Amina Njoroge"
        } else {
            "Amina Odhiambo"
        });
        let t = Instant::now();
        let r = self
            .http
            .put(format!(
                "{}/v1/applications/{}",
                self.url,
                app["id"].as_str().unwrap()
            ))
            .bearer_auth(&self.agent)
            .header("if-match", format!("\"{}\"", app["rev"]))
            .json(&app)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        let written = r.json().await.unwrap();
        (written, t.elapsed())
    }

    /// `count` writes of `app`, one after the other.
    async fn writes(&self, mut app: Value, count: usize) {
        for n in 0..count {
            app = self.write(app, n).await.0;
        }
    }
}

fn record(fields: Value) -> Value {
    let mut body = json!({"id": Uuid::now_v7().to_string(), "created_at": "2026-11-01T08:30:00Z",
                          "updated_at": "2026-11-01T08:30:00Z", "created_by": "bench"});
    for (k, v) in fields.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

// Two worker threads: the server and its clients share the machine's two cores.
#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let (schema, answers) = form();
    let compiled = CompiledForm::compile(&schema).expect("the benchmark form is valid");
    let cleaned = compiled
        .validate(&answers)
        .expect("the benchmark answers are valid");
    let inputs = 200;
    let kept = cleaned.as_object().unwrap().len();
    println!(
        "Form validation benchmark: {inputs} fields in 10 panels (20 calculated, 20 with a condition, one panel of 20 hidden), {} answers sent, {kept} kept; {} cores",
        answers.as_object().unwrap().len(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );

    let check = in_process("check, form read each time", || {
        validate_submission(&schema, &answers).unwrap();
    });
    let check_only = in_process("check, form already read (registry)", || {
        compiled.validate(&answers).unwrap();
    });
    let registry = Registry::start(&schema).await;
    let (draft, written) = registry.measure(&answers).await;
    registry.server.shutdown().await.unwrap();

    println!(
        "{:<40} {:>10} {:>10} {:>14}",
        "", "p50", "p99", "per second"
    );
    for row in [&check, &check_only, &draft, &written] {
        println!(
            "{:<40} {:>10} {:>10} {:>14.0}",
            row.what,
            ms(row.p50),
            ms(row.p99),
            row.per_s
        );
    }
    println!(
        "checked write / draft write: p50 {:.2}x, p99 {:.2}x, throughput {:.2}x; the check (form already read) is {:.0}% of a checked write's p50",
        written.p50.as_secs_f64() / draft.p50.as_secs_f64(),
        written.p99.as_secs_f64() / draft.p99.as_secs_f64(),
        written.per_s / draft.per_s,
        100.0 * check_only.p50.as_secs_f64() / written.p50.as_secs_f64(),
    );
    println!(
        "load average while measuring: {}",
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );
}
