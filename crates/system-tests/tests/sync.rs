//! Several devices edit the same household offline, then sync in every order, against the real
//! registry over HTTP on SQLite and PostgreSQL: disjoint edits merge, same-field edits give
//! exactly one conflict each, resolving converges every device.

mod common;

use common::{backends, household, individual, membership, Device, Registry};
use doorstep_client::vault::Choice;
use serde_json::json;
use uuid::Uuid;

struct Household {
    group: Uuid,
    head: Uuid,
    child: Uuid,
}

/// The first device registers a household and everyone pulls it.
async fn shared_household(devices: &[Device]) -> Household {
    let first = &devices[0];
    let group = first.create("group", household("Wekesa"));
    let head = first.create("individual", individual("Grace", "Wekesa"));
    let child = first.create("individual", individual("Baraka", "Wekesa"));
    first.create("membership", membership(group, head, "head"));
    first.create("membership", membership(group, child, "child"));
    let report = first.sync_ok().await;
    assert_eq!(
        (report.applied, report.conflicts, report.rejected),
        (5, 0, 0),
        "{report:?}"
    );
    for d in &devices[1..] {
        d.sync_ok().await;
        assert_eq!(d.body("group", group)["name"], "Wekesa");
    }
    Household { group, head, child }
}

fn permutations(n: usize) -> Vec<Vec<usize>> {
    if n == 1 {
        return vec![vec![0]];
    }
    let mut all = Vec::new();
    for p in permutations(n - 1) {
        for i in 0..=p.len() {
            let mut q = p.clone();
            q.insert(i, n - 1);
            all.push(q);
        }
    }
    all
}

