//! The sync protocol's wire types and its merge, shared by the app and the registry.
//!
//! A device records every local edit as a [`Mutation`]: which record, the server revision it was
//! made on (`base_rev`), and a field-level [`ChangeSet`] that carries, for every field it sets,
//! the value the field had *before* the edit (`base`). That is all a three-way merge needs: the
//! server compares each field's base with its current value, so it needs no history of old
//! revisions, and a field nobody else touched merges automatically ([`merge`]).
//!
//! Lists whose elements carry an `id` (phone numbers, IDs held) are merged element by element,
//! not by position, so two devices adding different phone numbers both keep theirs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::record::RecordKind;
use crate::validate::FieldError;

/// Most mutations one push may carry.
pub const MAX_PUSH_MUTATIONS: usize = 500;
/// Most records one pull page may carry.
pub const MAX_PULL_LIMIT: u32 = 1000;

/// What a mutation does to its record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum MutationOp {
    Create,
    Update,
    Delete,
}

/// The fields a mutation sets or removes, with what they were before.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangeSet {
    /// New values by top-level field name.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub set: Map<String, Value>,
    /// Fields removed.
    #[serde(default)]
    pub unset: Vec<String>,
    /// The value each changed field (set or unset) had when the edit was made; absent for a
    /// field that did not exist. Omitted entirely for creates.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub base: Map<String, Value>,
}

impl ChangeSet {
    /// Fields this change touches, set or unset.
    pub fn fields(&self) -> impl Iterator<Item = &String> {
        self.set.keys().chain(self.unset.iter())
    }

    /// The value `field` had when the edit was made (`Null` when it was absent).
    pub fn base_of(&self, field: &str) -> &Value {
        self.base.get(field).unwrap_or(&Value::Null)
    }

    /// The value the edit gives `field` (`Null` when unset).
    pub fn mine_of(&self, field: &str) -> &Value {
        self.set.get(field).unwrap_or(&Value::Null)
    }
}

/// One local edit, as pushed to the registry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Mutation {
    /// Minted on the device when the edit was made; the server applies each id at most once.
    pub id: Uuid,
    pub kind: RecordKind,
    pub record_id: Uuid,
    pub op: MutationOp,
    /// Server revision the edit was made on; `None` for a record created on the device.
    pub base_rev: Option<u64>,
    pub changes: ChangeSet,
}

/// `POST /v1/sync/push`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushRequest {
    /// In the order they were made; mutations of one record are applied in this order.
    pub mutations: Vec<Mutation>,
}

/// Answer to a push: one result per mutation, in the same order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushResponse {
    pub results: Vec<MutationResult>,
}

/// What became of one mutation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum MutationResult {
    /// Applied. `merged` when it was made on an older revision and merged with changes made
    /// since (a "soft" conflict, recorded for staff review).
    Applied {
        mutation_id: Uuid,
        rev: u64,
        merged: bool,
        #[cfg_attr(feature = "openapi", schema(value_type = Object))]
        record: Value,
        /// People already registered whom the registry's duplicate check found likely to be this
        /// one (a new or renamed individual), best first: a notice for the person who saved it,
        /// never a refusal. Only ids, scores and reasons: a match outside the caller's area is
        /// named but not shown. Empty (and omitted) for other records and for citizens.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        possible_duplicates: Vec<crate::duplicates::Match>,
    },
    /// Some fields (or the whole record, for delete against edit) clash with changes made
    /// since. The fields that did not clash were applied (`rev` is the record now); the
    /// clashing ones wait for a person to choose.
    Conflict {
        mutation_id: Uuid,
        rev: u64,
        #[cfg_attr(feature = "openapi", schema(value_type = Object))]
        record: Value,
        conflicts: Vec<FieldConflict>,
    },
    /// Refused: invalid, not allowed, or referring to a missing record. Nothing applied; the
    /// rest of the batch is unaffected.
    Rejected {
        mutation_id: Uuid,
        /// Problem type, e.g. `/problems/invalid`, `/problems/forbidden`.
        problem: String,
        /// What is wrong, for the person.
        message: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        errors: Vec<FieldError>,
    },
}

impl MutationResult {
    pub fn mutation_id(&self) -> Uuid {
        match self {
            MutationResult::Applied { mutation_id, .. }
            | MutationResult::Conflict { mutation_id, .. }
            | MutationResult::Rejected { mutation_id, .. } => *mutation_id,
        }
    }
}

/// One field two people changed differently. `field` is a top-level field name, or
/// `field[<element id>]` for one element of a list merged by id, or `*` for the whole record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FieldConflict {
    pub field: String,
    /// The value both started from.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub base: Value,
    /// This device's value.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub mine: Value,
    /// The registry's value now.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub theirs: Value,
}

