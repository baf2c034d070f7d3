//! Property: whatever three devices do to one household offline, and whenever they sync, a full
//! sync (settling conflicts) leaves every device and the registry with the same records, and
//! every change a device made was either applied or came back as a recorded conflict — none is
//! lost silently.

mod common;

use common::{household, individual, membership, Device, Registry};
use doorstep_client::vault::Choice;
use proptest::prelude::*;
use serde_json::json;

const FIELDS: [&str; 4] = ["occupation", "birth_place", "civil_status", "addl_name"];
const VALUES: [&str; 3] = ["a", "b", "c"];
const CIVIL: [&str; 3] = ["single", "married", "widowed"];

#[derive(Debug, Clone)]
enum Op {
    /// Device edits one field of the head of household (0..3 picks the value).
    EditPerson {
        device: usize,
        field: usize,
        value: usize,
    },
    /// Device renames the household.
    RenameHousehold {
        device: usize,
        value: usize,
    },
    Sync {
        device: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..3usize, 0..FIELDS.len(), 0..3usize).prop_map(|(device, field, value)| Op::EditPerson { device, field, value }),
        1 => (0..3usize, 0..3usize).prop_map(|(device, value)| Op::RenameHousehold { device, value }),
        2 => (0..3usize).prop_map(|device| Op::Sync { device }),
    ]
}

#[derive(Default, Debug)]
struct Tally {
    made: usize,
    acknowledged: usize,
    rejected: usize,
}

async fn run(ops: Vec<Op>) {
    let registry =
        Registry::start(&doorstep_registry::storage::DatabaseLocation::EmbeddedSqlite).await;
    let devices: Vec<Device> = ["amina", "juma", "chebet"]
        .iter()
        .map(|n| Device::new(n, &registry))
        .collect();
    let group = devices[0].create("group", household("Diallo"));
    let head = devices[0].create("individual", individual("Mamadou", "Diallo"));
    devices[0].create("membership", membership(group, head, "head"));
    devices[0].sync_ok().await;
    for d in &devices[1..] {
        d.sync_ok().await;
    }
    let mut tally: Vec<Tally> = (0..3).map(|_| Tally::default()).collect();
    let sync = |i: usize, report: doorstep_client::sync::SyncReport, tally: &mut Vec<Tally>| {
        tally[i].acknowledged += report.applied + report.conflicts;
        tally[i].rejected += report.rejected;
    };
    for op in ops {
        match op {
            Op::EditPerson {
                device,
                field,
                value,
            } => {
                let v = if FIELDS[field] == "civil_status" {
                    CIVIL[value]
                } else {
                    VALUES[value]
                };
                let before = devices[device].body("individual", head);
                if before[FIELDS[field]] != json!(v) {
                    devices[device].edit("individual", head, |b| b[FIELDS[field]] = json!(v));
                    tally[device].made += 1;
                }
            }
            Op::RenameHousehold { device, value } => {
                let name = format!("Diallo {}", VALUES[value]);
                if devices[device].body("group", group)["name"] != json!(name) {
                    devices[device].edit("group", group, |b| b["name"] = json!(name));
                    tally[device].made += 1;
                }
            }
            Op::Sync { device } => {
                let report = devices[device].sync_ok().await;
                sync(device, report, &mut tally);
            }
        }
    }
    // Full sync: settle conflicts (each device keeps its own values), bounded rounds.
    for _round in 0..10 {
        let mut quiet = true;
        for (i, d) in devices.iter().enumerate() {
            let settled = d.resolve_all(|_| Choice::Mine);
            let pending_before = d.partition.pending_count().unwrap() as usize;
            tally[i].made += pending_before
                .saturating_sub(tally[i].made - tally[i].acknowledged)
                .min(settled);
            let report = d.sync_ok().await;
            quiet &= settled == 0 && report.pushed == 0 && report.pulled == 0;
            sync(i, report, &mut tally);
        }
        if quiet {
            break;
        }
    }
    for (i, d) in devices.iter().enumerate() {
        assert!(
            d.partition.conflicts().unwrap().is_empty(),
            "{} still has conflicts",
            d.name
        );
        assert_eq!(
            d.partition.pending_count().unwrap(),
            0,
            "{} still has changes to send",
            d.name
        );
        assert_eq!(tally[i].rejected, 0, "{}: {:?}", d.name, tally[i]);
        assert_eq!(
            tally[i].made, tally[i].acknowledged,
            "{}: a change was neither applied nor reported as a conflict: {:?}",
            d.name, tally[i]
        );
        for (kind, collection, id) in [
            ("individual", "individuals", head),
            ("group", "groups", group),
        ] {
            let server = registry.get(&format!("/v1/{collection}/{id}")).await;
            assert_eq!(
                common::content(d.body(kind, id)),
                common::content(server),
                "{} disagrees with the registry on {kind}",
                d.name
            );
        }
    }
    registry.stop().await;
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, max_shrink_iters: 50, ..ProptestConfig::default() })]

    #[test]
    fn every_device_converges_and_nothing_is_lost_silently(ops in prop::collection::vec(op(), 1..30)) {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(run(ops));
    }
}