/// Each device's bodies of the household's records; all devices must agree with the registry.
async fn assert_converged(registry: &Registry, devices: &[Device], h: &Household, label: &str) {
    for (kind, collection, id) in [
        ("group", "groups", h.group),
        ("individual", "individuals", h.head),
        ("individual", "individuals", h.child),
    ] {
        let server = registry.get(&format!("/v1/{collection}/{id}")).await;
        for d in devices {
            assert_eq!(
                common::content(d.body(kind, id)),
                common::content(server.clone()),
                "{label}: {} disagrees on {kind} {id}",
                d.name
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_and_three_devices_in_every_order() {
    for (backend, database) in backends().await {
        for n in [2, 3] {
            for order in permutations(n) {
                let label = format!("{backend}, {n} devices, order {order:?}");
                let registry = Registry::start(&database).await;
                let names = ["amina", "juma", "chebet"];
                let devices: Vec<Device> =
                    (0..n).map(|i| Device::new(names[i], &registry)).collect();
                let h = shared_household(&devices).await;

                // Offline: each device changes a field of its own (merges) and the household's
                // name (the same field, differently: conflicts).
                let own_fields = ["occupation", "birth_place", "civil_status"];
                let own_values = ["farmer", "Kisumu", "married"];
                for (i, d) in devices.iter().enumerate() {
                    d.edit("individual", h.head, |b| {
                        b[own_fields[i]] = json!(own_values[i])
                    });
                    d.edit("group", h.group, |b| {
                        b["name"] = json!(format!("Wekesa ({})", d.name))
                    });
                }
                let mut conflicts = 0;
                for &i in &order {
                    let report = devices[i].sync_ok().await;
                    assert_eq!(report.rejected, 0, "{label}: {report:?}");
                    conflicts += report.conflicts;
                }
                // The first to sync wins the name; every later one gets exactly one conflict.
                assert_eq!(conflicts, n - 1, "{label}");
                for (i, d) in devices.iter().enumerate() {
                    let open = d.partition.conflicts().unwrap();
                    let expected = usize::from(i != order[0]);
                    assert_eq!(open.len(), expected, "{label}: {} conflicts", d.name);
                    if let Some(c) = open.first() {
                        assert_eq!(c.conflict.field, "name");
                        assert_eq!(c.conflict.mine, json!(format!("Wekesa ({})", d.name)));
                    }
                }
                // Every disjoint edit landed.
                let head = registry.get(&format!("/v1/individuals/{}", h.head)).await;
                for i in 0..n {
                    assert_eq!(head[own_fields[i]], json!(own_values[i]), "{label}");
                }

                // The last device to sync settles its conflict by taking its own name.
                let last = &devices[*order.last().unwrap()];
                let others: Vec<&Device> = devices.iter().filter(|d| d.name != last.name).collect();
                for d in &others {
                    d.resolve_all(|_| Choice::Theirs);
                }
                last.resolve_all(|_| Choice::Mine);
                for _ in 0..2 {
                    for d in &devices {
                        let r = d.sync_ok().await;
                        assert_eq!((r.conflicts, r.rejected), (0, 0), "{label}: {r:?}");
                    }
                }
                let group = registry.get(&format!("/v1/groups/{}", h.group)).await;
                assert_eq!(
                    group["name"],
                    json!(format!("Wekesa ({})", last.name)),
                    "{label}"
                );
                assert_converged(&registry, &devices, &h, &label).await;
                for d in &devices {
                    assert_eq!(d.partition.pending_count().unwrap(), 0, "{label}");
                }
                registry.stop().await;
            }
        }
    }
}

#[tokio::test]
async fn delete_against_edit_waits_for_a_person() {
    for (backend, database) in backends().await {
        let registry = Registry::start(&database).await;
        let devices = [
            Device::new("amina", &registry),
            Device::new("juma", &registry),
        ];
        let h = shared_household(&devices).await;
        let [a, b] = &devices;
        a.edit("individual", h.child, |body| {
            body["occupation"] = json!("student")
        });
        b.delete("individual", h.child);
        assert_eq!(a.sync_ok().await.applied, 1);
        let report = b.sync_ok().await;
        assert_eq!(report.conflicts, 1, "{backend}: {report:?}");
        let open = b.partition.conflicts().unwrap();
        assert_eq!(open[0].conflict.field, "*");
        // The device shows the registry's (edited) record again until the person decides.
        assert_eq!(b.body("individual", h.child)["occupation"], "student");
        assert!(b
            .partition
            .record("individual", h.child)
            .unwrap()
            .unwrap()
            .deleted_at
            .is_none());

        // They decide to delete after all: a delete on the current revision.
        b.resolve_all(|_| Choice::Mine);
        let r = b.sync_ok().await;
        assert_eq!((r.applied, r.conflicts), (1, 0), "{backend}: {r:?}");
        a.sync_ok().await;
        let server = registry.get(&format!("/v1/individuals/{}", h.child)).await;
        assert!(server["deleted_at"].is_string(), "{backend}: {server}");
        assert!(a
            .partition
            .record("individual", h.child)
            .unwrap()
            .unwrap()
            .deleted_at
            .is_some());
        registry.stop().await;
    }
}

#[tokio::test]
async fn a_record_created_offline_then_edited_goes_up_as_create_then_update() {
    let (_, database) = backends().await.remove(0);
    let registry = Registry::start(&database).await;
    let a = Device::new("amina", &registry);
    let id = a.create("individual", individual("Halima", "Mutua"));
    a.edit("individual", id, |b| b["occupation"] = json!("trader"));
    a.edit("individual", id, |b| b["birth_place"] = json!("Voi"));
    let report = a.sync_ok().await;
    assert_eq!((report.pushed, report.applied), (3, 3), "{report:?}");
    let history = registry.get(&format!("/v1/individuals/{id}/history")).await;
    let ops: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["op"].as_str().unwrap())
        .collect();
    assert_eq!(ops, ["create", "update", "update"]);
    assert!(
        history
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["merged"] == false),
        "own edits are no merge: {history}"
    );
    let rev = a.partition.record("individual", id).unwrap().unwrap().rev;
    assert_eq!(rev, Some(3));
    registry.stop().await;
}

#[tokio::test]
async fn refusals_are_kept_and_do_not_block_the_queue() {
    let (_, database) = backends().await.remove(0);
    let registry = Registry::start(&database).await;
    let a = Device::new("amina", &registry);
    let good = a.create("individual", individual("Omar", "Haddad"));
    // A membership pointing at a household the registry has never heard of.
    let dangling = a.create("membership", membership(Uuid::now_v7(), good, "head"));
    let later = a.create("individual", individual("Nadia", "Haddad"));
    let report = a.sync_ok().await;
    assert_eq!((report.applied, report.rejected), (2, 1), "{report:?}");
    let refused = a.partition.rejections().unwrap();
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].record_id, dangling);
    assert!(refused[0].message.contains("group_id") || !refused[0].message.is_empty());
    assert_eq!(
        registry.get(&format!("/v1/individuals/{later}")).await["given_name"],
        "Nadia"
    );
    // Not sent again on the next round.
    assert_eq!(a.sync_ok().await.pushed, 0);
    a.partition
        .discard_rejected(refused[0].mutation_id)
        .unwrap();
    assert!(a.partition.rejections().unwrap().is_empty());
    registry.stop().await;
}

