//! Desktop alerts and reminders that fire offline (issue 18), with the real app core, the real
//! test provider and a real registry: a message the office sends becomes one alert after the
//! sync; a deadline known on the device is reminded at the device's reminder time with the
//! registry stopped.
//!
//! The reminder time is a device setting (DOORSTEP_REMINDER_TIME, HH:MM local): the test sets
//! it to the next whole minute at least one minute ahead, so the reminder fires 60–120 s after
//! the registry went away. Every wait is bounded.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::app::*;
use common::oidc::{start_provider, HeadlessLogin, INDIVIDUAL_ID, PERSON};
use doorstep_client::app::config::ENV_REMINDER_TIME;
use doorstep_client::app::{Alert, AlertSink, Screen};
use doorstep_registry::auth::Role;
use serde_json::json;
use uuid::Uuid;

/// Collects what would have gone to the desktop.
#[derive(Default)]
struct Collected(Mutex<Vec<Alert>>);

impl AlertSink for Collected {
    fn show(&self, alert: Alert) {
        self.0.lock().unwrap().push(alert);
    }
}

impl Collected {
    fn keys(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|a| a.key.clone())
            .collect()
    }

    /// Wait (bounded by `seconds`) for an alert whose key starts with `prefix`.
    async fn wait_for(&self, prefix: &str, seconds: u64) -> Alert {
        for _ in 0..seconds * 4 {
            if let Some(a) = self
                .0
                .lock()
                .unwrap()
                .iter()
                .find(|a| a.key.starts_with(prefix))
            {
                return a.clone();
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        panic!(
            "no alert {prefix}… within {seconds} s; shown: {:?}",
            self.keys()
        );
    }
}

/// The next whole local minute at least 60 s from now: (its `HH:MM`, its local date).
fn a_minute_ahead() -> (String, String) {
    let at = chrono::Local::now() + chrono::Duration::seconds(60);
    let at = at + chrono::Duration::seconds(60 - i64::from(chrono::Timelike::second(&at)));
    (
        at.format("%H:%M").to_string(),
        at.format("%Y-%m-%d").to_string(),
    )
}

#[tokio::test]
async fn a_message_alerts_once_and_a_reminder_fires_with_the_registry_stopped() {
    let Some(provider) = start_provider(None).await else {
        return;
    };
    let registry_dir = tempfile::tempdir().unwrap();
    let registry = registry_trusting(&provider, registry_dir.path()).await;
    let url = registry.url();
    let http = reqwest::Client::new();
    let agent = dev_token(
        registry_dir.path(),
        Role::Agent,
        "seed-agent",
        Some("KE.30"),
    );
    let staff = dev_token(registry_dir.path(), Role::Staff, "reviewer-1", None);
    let stamp = "2026-01-05T09:00:00Z";
    let me = Uuid::now_v7();
    let answer = http
        .post(format!("{url}/v1/individuals"))
        .bearer_auth(&agent)
        .json(&json!({
            "id": me, "created_at": stamp, "updated_at": stamp, "created_by": "agent:seed-agent",
            "given_name": "Amina", "family_name": "Njoroge", "preferred_language": "fr",
            "reg_ids": [{"id_type": "national_id", "value": INDIVIDUAL_ID}]
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 201, "{}", answer.text().await.unwrap());

    let (reminder_time, fire_day) = a_minute_ahead();
    let data = tempfile::tempdir().unwrap();
    let app = app_with(
        &provider,
        &url,
        data.path(),
        "personal",
        &[(ENV_REMINDER_TIME, &reminder_time)],
    );
    let desktop = Arc::new(Collected::default());
    app.set_alert_sink(desktop.clone()).await;
    app.sign_in(&HeadlessLogin(PERSON), false).await.unwrap();
    app.choose_passphrase(PASSPHRASE.into()).await.unwrap();
    wait_for(&app, "first sync", synced).await;
    // The home screen is what the person sees first; it finds their record on the device.
    assert!(app.home().await.unwrap().registered);

    // The office asks for something by the day the reminder time falls on.
    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let asked = Uuid::now_v7();
    let answer = http
        .post(format!("{url}/v1/notifications"))
        .bearer_auth(&staff)
        .json(&json!({
            "id": asked, "created_at": now, "updated_at": now, "created_by": "reviewer-1",
            "recipient_id": me, "kind": "deadline",
            "title": "Envoyez votre fiche de paie", "body": "Avant la date limite.",
            "deadline": fire_day,
        }))
        .send()
        .await
        .unwrap();
    assert!(
        answer.status().is_success(),
        "{}",
        answer.text().await.unwrap()
    );
    let before = mark(&app);
    app.sync_now().await.unwrap();
    wait_synced_since(&app, "the office's message arrived", before).await;

    // The message itself: one alert, opening the notifications.
    let message = desktop.wait_for(&asked.to_string(), 30).await;
    assert_eq!(message.title, "Envoyez votre fiche de paie");
    assert_eq!(message.opens, Screen::Notifications);

    // The registry goes away; the device still knows the date.
    registry.shutdown().await.unwrap();
    let reminder = desktop.wait_for("deadline-today:", 150).await;
    assert_eq!(
        reminder.title, "Dernier jour aujourd'hui",
        "in the person's language"
    );
    assert_eq!(reminder.body, "Envoyez votre fiche de paie");
    assert!(
        reminder.key.contains(&asked.to_string()),
        "{}",
        reminder.key
    );
    // Each once: another sync attempt (offline) and the minute ticking on add nothing.
    let _ = app.sync_now().await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let keys = desktop.keys();
    for key in [asked.to_string(), reminder.key.clone()] {
        assert_eq!(
            keys.iter().filter(|k| **k == key).count(),
            1,
            "{key} in {keys:?}"
        );
    }
}
