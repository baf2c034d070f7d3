//! Issue 18's programme deadlines and per-programme liveness rules, on both backends:
//!
//! - a draft is not submitted after its programme's closing day (`/problems/applications-closed`),
//!   while answers the office asked for are still taken;
//! - "applications close soon" reaches each person with a draft once (two schedulers on one
//!   database), in their language, with a message in the outbox;
//! - a passed liveness check gets its due day and last day of grace from the strictest programme
//!   the person is active in, else the registry's settings; the step-up's check too;
//! - the scheduler's overdue reminder follows the check's own grace;
//! - a registrant never checked is reminded of a first check, one interval after registering
//!   (or at once, when the registry asks for that).
//!
//! The same scheduling across real registry processes is in `tests/processes.rs`.

mod common;

use common::{backends, individual, meta, with, Answer, Api};
use doorstep_registry::outbound::config::{Secret, WebhookConfig};
use doorstep_registry::outbound::SchedulerConfig;
use doorstep_registry::scheduler::{deadline_reminder_id, Job, Scheduler};
use serde_json::{json, Value};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

fn day(offset: i64) -> Date {
    OffsetDateTime::now_utc().date() + time::Duration::days(offset)
}

fn text(d: Date) -> String {
    doorstep_domain::date_format::format(d)
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

/// People, programmes and applications, as an agent, staff and an administrator make them.
struct World {
    api: Api,
    admin: String,
    agent: String,
    staff: String,
}

impl World {
    async fn new(api: Api) -> World {
        World {
            admin: api.token("admin", "root", None, None),
            agent: api.token("agent", "agent-a", Some("KE.30"), None),
            staff: api.token("staff", "reviewer", None, None),
            api,
        }
    }

    /// A person registered by the agent, reading `language`, reachable by SMS.
    async fn person(&self, given: &str, national_id: &str, language: &str) -> Value {
        let mut body = individual(Uuid::now_v7(), given, "Odhiambo", Some(national_id));
        body["preferred_language"] = json!(language);
        let person = created(&self.api, "/v1/individuals", &self.agent, body).await;
        created(
            &self.api,
            "/v1/contacts",
            &self.agent,
            with(
                meta(Uuid::now_v7()),
                json!({"registrant_id": person["id"],
                       "phones": [{"id": Uuid::now_v7(), "number_e164": "+254712345678", "kind": "mobile"}]}),
            ),
        )
        .await;
        person
    }

    /// A programme with `extra` fields and its first form (one optional question).
    async fn programme(&self, code: &str, extra: Value) -> Value {
        let mut body = with(
            meta(Uuid::now_v7()),
            json!({"code": code, "name": format!("Programme {code}")}),
        );
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let programme = created(&self.api, "/v1/programmes", &self.admin, body).await;
        created(
            &self.api,
            "/v1/forms",
            &self.admin,
            with(
                meta(Uuid::now_v7()),
                json!({"programme_id": programme["id"], "version": 1,
                       "schema": {"display": "form", "components": [{"type": "textfield", "key": "v"}]}}),
            ),
        )
        .await;
        programme
    }

    /// A draft application of `person` to `programme`, written by the agent.
    async fn draft(&self, programme: &Value, person: &Value) -> Value {
        created(
            &self.api,
            "/v1/applications",
            &self.agent,
            with(
                meta(Uuid::now_v7()),
                json!({"programme_id": programme["id"], "applicant_id": person["id"],
                       "form_version": 1, "data": {}, "status": "draft"}),
            ),
        )
        .await
    }

    async fn transition(&self, token: &str, application: &Value, to: &str) -> Answer {
        let note = matches!(to, "more_information_needed" | "rejected").then_some("Why.");
        self.api
            .post(
                &format!(
                    "/v1/applications/{}/transitions",
                    application["id"].as_str().unwrap()
                ),
                token,
                &json!({"to": to, "note": note}),
            )
            .await
    }

    /// `application` moved to `to` (applicant moves by the agent, the rest by staff).
    async fn moved(&self, application: &Value, to: &str) {
        let token = match to {
            "submitted" => &self.agent,
            _ => &self.staff,
        };
        let answer = self.transition(token, application, to).await;
        assert_eq!(
            answer.status, 200,
            "{} → {to}: {:?}",
            self.api.backend, answer.json
        );
    }

    async fn get(&self, path: &str) -> Value {
        let answer = self.api.get(path, &self.staff).await;
        assert_eq!(answer.status, 200, "{path}: {:?}", answer.json);
        answer.json
    }

    /// The person's notifications of `kind`.
    async fn notifications(&self, person: &Value, kind: &str) -> Vec<Value> {
        let page = self
            .get(&format!(
                "/v1/notifications?owner={}&limit=100",
                person["id"].as_str().unwrap()
            ))
            .await;
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["kind"] == kind && n["recipient_id"] == person["id"])
            .cloned()
            .collect()
    }

    /// A passed check of `person`, recorded by staff, with `extra` fields.
    async fn check(&self, person: &Value, performed_at: &str, extra: Value) -> Value {
        let mut body = with(
            meta(Uuid::now_v7()),
            json!({"individual_id": person["id"], "performed_at": performed_at,
                   "provider": "esignet", "outcome": "passed"}),
        );
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        created(&self.api, "/v1/liveness-checks", &self.staff, body).await
    }
}