/// `GET /v1/sync/pull` answer: records changed after the cursor, oldest change first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PullResponse {
    /// Each record at its current revision (deleted ones carry `deleted_at`).
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub records: Vec<PulledRecord>,
    /// Pass back as `cursor` for the next page.
    pub cursor: String,
    /// Whether more pages follow right away.
    pub more: bool,
}

/// One record in a pull page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PulledRecord {
    pub kind: RecordKind,
    pub id: Uuid,
    pub rev: u64,
    pub deleted: bool,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub body: Value,
}

/// Result of merging one change set into the current record.
#[derive(Debug, Clone, PartialEq)]
pub struct Merge {
    /// The record with every non-clashing change applied.
    pub record: Value,
    /// The clashes, each left at the current ("theirs") value in `record`.
    pub conflicts: Vec<FieldConflict>,
    /// Whether anything in `record` differs from the current record.
    pub changed: bool,
}

/// Three-way merge of `changes` (made on a version whose changed fields had `changes.base`)
/// into `current`, field by field:
/// - current still equals base → take mine;
/// - current already equals mine → nothing to do;
/// - otherwise → a conflict; current is kept.
///
/// Lists of objects with an `id` merge element by element the same way.
pub fn merge(current: &Value, changes: &ChangeSet) -> Merge {
    let mut record = current.clone();
    let mut conflicts = Vec::new();
    let empty = Map::new();
    let theirs_fields = current.as_object().unwrap_or(&empty);
    for field in changes.fields() {
        let base = changes.base_of(field);
        let mine = changes.mine_of(field);
        let theirs = theirs_fields.get(field).unwrap_or(&Value::Null);
        let merged: Result<Value, ()> = if theirs == base || theirs == mine {
            Ok(mine.clone())
        } else if let (Some(b), Some(m), Some(t)) = (by_id(base), by_id(mine), by_id(theirs)) {
            Ok(merge_by_id(field, &b, &m, &t, &mut conflicts))
        } else {
            Err(())
        };
        match merged {
            Ok(value) => {
                if let Some(object) = record.as_object_mut() {
                    if value.is_null() && changes.unset.contains(field) {
                        object.remove(field);
                    } else {
                        object.insert(field.clone(), value);
                    }
                }
            }
            Err(()) => conflicts.push(FieldConflict {
                field: field.clone(),
                base: base.clone(),
                mine: mine.clone(),
                theirs: theirs.clone(),
            }),
        }
    }
    let changed = &record != current;
    Merge {
        record,
        conflicts,
        changed,
    }
}

/// A list of objects that all have a string `id`, keyed by it (keeping order); `Null` is the
/// empty list (a field that did not exist yet).
fn by_id(value: &Value) -> Option<Vec<(String, Value)>> {
    match value {
        Value::Null => Some(Vec::new()),
        Value::Array(items) => items
            .iter()
            .map(|item| {
                item.get("id")
                    .and_then(Value::as_str)
                    .map(|id| (id.to_owned(), item.clone()))
            })
            .collect(),
        _ => None,
    }
}

/// Element-wise three-way merge of lists keyed by id. Conflicting elements keep their current
/// value and are reported as `field[id]`. Order: the current list's order, then elements only
/// this device added, in its order.
fn merge_by_id(
    field: &str,
    base: &[(String, Value)],
    mine: &[(String, Value)],
    theirs: &[(String, Value)],
    conflicts: &mut Vec<FieldConflict>,
) -> Value {
    let find = |list: &[(String, Value)], id: &str| {
        list.iter()
            .find(|(i, _)| i == id)
            .map(|(_, v)| v.clone())
            .unwrap_or(Value::Null)
    };
    let mut ids: Vec<String> = theirs.iter().map(|(id, _)| id.clone()).collect();
    for (id, _) in mine.iter().chain(base.iter()) {
        if !ids.contains(id) {
            ids.push(id.clone());
        }
    }
    let mut merged: BTreeMap<usize, Value> = BTreeMap::new();
    for (position, id) in ids.iter().enumerate() {
        let (b, m, t) = (find(base, id), find(mine, id), find(theirs, id));
        let value = if t == b || t == m {
            m
        } else if m == b {
            t
        } else {
            conflicts.push(FieldConflict {
                field: format!("{field}[{id}]"),
                base: b,
                mine: m,
                theirs: t.clone(),
            });
            t
        };
        if !value.is_null() {
            merged.insert(position, value);
        }
    }
    Value::Array(merged.into_values().collect())
}

/// Fields of every record the registry sets: an update may not change them (a create names
/// them; the registry replaces them with its own).
pub const SERVER_OWNED_FIELDS: [&str; 5] = ["id", "rev", "created_at", "created_by", "deleted_at"];