#[tokio::test]
async fn a_device_pointed_at_another_registry_starts_its_pull_over() {
    let (_, database) = backends().await.remove(0);
    let first = Registry::start(&database).await;
    let a = Device::new("amina", &first);
    a.create("individual", individual("Grace", "Mwangi"));
    a.sync_ok().await;
    assert!(a.partition.sync_cursor().unwrap().is_some());
    let second =
        Registry::start(&doorstep_registry::storage::DatabaseLocation::EmbeddedSqlite).await;
    let moved = doorstep_client::sync::SyncTransport::new(
        url::Url::parse(&second.url()).unwrap(),
        second.token("amina"),
    );
    let report = doorstep_client::sync::sync_once(&a.partition, &moved, &|_| {})
        .await
        .unwrap();
    assert!(report.pull_restarted, "{report:?}");
    first.stop().await;
    second.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_background_service_syncs_on_start_and_on_demand_and_reports_status() {
    use doorstep_client::sync::service::SyncService;
    use std::time::Duration;
    let (_, database) = backends().await.remove(0);
    let registry = Registry::start(&database).await;
    let device = Device::new("amina", &registry);
    device.create("individual", individual("Fatuma", "Njoroge"));
    let service = SyncService::start(device.partition.clone(), device.transport.clone());
    let mut status = service.status();
    // Bounded wait for the first round (started at once).
    let first = tokio::time::timeout(
        Duration::from_secs(30),
        status.wait_for(|s| s.last_success.is_some() && !s.running),
    )
    .await
    .expect("the first round finished")
    .unwrap()
    .clone();
    assert!(first.online);
    assert_eq!(first.pending, 0);
    assert_eq!(first.last_error, None);

    // Offline: the error is in words, and nothing is lost.
    let id = device.create("individual", individual("Kiprono", "Njoroge"));
    registry.stop().await;
    service.sync_now();
    let offline = tokio::time::timeout(
        Duration::from_secs(30),
        status.wait_for(|s| s.last_error.is_some() && !s.running),
    )
    .await
    .expect("the offline round finished")
    .unwrap()
    .clone();
    assert!(!offline.online);
    assert_eq!(offline.pending, 1);
    assert!(
        offline
            .last_error
            .as_deref()
            .unwrap()
            .contains("No connection"),
        "{offline:?}"
    );
    assert!(device.partition.record("individual", id).unwrap().is_some());
    service.stop();
}

#[tokio::test]
async fn a_submission_is_sent_once_after_the_application_and_a_refused_move_is_kept() {
    use common::{meta, with};
    use doorstep_client::vault::{Change, Op};
    let (_, database) = backends().await.remove(0);
    let registry = Registry::start(&database).await;
    let admin = doorstep_registry::auth::dev_token(
        registry.data.path(),
        doorstep_registry::auth::Role::Admin,
        "root",
        None,
        None,
        std::time::Duration::from_secs(600),
    )
    .unwrap();
    let programme = Uuid::now_v7();
    let made = reqwest::Client::new()
        .post(format!("{}/v1/programmes", registry.url()))
        .bearer_auth(&admin)
        .json(&with(
            meta(programme),
            // Two applications by one person below: the programme takes several.
            json!({"code": "old_age", "name": "Old-Age Pension", "allow_multiple_applications": true}),
        ))
        .send()
        .await
        .unwrap();
    assert!(made.status().is_success(), "{}", made.text().await.unwrap());
    // Its form: the registry checks a submission against the version it was filled on.
    let form = reqwest::Client::new()
        .post(format!("{}/v1/forms", registry.url()))
        .bearer_auth(&admin)
        .json(&with(
            meta(Uuid::now_v7()),
            json!({"programme_id": programme, "version": 1, "schema": {"components": [
                {"type": "number", "key": "age", "label": "Age", "input": true, "validate": {"required": true}}
            ]}}),
        ))
        .send()
        .await
        .unwrap();
    assert!(form.status().is_success(), "{}", form.text().await.unwrap());

    let a = Device::new("amina", &registry);
    let person = a.create("individual", individual("Omar", "Haddad"));
    let application = |id: Uuid| Change {
        kind: "application".into(),
        id,
        op: Op::Create,
        body: with(
            meta(id),
            json!({"programme_id": programme, "applicant_id": person, "form_version": 1,
                   "data": {"age": 70}, "status": "draft", "status_history": []}),
        ),
        actor: a.actor(),
    };
    // One submission, and one move an applicant may not make (only the office approves).
    let submitted = Uuid::now_v7();
    let overreach = Uuid::now_v7();
    a.partition
        .apply_and_request_transition(&[application(submitted)], submitted, "submitted", None)
        .unwrap();
    a.partition
        .apply_and_request_transition(&[application(overreach)], overreach, "approved", None)
        .unwrap();
    assert_eq!(
        a.partition.pending_count().unwrap(),
        5,
        "3 records + 2 moves"
    );

    let report = a.sync_ok().await;
    assert_eq!((report.transitions, report.rejected), (1, 1), "{report:?}");
    let stored = registry.get(&format!("/v1/applications/{submitted}")).await;
    assert_eq!(stored["status"], "submitted");
    assert_eq!(stored["status_history"].as_array().unwrap().len(), 1);
    assert_eq!(
        registry.get(&format!("/v1/applications/{overreach}")).await["status"],
        "draft"
    );
    assert_eq!(a.partition.pending_count().unwrap(), 0);
    let refused = a.partition.refused_transitions().unwrap();
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].application_id, overreach);
    assert!(!refused[0].refusal.as_deref().unwrap_or("").is_empty());
    assert_eq!(a.partition.refused_count().unwrap(), 1);

    // Neither is sent again; the person lets the refused one go.
    assert_eq!(a.sync_ok().await.transitions, 0);
    assert_eq!(
        registry.get(&format!("/v1/applications/{submitted}")).await["status_history"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(a
        .partition
        .discard_refused_transition(refused[0].id)
        .unwrap());
    assert!(!a
        .partition
        .discard_refused_transition(refused[0].id)
        .unwrap());
    assert_eq!(a.partition.refused_count().unwrap(), 0);
    registry.stop().await;
}