#[tokio::test]
async fn a_draft_is_not_submitted_after_the_closing_day_but_answers_to_the_office_are() {
    for backend in backends().await {
        let w = World::new(Api::start(&backend).await).await;
        let name = w.api.backend;
        let amina = w.person("Amina", "NID-7001", "en").await;
        let citizen = w.api.token("citizen", "amina", None, Some("NID-7001"));

        // Closed two days ago: over everywhere on Earth.
        let closed = w
            .programme("closed", json!({"applications_close_on": text(day(-2))}))
            .await;
        let draft = w.draft(&closed, &amina).await;
        for token in [&citizen, &w.agent] {
            let refused = w.transition(token, &draft, "submitted").await;
            assert_eq!(
                (refused.status, refused.problem()),
                (409, "/problems/applications-closed"),
                "{name}: {:?}",
                refused.json
            );
            assert_eq!(refused.json["errors"][0]["field"], "applications_close_on");
            assert!(
                refused.json["detail"]
                    .as_str()
                    .unwrap()
                    .contains(&text(day(-2))),
                "{:?}",
                refused.json
            );
        }
        let still = w
            .get(&format!(
                "/v1/applications/{}",
                draft["id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(still["status"], "draft", "{name}: nothing changed");

        // Closing tomorrow: taken.
        let open = w
            .programme("open", json!({"applications_close_on": text(day(1))}))
            .await;
        let sent = w.draft(&open, &amina).await;
        assert_eq!(w.transition(&citizen, &sent, "submitted").await.status, 200);

        // Sent in time, asked for more, answered after the programme closed: taken.
        let asked = w.programme("asked", json!({})).await;
        let application = w.draft(&asked, &amina).await;
        w.moved(&application, "submitted").await;
        w.moved(&application, "under_review").await;
        w.moved(&application, "more_information_needed").await;
        let mut changed = w
            .get(&format!("/v1/programmes/{}", asked["id"].as_str().unwrap()))
            .await;
        let rev = changed["rev"].as_u64().unwrap();
        changed["applications_close_on"] = json!(text(day(-2)));
        let put = w
            .api
            .put(
                &format!("/v1/programmes/{}", asked["id"].as_str().unwrap()),
                &w.admin,
                &changed,
                rev,
            )
            .await;
        assert_eq!(put.status, 200, "{name}: {:?}", put.json);
        let answered = w.transition(&citizen, &application, "submitted").await;
        assert_eq!(answered.status, 200, "{name}: {:?}", answered.json);

        // What a programme may say is checked like any field.
        for (field, value) in [
            ("applications_close_on", json!("0026-06-30")),
            ("liveness_interval_days", json!(0)),
            ("liveness_grace_days", json!(99_999)),
        ] {
            let body = with(
                meta(Uuid::now_v7()),
                json!({"code": format!("bad-{field}"), "name": "Bad", field: value}),
            );
            let answer = w.api.post("/v1/programmes", &w.admin, &body).await;
            assert_eq!(answer.status, 422, "{name} {field}: {:?}", answer.json);
            assert_eq!(
                answer.json["errors"][0]["field"], field,
                "{:?}",
                answer.json
            );
        }
        w.api.stop().await;
    }
}

#[tokio::test]
async fn applications_closing_soon_remind_each_person_with_a_draft_once_in_their_language() {
    for backend in backends().await {
        let api = Api::start_with(&backend, |c| {
            // The schedulers below are the ones that run; the SMS gateway is never reached
            // (messages stay in the outbox, which is what is counted).
            c.scheduler.enabled = false;
            c.outbound.webhook = Some(WebhookConfig {
                url: "http://127.0.0.1:9/hook".parse().unwrap(),
                secret: Secret::new("a-webhook-secret-for-tests"),
                timeout: std::time::Duration::from_secs(2),
            });
        })
        .await;
        let w = World::new(api).await;
        let name = w.api.backend;
        let soon = w
            .programme("soon", json!({"applications_close_on": text(day(3))}))
            .await;
        let later = w
            .programme("later", json!({"applications_close_on": text(day(30))}))
            .await;
        let past = w
            .programme("past", json!({"applications_close_on": text(day(-1))}))
            .await;

        let fatou = w.person("Fatou", "NID-7101", "fr").await;
        let fatou_draft = w.draft(&soon, &fatou).await;
        let karim = w.person("Karim", "NID-7102", "ar").await;
        let karim_draft = w.draft(&soon, &karim).await;
        w.draft(&later, &karim).await;
        // Sent already, or closed already: nobody to remind.
        let baraka = w.person("Baraka", "NID-7103", "en").await;
        let sent = w.draft(&soon, &baraka).await;
        w.moved(&sent, "submitted").await;
        let juma = w.person("Juma", "NID-7104", "en").await;
        w.draft(&past, &juma).await;
        // A deleted draft reminds nobody either.
        let neema = w.person("Neema", "NID-7105", "en").await;
        let gone = w.draft(&soon, &neema).await;
        let deleted = w
            .api
            .send(
                "DELETE",
                &format!("/v1/applications/{}", gone["id"].as_str().unwrap()),
                Some(&w.agent),
                None,
                &[("if-match", "\"1\"")],
            )
            .await;
        assert_eq!(deleted.status, 200, "{name}: {:?}", deleted.json);

        let config = SchedulerConfig::default();
        assert_eq!(config.deadline_soon_days, 7);
        let open = || doorstep_registry::storage::open(w.api.data.path(), &backend.database);
        let (one, two) = (open().await.unwrap(), open().await.unwrap());
        // Outbound on, as the registry runs it: one message per reminder and configured channel.
        let enabled = doorstep_registry::outbound::Enabled {
            email: false,
            webhook: true,
        };
        let a = Scheduler::new(one.clone(), config, enabled);
        let b = Scheduler::new(two.clone(), config, enabled);
        let now = OffsetDateTime::now_utc();
        let (ra, rb) = tokio::join!(a.run(Job::Deadlines, now), b.run(Job::Deadlines, now));
        let ran: Vec<_> = [ra.unwrap(), rb.unwrap()].into_iter().flatten().collect();
        assert_eq!(ran.len(), 1, "{name}: exactly one ran");
        assert_eq!(ran[0].written, 2, "{name}");
        // The liveness job is another job, with its own lease: it is still due.
        assert!(a.run(Job::Liveness, now).await.unwrap().is_some());
        // Even without the job's lease, nobody is told twice.
        let (ra, rb) = tokio::join!(a.deadlines(now), b.deadlines(now));
        let (ra, rb) = (ra.unwrap(), rb.unwrap());
        assert_eq!((ra.written, rb.written), (0, 0), "{name}");
        assert_eq!((ra.already, rb.already), (2, 2), "{name}");

        for (person, draft, title) in [
            (&fatou, &fatou_draft, "Les demandes ferment bientôt"),
            (&karim, &karim_draft, "يقترب موعد إغلاق الطلبات"),
        ] {
            let notes = w.notifications(person, "deadline").await;
            assert_eq!(notes.len(), 1, "{name}: {notes:?}");
            let note = &notes[0];
            assert_eq!(note["title"], title);
            assert_eq!(note["deadline"], json!(text(day(3))));
            assert_eq!(note["related_record"], draft["id"]);
            assert!(note["body"].as_str().unwrap().contains("Programme soon"));
            let id: Uuid = note["id"].as_str().unwrap().parse().unwrap();
            let person_id: Uuid = person["id"].as_str().unwrap().parse().unwrap();
            let programme_id: Uuid = soon["id"].as_str().unwrap().parse().unwrap();
            assert_eq!(id, deadline_reminder_id(person_id, programme_id, day(3)));
            let outbox = w.get(&format!("/v1/outbox?recipient={person_id}")).await;
            let rows = outbox["items"].as_array().unwrap();
            assert_eq!(rows.len(), 1, "{name}: {outbox:?}");
            assert_eq!(rows[0]["notification_id"], note["id"]);
            assert_eq!(rows[0]["channel"], "webhook");
        }
        for person in [&baraka, &juma, &neema] {
            assert!(
                w.notifications(person, "deadline").await.is_empty(),
                "{name}"
            );
        }
        one.close().await;
        two.close().await;
        w.api.stop().await;
    }
}

#[tokio::test]
async fn a_passed_check_is_due_by_the_strictest_programme_the_person_is_active_in() {
    for backend in backends().await {
        let w = World::new(Api::start(&backend).await).await;
        let name = w.api.backend;
        let quarterly = w
            .programme(
                "quarterly",
                json!({"liveness_interval_days": 90, "liveness_grace_days": 5}),
            )
            .await;
        let biennial = w
            .programme("biennial", json!({"liveness_interval_days": 730}))
            .await;
        let drafts_only = w
            .programme(
                "drafts-only",
                json!({"liveness_interval_days": 10, "liveness_grace_days": 1}),
            )
            .await;

        // Approved on one, submitted on another, a draft on a third: the first two count.
        let a = w.person("Asha", "NID-7201", "en").await;
        let approved = w.draft(&quarterly, &a).await;
        w.moved(&approved, "submitted").await;
        w.moved(&approved, "approved").await;
        let waiting = w.draft(&biennial, &a).await;
        w.moved(&waiting, "submitted").await;
        w.draft(&drafts_only, &a).await;
        // Only a programme with a longer interval than the registry's.
        let b = w.person("Bahati", "NID-7202", "en").await;
        let only = w.draft(&biennial, &b).await;
        w.moved(&only, "submitted").await;
        // Only a draft: the registry's settings (365 days, 30 of grace).
        let c = w.person("Chausiku", "NID-7203", "en").await;
        w.draft(&drafts_only, &c).await;
        // Rejected: binds nobody either.
        let d = w.person("Dalia", "NID-7204", "en").await;
        let rejected = w.draft(&quarterly, &d).await;
        w.moved(&rejected, "submitted").await;
        w.moved(&rejected, "rejected").await;

        let done = "2026-01-10T09:00:00Z";
        for (person, due, overdue_after) in [
            (&a, "2026-04-10", "2026-04-15"),
            (&b, "2028-01-10", "2028-02-09"),
            (&c, "2027-01-10", "2027-02-09"),
            (&d, "2027-01-10", "2027-02-09"),
        ] {
            let check = w.check(person, done, json!({})).await;
            assert_eq!(
                (check["next_due"].as_str(), check["overdue_after"].as_str()),
                (Some(due), Some(overdue_after)),
                "{name}: {}",
                person["given_name"]
            );
        }
        // A due day chosen by the sender is kept; its grace is the person's.
        let chosen = w.check(&a, done, json!({"next_due": "2026-06-01"})).await;
        assert_eq!(chosen["next_due"], "2026-06-01");
        assert_eq!(chosen["overdue_after"], "2026-06-06", "{name}");
        // Both chosen: both kept. A check that did not pass gets neither.
        let both = w
            .check(
                &a,
                done,
                json!({"next_due": "2026-06-01", "overdue_after": "2026-07-01"}),
            )
            .await;
        assert_eq!(both["overdue_after"], "2026-07-01");
        let failed = w.check(&a, done, json!({"outcome": "failed"})).await;
        assert!(failed["next_due"].is_null() && failed.get("overdue_after").is_none());
        w.api.stop().await;
    }
}

#[tokio::test]
async fn the_overdue_reminder_follows_the_checks_own_grace() {
    for backend in backends().await {
        let w = World::new(Api::start_with(&backend, |c| c.scheduler.enabled = false).await).await;
        let name = w.api.backend;
        let performed = format!("{}T09:00:00Z", text(day(-400)));
        // (due, last day of grace, expected reminder) with the registry's grace of 30 days.
        let cases = [
            // A short grace that has run out: overdue, where 30 days would not be.
            (-5, Some(-2), "overdue"),
            // Filled from the registry's 30 days.
            (-40, None, "overdue"),
            // A long grace still running: due, where 30 days would be overdue.
            (-35, Some(1), "due"),
            (3, Some(3), "due"),
        ];
        let mut people = Vec::new();
        for (i, (due, last, _)) in cases.iter().enumerate() {
            let person = w.person("Eli", &format!("NID-73{i:02}"), "en").await;
            let mut extra = json!({"next_due": text(day(*due))});
            if let Some(last) = last {
                extra["overdue_after"] = json!(text(day(*last)));
            }
            w.check(&person, &performed, extra).await;
            people.push(person);
        }
        let store = doorstep_registry::storage::open(w.api.data.path(), &backend.database)
            .await
            .unwrap();
        let scheduler = Scheduler::new(
            store.clone(),
            SchedulerConfig::default(),
            Default::default(),
        );
        let report = scheduler.liveness(OffsetDateTime::now_utc()).await.unwrap();
        assert_eq!(report.written, cases.len(), "{name}");
        for (person, (due, _, expected)) in people.iter().zip(cases) {
            let notes = w.notifications(person, "liveness_due").await;
            assert_eq!(notes.len(), 1, "{name}: {notes:?}");
            assert_eq!(notes[0]["deadline"], json!(text(day(due))));
            let overdue = notes[0]["title"].as_str().unwrap().contains("overdue");
            assert_eq!(
                overdue,
                expected == "overdue",
                "{name}: due {due}: {notes:?}"
            );
        }
        store.close().await;
        w.api.stop().await;
    }
}

/// A registrant never checked is reminded of a first check due one interval (their rule) after
/// they were registered: due soon by the registry's year, overdue by a quarterly programme's
/// 90 days and 5 of grace; a failed check does not count as one; a passed check's own due day
/// replaces the first. Once per person and day, however often the job runs.
#[tokio::test]
async fn a_registrant_never_checked_is_reminded_of_a_first_check() {
    for backend in backends().await {
        let w = World::new(Api::start_with(&backend, |c| c.scheduler.enabled = false).await).await;
        let name = w.api.backend;
        let quarterly = w
            .programme(
                "quarterly",
                json!({"liveness_interval_days": 90, "liveness_grace_days": 5}),
            )
            .await;
        let yearly = w.person("Amani", "NID-7401", "en").await;
        let active = w.person("Baraka", "NID-7402", "en").await;
        let application = w.draft(&quarterly, &active).await;
        w.moved(&application, "submitted").await;
        let failed = w.person("Chiku", "NID-7403", "en").await;
        w.check(
            &failed,
            &format!("{}T09:00:00Z", text(day(0))),
            json!({"outcome": "failed"}),
        )
        .await;
        let checked = w.person("Dede", "NID-7404", "en").await;
        w.check(
            &checked,
            &format!("{}T09:00:00Z", text(day(0))),
            json!({"next_due": text(day(1000))}),
        )
        .await;
        // Registered today (server time, UTC), so due on these days.
        let registered = OffsetDateTime::now_utc().date();
        let yearly_due = registered + time::Duration::days(365);
        let quarterly_due = registered + time::Duration::days(90);

        let store = doorstep_registry::storage::open(w.api.data.path(), &backend.database)
            .await
            .unwrap();
        let scheduler = Scheduler::new(
            store.clone(),
            SchedulerConfig::default(),
            Default::default(),
        );
        // Ten days on, nobody's first check is near.
        let soon = OffsetDateTime::now_utc() + time::Duration::days(10);
        assert_eq!(scheduler.liveness(soon).await.unwrap().written, 0, "{name}");
        // 355 days on: the year is due in 10 days (within the 14 of "due soon"); the quarter
        // ran out, grace and all.
        let later = OffsetDateTime::now_utc() + time::Duration::days(355);
        let report = scheduler.liveness(later).await.unwrap();
        assert_eq!(report.written, 3, "{name}: {report:?}");
        for (person, due, overdue) in [
            (&yearly, yearly_due, false),
            (&active, quarterly_due, true),
            (&failed, yearly_due, false),
        ] {
            let notes = w.notifications(person, "liveness_due").await;
            assert_eq!(notes.len(), 1, "{name}: {notes:?}");
            assert_eq!(notes[0]["deadline"], json!(text(due)), "{name}");
            assert_eq!(notes[0]["related_record"], person["id"], "{name}");
            assert_eq!(
                notes[0]["id"],
                json!(doorstep_registry::scheduler::reminder_id(
                    if overdue {
                        doorstep_registry::scheduler::Reminder::LivenessOverdue
                    } else {
                        doorstep_registry::scheduler::Reminder::LivenessDueSoon
                    },
                    person["id"].as_str().unwrap().parse().unwrap(),
                    due
                )),
                "{name}"
            );
            let says_overdue = notes[0]["title"].as_str().unwrap().contains("overdue");
            assert_eq!(says_overdue, overdue, "{name}: {notes:?}");
        }
        assert!(w.notifications(&checked, "liveness_due").await.is_empty());
        // Again: nothing new.
        let again = scheduler.liveness(later).await.unwrap();
        assert_eq!((again.written, again.already), (0, 3), "{name}");
        // A registry asking for a first check at once: due on the day of registering, today.
        let at_once = Scheduler::new(
            store.clone(),
            SchedulerConfig {
                liveness_first_check_days: Some(0),
                ..SchedulerConfig::default()
            },
            Default::default(),
        );
        let report = at_once.liveness(OffsetDateTime::now_utc()).await.unwrap();
        assert_eq!(report.written, 3, "{name}: {report:?}");
        for person in [&yearly, &active, &failed] {
            let notes = w.notifications(person, "liveness_due").await;
            assert!(
                notes
                    .iter()
                    .any(|n| n["deadline"] == json!(text(registered))),
                "{name}: {notes:?}"
            );
        }
        store.close().await;
        w.api.stop().await;
    }
}
