//! Messages beyond the app (issue 18), over real HTTP and real receivers on loopback, on both
//! backends: e-mail to a real SMTP server (Python's aiosmtpd), the webhook retried with backoff
//! and delivered once, a registry stopped mid-delivery that delivers after restart, opt-outs on
//! REST and sync push, no second message for a retried request or push, the staff outbox's
//! authorisation, and the scheduler's liveness reminders written once by two registries on one
//! database.
//!
//! Every wait is a bounded loop that polls; nothing asserts on elapsed time.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{backends, individual, meta, sync, with, Api, Backend};
use doorstep_domain::RecordKind;
use doorstep_registry::config::Config;
use doorstep_registry::outbound::config::{EmailConfig, Secret, TlsMode, WebhookConfig};
use doorstep_registry::outbound::{message_id, OutboundChannelKind};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

const SECRET: &str = "a-webhook-secret-for-tests";

/// Polls `check` every 50 ms, at most `tries` times; the last answer.
async fn eventually<T, F, Fut>(tries: u32, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..tries {
        if let Some(value) = check().await {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("not reached after {tries} tries");
}

/// Quick retries for tests: the worker looks every 50 ms, retries after 100–200 ms.
fn fast(config: &mut Config) {
    config.outbound.worker_period = Duration::from_millis(50);
    config.outbound.retry_base = Duration::from_millis(100);
    config.outbound.retry_max = Duration::from_millis(200);
    config.outbound.lease = Duration::from_secs(2);
}

fn webhook(url: &str) -> WebhookConfig {
    WebhookConfig {
        url: url.parse().unwrap(),
        secret: Secret::new(SECRET),
        timeout: Duration::from_secs(5),
    }
}

// ---------------------------------------------------------------------------------------------
// A webhook receiver: an axum server on loopback that keeps every attempt and the messages it
// accepted, de-duplicated by Idempotency-Key as a real gateway would.

/// One request the receiver got: (Idempotency-Key, signature header, body).
type Attempt = (String, String, Vec<u8>);

#[derive(Clone, Default)]
struct Receiver {
    /// Every request: (Idempotency-Key, signature header, body).
    attempts: Arc<Mutex<Vec<Attempt>>>,
    /// Accepted messages by key (what the gateway would send on as an SMS).
    delivered: Arc<Mutex<HashMap<String, Value>>>,
    /// Answer 503 to this many requests first.
    fail_first: Arc<Mutex<usize>>,
    /// Hold the first request this long before answering 200 (a registry stopped meanwhile).
    hold_first: Arc<Mutex<Option<Duration>>>,
}

impl Receiver {
    async fn start(self) -> String {
        use axum::routing::post;
        let app = axum::Router::new()
            .route("/hook", post(hook))
            .with_state(self);
        format!("{}/hook", common::serve_on_loopback(app).await)
    }

    fn attempts(&self) -> Vec<Attempt> {
        self.attempts.lock().unwrap().clone()
    }

    fn delivered(&self) -> HashMap<String, Value> {
        self.delivered.lock().unwrap().clone()
    }
}

async fn hook(
    axum::extract::State(r): axum::extract::State<Receiver>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> axum::http::StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let key = header("idempotency-key");
    r.attempts
        .lock()
        .unwrap()
        .push((key.clone(), header("doorstep-signature"), body.to_vec()));
    let hold = r.hold_first.lock().unwrap().take();
    if let Some(hold) = hold {
        tokio::time::sleep(hold).await;
    }
    {
        let mut fail = r.fail_first.lock().unwrap();
        if *fail > 0 {
            *fail -= 1;
            return axum::http::StatusCode::SERVICE_UNAVAILABLE;
        }
    }
    r.delivered
        .lock()
        .unwrap()
        .entry(key)
        .or_insert_with(|| serde_json::from_slice(&body).unwrap());
    axum::http::StatusCode::OK
}

// ---------------------------------------------------------------------------------------------
// A world: an agent's person with contact details and a document, staff to decide on it.

struct World {
    api: Api,
    person: Value,
    contact: Value,
    document: Value,
    agent: String,
    staff: String,
    citizen: String,
}

async fn created(api: &Api, path: &str, token: &str, body: Value) -> Value {
    let answer = api.post(path, token, &body).await;
    assert_eq!(
        answer.status, 201,
        "{} {path}: {:?}",
        api.backend, answer.json
    );
    answer.json
}

async fn world(api: Api, language: &str, national_id: &str) -> World {
    let agent = api.token("agent", "agent-a", Some("KE.30"), None);
    let mut person = individual(Uuid::now_v7(), "Amina", "Odhiambo", Some(national_id));
    person["preferred_language"] = json!(language);
    let person = created(&api, "/v1/individuals", &agent, person).await;
    let contact = created(
        &api,
        "/v1/contacts",
        &agent,
        with(
            meta(Uuid::now_v7()),
            json!({"registrant_id": person["id"], "emails": ["amina@example.org"],
                   "phones": [{"id": Uuid::now_v7(), "number_e164": "+254712345678", "kind": "mobile"}]}),
        ),
    )
    .await;
    let citizen = api.token(
        "citizen",
        &format!("c-{national_id}"),
        None,
        Some(national_id),
    );
    let document = created(
        &api,
        "/v1/documents",
        &citizen,
        with(
            meta(Uuid::now_v7()),
            json!({"kind": "id_card", "file_name": "id.pdf", "mime_type": "application/pdf",
                   "size_bytes": 10, "sha256": hex::encode(Sha256::digest(national_id.as_bytes())),
                   "linked_record": person["id"], "captured_at": "2026-11-01T08:30:00Z"}),
        ),
    )
    .await;
    let staff = api.token("staff", "reviewer", None, None);
    World {
        api,
        person,
        contact,
        document,
        agent,
        staff,
        citizen,
    }
}

impl World {
    fn person_id(&self) -> &str {
        self.person["id"].as_str().unwrap()
    }

    /// Staff decide on the document; the notification's id.
    async fn decide(&self, status: &str, key: Option<&str>) -> Uuid {
        let path = format!(
            "/v1/review/documents/{}/verification",
            self.document["id"].as_str().unwrap()
        );
        let body = match status {
            "rejected" => json!({"status": "rejected", "reason": "The photo is blurred."}),
            s => json!({"status": s}),
        };
        let headers: Vec<(&str, &str)> = key
            .map(|k| vec![("idempotency-key", k)])
            .unwrap_or_default();
        let answer = self
            .api
            .send("POST", &path, Some(&self.staff), Some(&body), &headers)
            .await;
        assert_eq!(
            answer.status, 200,
            "{}: {:?}",
            self.api.backend, answer.json
        );
        self.notifications()
            .await
            .last()
            .map(|n| n["id"].as_str().unwrap().parse().unwrap())
            .unwrap()
    }

    /// The person's notifications, oldest first.
    async fn notifications(&self) -> Vec<Value> {
        let answer = self
            .api
            .get(
                &format!("/v1/notifications?owner={}&limit=100", self.person_id()),
                &self.staff,
            )
            .await;
        assert_eq!(answer.status, 200, "{:?}", answer.json);
        let mut items = answer.json["items"].as_array().unwrap().clone();
        items.retain(|n| n["recipient_id"] == self.person["id"]);
        items
    }

    /// The person's outbox rows, newest first, as staff see them.
    async fn outbox(&self) -> Vec<Value> {
        let answer = self
            .api
            .get(
                &format!("/v1/outbox?recipient={}", self.person_id()),
                &self.staff,
            )
            .await;
        assert_eq!(answer.status, 200, "{:?}", answer.json);
        answer.json["items"].as_array().unwrap().clone()
    }

    async fn outbox_settled(&self, count: usize) -> Vec<Value> {
        eventually(200, || async {
            let rows = self.outbox().await;
            (rows.len() == count
                && rows
                    .iter()
                    .all(|r| r["status"] == "delivered" || r["status"] == "failed"))
            .then_some(rows)
        })
        .await
    }
}

// ---------------------------------------------------------------------------------------------
// E-mail to a real SMTP server.

/// A running `python -m aiosmtpd` on loopback, printing what it receives; killed when dropped.
struct Smtpd {
    child: tokio::process::Child,
    port: u16,
    out: Arc<Mutex<String>>,
}

impl Drop for Smtpd {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// aiosmtpd's Python, installed by `scripts/lib.sh` (`setup_aiosmtpd`); `None` (the test is
/// skipped) when it is not there and DOORSTEP_REQUIRE_SMTP is not set.
fn smtpd_python() -> Option<std::path::PathBuf> {
    let venv = std::env::var_os("AIOSMTPD_VENV")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(std::env::var_os("HOME").unwrap())
                .join(".cache/doorstep/aiosmtpd")
        });
    let python = venv.join("bin/python");
    let ok = std::process::Command::new(&python)
        .args(["-c", "import aiosmtpd"])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Some(python);
    }
    assert!(
        std::env::var_os("DOORSTEP_REQUIRE_SMTP").is_none(),
        "DOORSTEP_REQUIRE_SMTP is set but aiosmtpd is not installed at {}: run `./dev test` (setup_aiosmtpd)",
        venv.display()
    );
    eprintln!(
        "aiosmtpd not installed at {}: e-mail test skipped (./dev test installs it)",
        venv.display()
    );
    None
}

