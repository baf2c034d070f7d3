//! What the alert check shows, on a real (encrypted) partition with a fixed clock.

use std::sync::Arc;

use doorstep_domain::ids::ActorId;
use doorstep_domain::individual::Individual;
use doorstep_domain::liveness::LivenessCheck;
use doorstep_domain::record::RecordMeta;
use serde_json::json;
use time::macros::datetime;
use uuid::Uuid;

use super::*;
use crate::app::details::ME_KEY;
use crate::vault::{Change, KdfParams, NoKeyStore, Op, Vault};

/// Noon UTC on 2027-03-01; reminders fire at 09:00 UTC of their day.
struct Fixed(OffsetDateTime);

impl Clock for Fixed {
    fn now(&self) -> OffsetDateTime {
        self.0
    }
    fn today(&self) -> Date {
        self.0.date()
    }
    fn fires_at(&self, day: Date) -> OffsetDateTime {
        day.with_hms(9, 0, 0).unwrap().assume_utc()
    }
}

const NOON: OffsetDateTime = datetime!(2027-03-01 12:00 UTC);

fn me_in(language: &str) -> (tempfile::TempDir, Partition, Individual) {
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::open(dir.path(), Arc::new(NoKeyStore)).unwrap();
    let (partition, _) = vault
        .create_partition("sunflower-42", KdfParams::FAST_INSECURE_FOR_TESTS)
        .unwrap();
    let mut me = Individual::new(
        RecordMeta::new(Uuid::now_v7().into(), NOON, ActorId::new("t")),
        "Amina",
        "Njoroge",
    );
    me.preferred_language = Some(language.into());
    partition
        .apply_batch(&[Change::of(&me, Op::Create, "t").unwrap()])
        .unwrap();
    partition
        .save_draft(ME_KEY, &json!({ "individual": me.meta.id }))
        .unwrap();
    (dir, partition, me)
}

fn notify(
    partition: &Partition,
    to: &Individual,
    title: &str,
    created: &str,
    deadline: Option<&str>,
) -> Uuid {
    let id = Uuid::now_v7();
    let n: Notification = serde_json::from_value(json!({
        "id": id, "created_at": created, "updated_at": created, "created_by": "reviewer",
        "recipient_id": to.meta.id, "kind": if deadline.is_some() { "deadline" } else { "application_status" },
        "title": title, "body": "<b>Read</b> it", "deadline": deadline,
        "related_record": if deadline.is_some() { serde_json::Value::Null } else { json!(Uuid::now_v7()) },
    }))
    .unwrap();
    partition
        .apply_batch(&[Change::of(&n, Op::Create, "t").unwrap()])
        .unwrap();
    id
}

fn keys(alerts: &[Alert]) -> Vec<&str> {
    alerts
        .iter()
        .map(|a| a.key.split(['@', ':']).next().unwrap())
        .collect()
}

#[test]
fn a_new_message_is_shown_once_and_an_old_or_read_one_never() {
    let (_dir, partition, me) = me_in("en");
    let fresh = notify(
        &partition,
        &me,
        "Your application was approved",
        "2027-03-01T10:00:00Z",
        None,
    );
    notify(&partition, &me, "Old news", "2027-02-01T10:00:00Z", None);
    let (alerts, next) = check(&partition, &Fixed(NOON)).unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0].key, fresh.to_string());
    assert_eq!(alerts[0].title, "Your application was approved");
    assert_eq!(alerts[0].opens, Screen::Notifications);
    assert_eq!(next, None);
    // Again (another sync, a restart): nothing.
    assert!(check(&partition, &Fixed(NOON)).unwrap().0.is_empty());
}

#[test]
fn many_new_messages_become_three_and_a_summary() {
    let (_dir, partition, me) = me_in("fr");
    for i in 0..5 {
        notify(
            &partition,
            &me,
            &format!("Message {i}"),
            &format!("2027-03-01T10:0{i}:00Z"),
            None,
        );
    }
    let (alerts, _) = check(&partition, &Fixed(NOON)).unwrap();
    let titles: Vec<&str> = alerts.iter().map(|a| a.title.as_str()).collect();
    assert_eq!(
        titles,
        ["Message 2", "Message 3", "Message 4", "Nouveaux messages"]
    );
    assert!(alerts[3].body.contains('2'), "{}", alerts[3].body);
}