/// The change set that turns `before` into `after` (top-level fields), with `before`'s values
/// as the base. `meta` fields the server owns (`rev`) are left out.
pub fn diff(before: Option<&Value>, after: &Value) -> ChangeSet {
    const SERVER_OWNED: [&str; 1] = ["rev"];
    let empty = Map::new();
    let before = before.and_then(Value::as_object).unwrap_or(&empty);
    let after = after.as_object().unwrap_or(&empty);
    let mut changes = ChangeSet::default();
    for (field, value) in after {
        if SERVER_OWNED.contains(&field.as_str()) {
            continue;
        }
        if before.get(field) != Some(value) {
            changes.set.insert(field.clone(), value.clone());
            if let Some(old) = before.get(field) {
                changes.base.insert(field.clone(), old.clone());
            }
        }
    }
    for (field, old) in before {
        if !after.contains_key(field) && !SERVER_OWNED.contains(&field.as_str()) {
            changes.unset.push(field.clone());
            changes.base.insert(field.clone(), old.clone());
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn change(before: Value, after: Value) -> ChangeSet {
        diff(Some(&before), &after)
    }

    #[test]
    fn disjoint_fields_merge() {
        let base = json!({"given_name": "Amina", "occupation": "farmer", "civil_status": "single"});
        let theirs =
            json!({"given_name": "Amina", "occupation": "trader", "civil_status": "single"});
        let mine = change(
            base.clone(),
            json!({"given_name": "Amina", "occupation": "farmer", "civil_status": "married"}),
        );
        let m = merge(&theirs, &mine);
        assert!(m.conflicts.is_empty());
        assert_eq!(
            m.record,
            json!({"given_name": "Amina", "occupation": "trader", "civil_status": "married"})
        );
        assert!(m.changed);
    }

    #[test]
    fn the_same_field_changed_differently_is_a_conflict_and_keeps_theirs() {
        let base = json!({"occupation": "farmer"});
        let theirs = json!({"occupation": "trader"});
        let mine = change(base, json!({"occupation": "teacher"}));
        let m = merge(&theirs, &mine);
        assert_eq!(m.conflicts.len(), 1);
        assert_eq!(m.conflicts[0].field, "occupation");
        assert_eq!(m.conflicts[0].mine, json!("teacher"));
        assert_eq!(m.record, theirs);
        assert!(!m.changed);
    }

    #[test]
    fn the_same_change_on_both_sides_is_no_conflict() {
        let base = json!({"occupation": "farmer"});
        let theirs = json!({"occupation": "teacher"});
        let mine = change(base, json!({"occupation": "teacher"}));
        assert!(merge(&theirs, &mine).conflicts.is_empty());
    }

    #[test]
    fn lists_with_ids_merge_by_element() {
        let p = |id: &str, n: &str| json!({"id": id, "number_e164": n});
        let base = json!({"phones": [p("a", "+1")]});
        let theirs = json!({"phones": [p("a", "+1"), p("t", "+3")]});
        let mine = change(
            base.clone(),
            json!({"phones": [p("a", "+1"), p("m", "+2")]}),
        );
        let m = merge(&theirs, &mine);
        assert!(m.conflicts.is_empty(), "{:?}", m.conflicts);
        assert_eq!(
            m.record["phones"],
            json!([p("a", "+1"), p("t", "+3"), p("m", "+2")])
        );

        // Both edit the same element differently: only that element clashes.
        let theirs = json!({"phones": [p("a", "+9"), p("t", "+3")]});
        let mine = change(base, json!({"phones": [p("a", "+8")]}));
        let m = merge(&theirs, &mine);
        assert_eq!(m.conflicts.len(), 1);
        assert_eq!(m.conflicts[0].field, "phones[a]");
        assert_eq!(
            m.record["phones"],
            json!([p("a", "+9"), p("t", "+3")]),
            "mine removed nothing of theirs"
        );
    }

    #[test]
    fn unset_fields_are_removed_when_untouched_elsewhere() {
        let base = json!({"occupation": "farmer", "a": 1});
        let mine = change(base.clone(), json!({"a": 1}));
        assert_eq!(mine.unset, ["occupation"]);
        let m = merge(&base, &mine);
        assert_eq!(m.record, json!({"a": 1}));
    }

    #[test]
    fn wire_format_is_stable() {
        let mutation = Mutation {
            id: Uuid::nil(),
            kind: RecordKind::Contact,
            record_id: Uuid::nil(),
            op: MutationOp::Update,
            base_rev: Some(3),
            changes: change(json!({"x": 1}), json!({"x": 2})),
        };
        let json = serde_json::to_value(&mutation).unwrap();
        assert_eq!(
            json["changes"],
            json!({"set": {"x": 2}, "unset": [], "base": {"x": 1}})
        );
        assert_eq!(json["op"], "update");
        let result = MutationResult::Rejected {
            mutation_id: Uuid::nil(),
            problem: "/problems/invalid".into(),
            message: "x".into(),
            errors: vec![],
        };
        assert_eq!(
            serde_json::to_value(&result).unwrap()["outcome"],
            "rejected"
        );
    }
}