async fn smtpd(python: &std::path::Path) -> Smtpd {
    use tokio::io::AsyncBufReadExt;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = tokio::process::Command::new(python)
        .args([
            "-u",
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            &format!("127.0.0.1:{port}"),
        ])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start aiosmtpd");
    let out = Arc::new(Mutex::new(String::new()));
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let sink = out.clone();
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            let mut out = sink.lock().unwrap();
            out.push_str(&line);
            out.push('\n');
        }
    });
    eventually(200, || async {
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .ok()
            .map(|_| ())
    })
    .await;
    Smtpd { child, port, out }
}

#[tokio::test]
async fn a_rejected_document_is_e_mailed_in_the_persons_language_to_a_real_smtp_server() {
    let Some(python) = smtpd_python() else {
        return;
    };
    for backend in backends().await {
        let smtp = smtpd(&python).await;
        let api = Api::start_with(&backend, |c| {
            fast(c);
            c.outbound.email = Some(EmailConfig {
                host: "127.0.0.1".into(),
                port: smtp.port,
                from: "Registry <registry@example.org>".into(),
                tls: TlsMode::None,
                credentials: None,
                timeout: Duration::from_secs(5),
            });
        })
        .await;
        let w = world(api, "fr-CM", "NID-5001").await;
        let notification = w.decide("rejected", None).await;
        let rows = w.outbox_settled(1).await;
        let id = message_id(notification, OutboundChannelKind::Email);
        assert_eq!(rows[0]["id"], json!(id), "{}", backend.name);
        assert_eq!(rows[0]["channel"], "email");
        assert_eq!(rows[0]["status"], "delivered", "{:?}", rows[0]);
        assert_eq!(rows[0]["attempts"], 1);
        assert_eq!(rows[0]["notification_id"], json!(notification));
        assert!(
            rows[0].get("body").is_none() && rows[0].get("subject").is_none(),
            "no text for staff"
        );
        let received = eventually(100, || async {
            let out = smtp.out.lock().unwrap().clone();
            out.contains(&id.to_string()).then_some(out)
        })
        .await;
        assert!(
            received.contains("Subject: Veuillez renvoyer votre document"),
            "{received}"
        );
        assert!(
            received.contains(&format!("Message-ID: <{id}@example.org>")),
            "{received}"
        );
        assert!(received.contains("To: amina@example.org"), "{received}");
        assert!(received.contains("Content-Language: fr"), "{received}");
        w.api.stop().await;
    }
}