#[test]
fn a_deadline_is_reminded_at_its_time_and_the_next_time_is_told() {
    let (_dir, partition, me) = me_in("ar");
    let id = notify(
        &partition,
        &me,
        "Send your payslip",
        "2027-02-20T10:00:00Z",
        Some("2027-03-03"),
    );
    // Two days ahead, at 09:00: already passed at noon today → shown now; the day itself next.
    let (alerts, next) = check(&partition, &Fixed(NOON)).unwrap();
    assert_eq!(keys(&alerts), ["deadline-soon"], "{alerts:?}");
    assert!(alerts[0].body.contains("Send your payslip") && alerts[0].title.contains("2027-03-03"));
    assert!(alerts[0].key.contains(&id.to_string()));
    assert_eq!(next, Some(datetime!(2027-03-03 09:00 UTC)));
    // Before its time nothing fires; at its time, the reminder of the day.
    assert!(check(&partition, &Fixed(datetime!(2027-03-03 08:59 UTC)))
        .unwrap()
        .0
        .is_empty());
    let (alerts, next) = check(&partition, &Fixed(datetime!(2027-03-03 09:00 UTC))).unwrap();
    assert_eq!(keys(&alerts), ["deadline-today"]);
    assert_eq!(alerts[0].title, "اليوم آخر يوم");
    assert_eq!(next, None);
}

#[test]
fn a_liveness_due_date_is_reminded_and_opens_home() {
    let (_dir, partition, me) = me_in("en");
    let c: LivenessCheck = serde_json::from_value(json!({
        "id": Uuid::now_v7(), "created_at": "2026-03-01T08:30:00Z", "updated_at": "2026-03-01T08:30:00Z",
        "created_by": "t", "individual_id": me.meta.id, "performed_at": "2026-03-01T08:30:00Z",
        "provider": "esignet", "outcome": "passed", "next_due": "2027-03-07",
    }))
    .unwrap();
    partition
        .apply_batch(&[Change::of(&c, Op::Create, "t").unwrap()])
        .unwrap();
    let (alerts, next) = check(&partition, &Fixed(NOON)).unwrap();
    assert_eq!(keys(&alerts), ["liveness-soon"]);
    assert_eq!(alerts[0].opens, Screen::Home);
    assert!(alerts[0].body.contains("2027-03-07"));
    assert_eq!(next, Some(datetime!(2027-03-07 09:00 UTC)));
}

#[test]
fn turned_off_nothing_is_shown_and_turning_on_brings_no_flood() {
    let (_dir, partition, me) = me_in("en");
    set_enabled(&partition, false).unwrap();
    assert!(!settings(&partition, false).unwrap().enabled);
    notify(&partition, &me, "While off", "2027-03-01T10:00:00Z", None);
    assert!(check(&partition, &Fixed(NOON)).unwrap().0.is_empty());
    set_enabled(&partition, true).unwrap();
    assert!(check(&partition, &Fixed(NOON)).unwrap().0.is_empty());
    notify(&partition, &me, "While on", "2027-03-01T11:00:00Z", None);
    let (alerts, _) = check(&partition, &Fixed(NOON)).unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].title, "While on");
    // A kiosk has none, whatever is kept.
    assert_eq!(
        settings(&partition, true).unwrap(),
        AlertSettings {
            available: false,
            enabled: false
        }
    );
}

#[test]
fn answers_waiting_for_a_programme_that_closes_are_reminded_and_open_the_programmes() {
    let (_dir, partition, _me) = me_in("en");
    let programme: doorstep_domain::programme::Programme = serde_json::from_value(json!({
        "id": Uuid::now_v7(), "created_at": "2027-01-01T08:30:00Z", "updated_at": "2027-01-01T08:30:00Z",
        "created_by": "admin", "code": "school_meals", "name": "School meals",
        "applications_close_on": "2027-03-02",
    }))
    .unwrap();
    partition
        .apply_batch(&[Change::of(&programme, Op::Create, "t").unwrap()])
        .unwrap();
    // No answers typed: nothing to remind.
    assert!(check(&partition, &Fixed(NOON)).unwrap().0.is_empty());
    partition
        .save_draft(
            &format!(
                "{}{}",
                crate::app::programmes::DRAFT_PREFIX,
                programme.meta.id
            ),
            &json!({ "childName": "Baraka" }),
        )
        .unwrap();
    let (alerts, next) = check(&partition, &Fixed(NOON)).unwrap();
    assert_eq!(keys(&alerts), ["closing-soon"], "{alerts:?}");
    assert_eq!(
        alerts[0].title,
        "School meals: applications close on 2027-03-02"
    );
    assert_eq!(alerts[0].opens, Screen::Programmes);
    assert_eq!(next, Some(datetime!(2027-03-02 09:00 UTC)));
}
