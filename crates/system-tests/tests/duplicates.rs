//! Issue 16: two agents on two devices register the same person; the registry flags the second
//! registration and the second device keeps the registry's notice naming the first record, on
//! SQLite and PostgreSQL, over real HTTP.

mod common;

use common::{backends, individual, with, Device, Registry};
use doorstep_client::vault::POSSIBLE_DUPLICATE;
use doorstep_domain::duplicates::Reason;
use serde_json::json;

fn grace(national_id: &str) -> serde_json::Value {
    with(
        individual("Grace", "Wekesa"),
        json!({"birthdate": "1990-05-05",
               "reg_ids": [{"id_type": "national_id", "value": national_id}]}),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_registered_on_two_devices_is_flagged_to_the_second() {
    for (backend, database) in backends().await {
        let registry = Registry::start(&database).await;
        let first = Device::new("amina", &registry);
        let second = Device::new("juma", &registry);

        // Yesterday, on the first laptop.
        let original = first.create("individual", grace("12345678"));
        let report = first.sync_ok().await;
        assert_eq!((report.applied, report.notices), (1, 0), "{backend}");
        assert!(first.partition.notices(false).unwrap().is_empty());

        // Today, offline on the second laptop, which never pulled her: the same person, her
        // number typed with spaces and her family name misspelt.
        let again = second.create(
            "individual",
            with(
                grace("12 345 678"),
                json!({"given_name": "Grace", "family_name": "Wekessa"}),
            ),
        );
        let report = second.sync_ok().await;
        assert_eq!(
            (report.applied, report.rejected, report.notices),
            (1, 0, 1),
            "{backend}: {report:?}"
        );

        // Saved all the same, and the notice names the first record.
        assert_eq!(
            registry.get(&format!("/v1/individuals/{again}")).await["id"],
            again.to_string()
        );
        let notices = second.partition.notices(false).unwrap();
        assert_eq!(notices.len(), 1, "{backend}: {notices:?}");
        let notice = &notices[0];
        assert_eq!(notice.kind, POSSIBLE_DUPLICATE);
        assert_eq!(
            (notice.record_kind.as_str(), notice.record_id),
            ("individual", again)
        );
        assert_eq!(notice.matches.len(), 1, "{backend}: {notice:?}");
        assert_eq!(notice.matches[0].id.as_uuid(), &original);
        assert_eq!(notice.matches[0].score, 100);
        assert!(notice.matches[0].reasons.contains(&Reason::SameId {
            id_type: "national_id".into()
        }));
        assert!(notice.matches[0].reasons.contains(&Reason::SameBirthdate));

        // Staff see the flag.
        let flags = registry.get("/v1/duplicates").await;
        assert_eq!(flags["items"][0]["record_id"], again.to_string(), "{flags}");
        assert_eq!(flags["items"][0]["candidate_id"], original.to_string());
        assert_eq!(flags["items"][0]["flagged_for"], second.actor());

        // Another round repeats nothing; dismissing closes the notice and keeps it on file.
        let report = second.sync_ok().await;
        assert_eq!(report.notices, 0);
        second.partition.dismiss_notice(notice.id).unwrap();
        assert!(second.partition.notices(false).unwrap().is_empty());
        let all = second.partition.notices(true).unwrap();
        assert_eq!(all.len(), 1);
        assert!(all[0].dismissed_at.is_some());
        assert!(second.partition.dismiss_notice(notice.id + 1).is_err());
        registry.stop().await;
    }
}