// ---------------------------------------------------------------------------------------------
// The webhook.

#[tokio::test]
async fn the_webhook_is_retried_after_two_failures_and_delivered_once_with_one_key() {
    for backend in backends().await {
        let receiver = Receiver::default();
        *receiver.fail_first.lock().unwrap() = 2;
        let url = receiver.clone().start().await;
        let api = Api::start_with(&backend, |c| {
            fast(c);
            c.outbound.webhook = Some(webhook(&url));
        })
        .await;
        let w = world(api, "ar", "NID-5002").await;
        let notification = w.decide("verified", None).await;
        let rows = w.outbox_settled(1).await;
        let id = message_id(notification, OutboundChannelKind::Webhook).to_string();
        assert_eq!(
            rows[0]["status"], "delivered",
            "{}: {:?}",
            backend.name, rows[0]
        );
        assert_eq!(rows[0]["attempts"], 3);
        assert_eq!(rows[0]["address"], "+254712345678");
        // The last failure is kept for staff until delivery clears nothing: it says what happened.
        assert!(
            rows[0]["last_error"].as_str().unwrap().contains("503"),
            "{:?}",
            rows[0]
        );
        let attempts = receiver.attempts();
        assert_eq!(attempts.len(), 3, "{}", backend.name);
        for (key, signature, body) in &attempts {
            assert_eq!(key, &id, "the same key on every attempt");
            assert_eq!(
                signature,
                &doorstep_registry::outbound::webhook::signature(SECRET.as_bytes(), body)
            );
        }
        let delivered = receiver.delivered();
        assert_eq!(delivered.len(), 1);
        let message = &delivered[&id];
        assert_eq!(message["to"], "+254712345678");
        assert_eq!(message["language"], "ar");
        assert_eq!(message["subject"], "تم قبول المستند");
        assert_eq!(message["notification_id"], json!(notification));
        w.api.stop().await;
    }
}

#[tokio::test]
async fn a_refusal_for_good_fails_at_once_and_attempts_are_bounded() {
    for backend in backends().await {
        // Nothing listens at this port: every attempt fails, and is retried max_attempts times.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let api = Api::start_with(&backend, |c| {
            fast(c);
            c.outbound.max_attempts = 3;
            c.outbound.webhook = Some(webhook(&format!("http://127.0.0.1:{port}/hook")));
        })
        .await;
        let w = world(api, "en", "NID-5003").await;
        w.decide("verified", None).await;
        let rows = w.outbox_settled(1).await;
        assert_eq!(
            rows[0]["status"], "failed",
            "{}: {:?}",
            backend.name, rows[0]
        );
        assert_eq!(rows[0]["attempts"], 3);
        assert!(rows[0]["last_error"]
            .as_str()
            .unwrap()
            .contains("gave up after 3 attempts"));
        let failed = w.api.get("/v1/outbox?status=failed", &w.staff).await;
        assert_eq!(failed.json["items"].as_array().unwrap().len(), 1);
        let delivered = w.api.get("/v1/outbox?status=delivered", &w.staff).await;
        assert!(delivered.json["items"].as_array().unwrap().is_empty());
        w.api.stop().await;
    }
}

/// A registry started on `data` and `backend`'s database (the same one again after a stop).
async fn registry_on(
    backend: &Backend,
    data: &std::path::Path,
    adjust: impl FnOnce(&mut Config),
) -> doorstep_registry::server::RunningServer {
    let mut config = backend.config(data);
    config.dev_auth = true;
    adjust(&mut config);
    doorstep_registry::server::start(&config).await.unwrap()
}

#[tokio::test]
async fn a_registry_stopped_mid_delivery_delivers_after_restart_without_a_duplicate() {
    for backend in backends().await {
        let receiver = Receiver::default();
        // The first attempt is received, then answered only after the registry is gone.
        *receiver.hold_first.lock().unwrap() = Some(Duration::from_secs(3));
        let url = receiver.clone().start().await;
        let settings = |c: &mut Config| {
            fast(c);
            c.outbound.lease = Duration::from_millis(500);
            c.outbound.webhook = Some(webhook(&url));
        };
        let api = Api::start_with(&backend, settings).await;
        let w = world(api, "en", "NID-5004").await;
        let notification = w.decide("verified", None).await;
        let id = message_id(notification, OutboundChannelKind::Webhook).to_string();
        eventually(200, || async {
            (!receiver.attempts().is_empty()).then_some(())
        })
        .await;
        // Stopped while its send is in flight: the row stays claimed, nothing recorded.
        let World { api, staff, .. } = w;
        let Api { server, data, .. } = api;
        server.shutdown().await.unwrap();
        assert!(receiver.delivered().is_empty());

        let again = registry_on(&backend, data.path(), settings).await;
        let http = reqwest::Client::new();
        let rows: Value = eventually(200, || async {
            let rows: Value = http
                .get(format!("{}/v1/outbox", again.url()))
                .bearer_auth(&staff)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            (rows["items"][0]["status"] == "delivered").then_some(rows)
        })
        .await;
        assert_eq!(
            rows["items"].as_array().unwrap().len(),
            1,
            "{}",
            backend.name
        );
        assert_eq!(rows["items"][0]["attempts"], 2, "{rows:?}");
        // Sent twice (at least once), both times as the same message: the receiver keeps one.
        eventually(100, || async {
            (receiver.attempts().len() >= 2).then_some(())
        })
        .await;
        assert!(receiver.attempts().iter().all(|(key, _, _)| key == &id));
        eventually(100, || async {
            (receiver.delivered().len() == 1).then_some(())
        })
        .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(receiver.delivered().len(), 1, "{}", backend.name);
        again.shutdown().await.unwrap();
    }
}

// ---------------------------------------------------------------------------------------------
// Exactly one notification and one message per request, whatever is retried.

#[tokio::test]
async fn a_retried_request_or_push_makes_no_second_notification_or_message() {
    for backend in backends().await {
        let receiver = Receiver::default();
        let url = receiver.clone().start().await;
        let api = Api::start_with(&backend, |c| {
            fast(c);
            c.outbound.webhook = Some(webhook(&url));
        })
        .await;
        let w = world(api, "en", "NID-5005").await;
        // REST, the same Idempotency-Key twice.
        let first = w.decide("verified", Some("decide-once")).await;
        let second = w.decide("verified", Some("decide-once")).await;
        assert_eq!(first, second, "{}", backend.name);
        assert_eq!(w.notifications().await.len(), 1);
        // Sync push: staff send a notification, then the same push again.
        let note = with(
            meta(Uuid::now_v7()),
            json!({"recipient_id": w.person["id"], "kind": "general", "title": "Office closed",
                   "body": "The office is closed on Friday."}),
        );
        let mutation = sync::create(RecordKind::Notification, &note);
        for _ in 0..2 {
            let results = sync::push(&w.api, &w.staff, std::slice::from_ref(&mutation)).await;
            assert!(
                matches!(
                    results[0],
                    doorstep_domain::sync::MutationResult::Applied { .. }
                ),
                "{results:?}"
            );
        }
        assert_eq!(w.notifications().await.len(), 2, "{}", backend.name);
        let rows = w.outbox_settled(2).await;
        assert!(rows.iter().all(|r| r["status"] == "delivered"), "{rows:?}");
        assert_eq!(receiver.delivered().len(), 2);
        assert_eq!(receiver.attempts().len(), 2, "each sent once");
        w.api.stop().await;
    }
}

// ---------------------------------------------------------------------------------------------
// Opting out, on REST and on sync push.

#[tokio::test]
async fn opting_out_is_honoured_on_rest_and_sync_push() {
    for backend in backends().await {
        let receiver = Receiver::default();
        let url = receiver.clone().start().await;
        let api = Api::start_with(&backend, |c| {
            fast(c);
            // E-mail is configured but nothing listens: its rows stay pending, which is enough to
            // see which rows are made.
            c.outbound.email = Some(EmailConfig {
                host: "127.0.0.1".into(),
                port: 9,
                from: "registry@example.org".into(),
                tls: TlsMode::None,
                credentials: None,
                timeout: Duration::from_secs(1),
            });
            c.outbound.retry_base = Duration::from_secs(600);
            c.outbound.retry_max = Duration::from_secs(600);
            c.outbound.webhook = Some(webhook(&url));
        })
        .await;
        let w = world(api, "en", "NID-5006").await;
        let channels = |rows: &[Value]| {
            let mut c: Vec<String> = rows
                .iter()
                .map(|r| r["channel"].as_str().unwrap().to_owned())
                .collect();
            c.sort();
            c
        };
        let n1 = w.decide("verified", None).await;
        let rows = w.outbox().await;
        assert_eq!(channels(&rows), ["email", "webhook"], "{}", backend.name);

        // REST: no e-mail, please. A bad opt-out is refused with the field named.
        let path = format!("/v1/contacts/{}", w.contact["id"].as_str().unwrap());
        let bad = with(w.contact.clone(), json!({"opted_out": ["in_app"]}));
        let refused = w.api.put(&path, &w.agent, &bad, 1).await;
        assert_eq!(refused.status, 422, "{:?}", refused.json);
        assert!(
            refused.json["errors"].to_string().contains("opted_out[0]"),
            "{:?}",
            refused.json
        );
        let contact = w
            .api
            .put(
                &path,
                &w.agent,
                &with(w.contact.clone(), json!({"opted_out": ["email"]})),
                1,
            )
            .await;
        assert_eq!(contact.status, 200, "{:?}", contact.json);
        let n2 = w.decide("rejected", None).await;
        let rows = w.outbox().await;
        let of = |n: Uuid| {
            rows.iter()
                .filter(|r| r["notification_id"] == json!(n))
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(channels(&of(n1)), ["email", "webhook"]);
        assert_eq!(channels(&of(n2)), ["webhook"], "{}", backend.name);

        // Sync push (the person's own device): no SMS either.
        let before = contact.json.clone();
        let after = with(before.clone(), json!({"opted_out": ["email", "sms"]}));
        let results = sync::push(
            &w.api,
            &w.citizen,
            &[sync::update(RecordKind::Contact, &before, &after)],
        )
        .await;
        assert!(
            matches!(
                results[0],
                doorstep_domain::sync::MutationResult::Applied { .. }
            ),
            "{results:?}"
        );
        let bad = with(after.clone(), json!({"opted_out": ["sms", "sms"]}));
        let stored = sync::record_of(&results[0]);
        let results = sync::push(
            &w.api,
            &w.citizen,
            &[sync::update(RecordKind::Contact, &stored, &bad)],
        )
        .await;
        assert!(
            matches!(
                results[0],
                doorstep_domain::sync::MutationResult::Rejected { .. }
            ),
            "{results:?}"
        );
        let n3 = w.decide("verified", None).await;
        let rows = w.outbox().await;
        assert!(
            rows.iter().all(|r| r["notification_id"] != json!(n3)),
            "{}: {rows:?}",
            backend.name
        );
        // The notification in the app is still there.
        assert!(w.notifications().await.iter().any(|n| n["id"] == json!(n3)));
        w.api.stop().await;
    }
}

#[tokio::test]
async fn without_outbound_settings_nothing_is_kept_for_sending() {
    for backend in backends().await {
        let api = Api::start(&backend).await;
        let w = world(api, "en", "NID-5007").await;
        w.decide("verified", None).await;
        assert_eq!(w.notifications().await.len(), 1);
        assert!(w.outbox().await.is_empty(), "{}", backend.name);
        w.api.stop().await;
    }
}

// ---------------------------------------------------------------------------------------------
// Who sees the outbox.

#[tokio::test]
async fn only_staff_see_the_outbox_and_staff_limited_to_areas_only_theirs() {
    for backend in backends().await {
        let receiver = Receiver::default();
        let url = receiver.clone().start().await;
        let api = Api::start_with(&backend, |c| {
            fast(c);
            c.outbound.webhook = Some(webhook(&url));
        })
        .await;
        let w = world(api, "en", "NID-5008").await;
        w.decide("verified", None).await;
        w.decide("rejected", None).await;
        w.outbox_settled(2).await;
        let admin = w.api.token("admin", "root", None, None);
        for (who, area) in [("ke30-reviewer", "KE.30"), ("ke31-reviewer", "KE.31")] {
            let grant = w
                .api
                .post(
                    "/v1/staff",
                    &admin,
                    &json!({"issuer": "doorstep-dev-auth", "subject": who, "role": "staff", "areas": [area]}),
                )
                .await;
            assert_eq!(grant.status, 201, "{:?}", grant.json);
        }
        let count = |answer: &common::Answer| answer.json["items"].as_array().map(Vec::len);
        let ke30 = w.api.token("staff", "ke30-reviewer", None, None);
        let ke31 = w.api.token("staff", "ke31-reviewer", None, None);
        assert_eq!(
            count(&w.api.get("/v1/outbox", &ke30).await),
            Some(2),
            "{}",
            backend.name
        );
        assert_eq!(
            count(&w.api.get("/v1/outbox", &ke31).await),
            Some(0),
            "{}",
            backend.name
        );
        assert_eq!(count(&w.api.get("/v1/outbox", &admin).await), Some(2));
        for token in [&w.citizen, &w.agent] {
            let refused = w.api.get("/v1/outbox", token).await;
            assert_eq!(refused.status, 403, "{:?}", refused.json);
            assert_eq!(refused.json.get("items"), None);
        }
        assert_eq!(
            w.api
                .send("GET", "/v1/outbox", None, None, &[])
                .await
                .status,
            401
        );
        for bad in [
            "?status=lost",
            "?limit=0",
            "?limit=201",
            "?before=yesterday",
            "?recipient=x",
            "?colour=red",
        ] {
            let answer = w.api.get(&format!("/v1/outbox{bad}"), &w.staff).await;
            assert_eq!(answer.status, 400, "{bad}: {:?}", answer.json);
        }
        // Pages, newest first, with the cursor.
        let first = w.api.get("/v1/outbox?limit=1", &w.staff).await;
        assert_eq!(count(&first), Some(1));
        let before = first.json["next_before"].as_str().unwrap().to_owned();
        let second = w
            .api
            .get(
                &format!("/v1/outbox?limit=1&before={}", urlencode(&before)),
                &w.staff,
            )
            .await;
        assert_eq!(count(&second), Some(1));
        assert_ne!(first.json["items"][0]["id"], second.json["items"][0]["id"]);
        assert!(second.json["next_before"].is_null());
        w.api.stop().await;
    }
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

// ---------------------------------------------------------------------------------------------
// The scheduler: liveness reminders, once, with two registries on one database.

#[tokio::test]
async fn two_registries_on_one_database_write_each_liveness_reminder_once() {
    use doorstep_registry::scheduler::{Job, Scheduler};
    for backend in backends().await {
        // This registry's own scheduler stays off: the two below are the ones racing.
        let api = Api::start_with(&backend, |c| c.scheduler.enabled = false).await;
        let agent = api.token("agent", "agent-a", Some("KE.30"), None);
        let staff = api.token("staff", "reviewer", None, None);
        let today = time::OffsetDateTime::now_utc().date();
        let day = |offset: i64| {
            doorstep_domain::date_format::format(today + time::Duration::days(offset))
        };
        // (due in days from today, expected reminder)
        let cases = [
            (3, Some("due")),
            (-40, Some("overdue")),
            (-5, Some("due")),
            (60, None),
        ];
        let mut people = Vec::new();
        for (i, (due, _)) in cases.iter().enumerate() {
            let mut person = individual(Uuid::now_v7(), "Baraka", &format!("N{i}"), None);
            person["preferred_language"] = json!(["en", "fr", "ar", "en"][i]);
            let person = created(&api, "/v1/individuals", &agent, person).await;
            // An older check, superseded: only the latest one counts.
            for (performed, next) in [(-800, -400), (-10, *due)] {
                let performed_at = format!("{}T09:00:00Z", day(performed.min(next)));
                created(
                    &api,
                    "/v1/liveness-checks",
                    &staff,
                    with(
                        meta(Uuid::now_v7()),
                        json!({"individual_id": person["id"], "performed_at": performed_at,
                               "provider": "esignet", "outcome": "passed", "next_due": day(next)}),
                    ),
                )
                .await;
            }
            people.push(person);
        }
        // Sent without a next due day, a passed check gets the registry's interval.
        let defaulted = created(
            &api,
            "/v1/liveness-checks",
            &staff,
            with(
                meta(Uuid::now_v7()),
                json!({"individual_id": people[3]["id"], "performed_at": "2026-01-10T09:00:00Z",
                       "provider": "esignet", "outcome": "failed"}),
            ),
        )
        .await;
        assert!(
            defaulted["next_due"].is_null(),
            "only a passed check gets a due day"
        );
        let passed = created(
            &api,
            "/v1/liveness-checks",
            &staff,
            with(
                meta(Uuid::now_v7()),
                json!({"individual_id": people[3]["id"], "performed_at": format!("{}T09:00:00Z", day(-1)),
                       "provider": "esignet", "outcome": "passed"}),
            ),
        )
        .await;
        assert_eq!(passed["next_due"], json!(day(364)), "{}", backend.name);

        // Two registries' stores on the one database (SQLite: the same file).
        let config = doorstep_registry::outbound::SchedulerConfig::default();
        let open = || doorstep_registry::storage::open(api.data.path(), &backend.database);
        let (one, two) = (open().await.unwrap(), open().await.unwrap());
        let a = Scheduler::new(one.clone(), config, Default::default());
        let b = Scheduler::new(two.clone(), config, Default::default());
        let now = time::OffsetDateTime::now_utc();
        // At the same time: one takes the job, the other does not run it.
        let (ra, rb) = tokio::join!(a.run(Job::Liveness, now), b.run(Job::Liveness, now));
        let ran: Vec<_> = [ra.unwrap(), rb.unwrap()].into_iter().flatten().collect();
        assert_eq!(ran.len(), 1, "{}: exactly one ran", backend.name);
        assert_eq!(ran[0].written, 3);
        // The next run is a period away.
        assert_eq!(a.run(Job::Liveness, now).await.unwrap(), None);
        // Even run together without the job's lease (a lease that ran out mid-run), nobody is
        // told twice.
        let (ra, rb) = tokio::join!(a.liveness(now), b.liveness(now));
        let (ra, rb) = (ra.unwrap(), rb.unwrap());
        assert_eq!((ra.written, rb.written), (0, 0), "{}", backend.name);
        assert_eq!((ra.already, rb.already), (3, 3));

        for (person, (due, expected)) in people.iter().zip(cases) {
            let answer = api
                .get(
                    &format!("/v1/notifications?owner={}", person["id"].as_str().unwrap()),
                    &staff,
                )
                .await;
            let notes: Vec<&Value> = answer.json["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|n| n["kind"] == "liveness_due")
                .collect();
            match expected {
                None => assert!(notes.is_empty(), "{}: {notes:?}", backend.name),
                Some(what) => {
                    assert_eq!(notes.len(), 1, "{}: {notes:?}", backend.name);
                    assert_eq!(notes[0]["deadline"], json!(day(due)));
                    let title = notes[0]["title"].as_str().unwrap();
                    let overdue = ["overdue", "en retard", "تأخّر"]
                        .iter()
                        .any(|w| title.contains(w));
                    assert_eq!(overdue, what == "overdue", "{title}");
                }
            }
        }
        one.close().await;
        two.close().await;
        api.stop().await;
    }
}
