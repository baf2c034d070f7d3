//! Who may see and change what.
//!
//! | role    | reads                                         | writes                                        |
//! |---------|-----------------------------------------------|-----------------------------------------------|
//! | citizen | own records, household's people and members   | own/household registrant records, own applications (answers), notifications' read mark, **payment accounts of themselves only** |
//! | agent   | records filed in their area or below          | registrant records and applications in their area (payment accounts included), liveness checks |
//! | staff   | everything (or their areas)                   | application status, document and account verification (review desk), notifications, liveness checks |
//! | admin   | everything                                    | programmes, forms, ID types, notifications; as staff: application status, document and account verification |
//!
//! Who may redirect a person's payments: the person themself, or an agent of their area acting
//! for them (recorded as on-behalf-of). A household member may see the household but not add,
//! change or choose a payment account for another member, and changing an account's number,
//! holder, kind or provider resets its verification, whoever does it: what staff verified is
//! never silently swapped for something they did not.
//!
//! Fields only the office or the ID provider set: an ID's `status` (agents, who saw the
//! document, or the ID provider, for the one number it vouched for at the person's sign-in) and
//! an individual's `last_liveness_check` (set by the registry from a liveness check, never by
//! the person). Otherwise a citizen's write must leave them as stored.
//!
//! Everyone signed in reads the programme catalogue (programmes, forms, ID types).
//!
//! What a reviewer decides — a document verified or rejected, an account verified or failed,
//! with who, when and why — changes only through the review desk's decisions
//! ([`may_decide`]; `api/review/`), which also tell the person; no other write may set or carry
//! it, and a decision changes nothing else. Changing what was verified (an account's number,
//! holder, kind or provider; a document's kind or the record it supports) makes it undecided
//! again.
//!
//! Two rules cover every write, whatever the kind: the caller's role may write that kind, and the
//! caller could **see the record afterwards and every record it points to**. So a citizen cannot
//! file a contact under someone else's registrant, and an agent cannot move a registrant out of
//! their area. Fields the server owns (application status, account verification) are checked in
//! [`protected_fields`]. A record the caller may not see answers 404, never 403, so ids of other
//! people's records cannot be probed.

use doorstep_domain::id_type::IdStatus;
use doorstep_domain::{
    ApplicationStatus, Document, DocumentStatus, FinancialAccount, RecordKind, VerificationStatus,
};
use uuid::Uuid;

use crate::auth::{Principal, Role};
use crate::resources::Typed;
use crate::storage::model::{HOUSEHOLD_KINDS, PUBLIC_KINDS};
use crate::storage::{CitizenScope, RecordIndex, StorageError, Store, Visibility};

/// A signed-in caller with what they may see worked out.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    pub visibility: Visibility,
    /// A citizen's own individual record, once linked.
    pub me: Option<Uuid>,
}

impl Caller {
    pub fn actor(&self) -> String {
        self.principal.actor_id()
    }

    pub fn role(&self) -> Role {
        self.principal.role
    }

    /// The key citizen links are stored under.
    pub fn link_key(principal: &Principal) -> String {
        format!("{} {}", principal.issuer, principal.subject)
    }
}

/// Work out what `principal` may see. A citizen not linked yet is linked here to the record that
/// holds their provider's individual id as an ID of `id_type` (the `[auth] individual_id_type`),
/// so people registered by an agent find their record at first sign-in. See [`link_by_id`] for
/// which records qualify.
pub async fn resolve(
    store: &dyn Store,
    principal: Principal,
    id_type: &str,
) -> Result<Caller, StorageError> {
    let (visibility, me) = match principal.role {
        // Staff the directory limits to some areas see those areas only (reads and writes, as
        // every write must stay visible to its writer).
        Role::Staff if !principal.areas.is_empty() => {
            (Visibility::Areas(principal.areas.clone()), None)
        }
        Role::Staff | Role::Admin => (Visibility::All, None),
        Role::Agent => (
            Visibility::Area(principal.area.clone().unwrap_or_default()),
            None,
        ),
        Role::Citizen => {
            let key = Caller::link_key(&principal);
            let mut me = store.linked_individual(&key).await?;
            if me.is_none() {
                if let Some(number) = principal.individual_id.as_deref() {
                    me = link_by_id(store, &key, id_type, number).await?;
                }
            }
            let (groups, members) = match me {
                Some(me) => store.household_of(me).await?,
                None => (Vec::new(), Vec::new()),
            };
            let scope = CitizenScope {
                me,
                actor: principal.actor_id(),
                groups,
                members,
            };
            (Visibility::Citizen(scope), me)
        }
    };
    Ok(Caller {
        principal,
        visibility,
        me,
    })
}

/// The index key of an individual whose ID `id_type` `value` the identity provider vouched for:
/// a citizen registered themself while signed in with a token carrying that number.
pub fn vouched_key(id_type: &str, value: &str) -> String {
    format!("vouched:id:{id_type}:{value}")
}

/// Whether an actor id (`<role>:<subject>`) is a citizen's.
pub fn is_citizen_actor(actor: &str) -> bool {
    actor.starts_with("citizen:")
}

/// Link a citizen's sign-in to the record holding their provider-vouched number, looked up by ID
/// type and value together (a record holding the same number as another type is not theirs and
/// does not get in the way). Only a record someone trustworthy stands behind qualifies: one an
/// agent, staff or the registry registered, or one a citizen registered while their own
/// provider vouched for that number. A record any citizen typed someone else's number into is
/// never linked: that would hand the victim's later edits to whoever created it.
async fn link_by_id(
    store: &dyn Store,
    key: &str,
    id_type: &str,
    number: &str,
) -> Result<Option<Uuid>, StorageError> {
    let lookup = |index_key: String| {
        let mut query = crate::storage::ListQuery::new(RecordKind::Individual, Visibility::All, 2);
        query.key = Some(index_key);
        query
    };
    let vouched = store.list(&lookup(vouched_key(id_type, number))).await?;
    let candidates = if vouched.is_empty() {
        store
            .list(&lookup(format!("id:{id_type}:{number}")))
            .await?
            .into_iter()
            .filter(|r| !is_citizen_actor(&r.index.creator))
            .collect()
    } else {
        vouched
    };
    // Two records with the same number: leave it to staff rather than guess.
    match candidates.as_slice() {
        [one] => {
            store
                .link_citizen(key, one.id, time::OffsetDateTime::now_utc())
                .await
        }
        _ => Ok(None),
    }
}

impl Visibility {
    /// Whether a record with this kind and index is visible: the same rule as the SQL filter in
    /// `storage::sql::Builder::visible_to` (a test keeps the two in step).
    pub fn allows(&self, kind: RecordKind, index: &RecordIndex) -> bool {
        if PUBLIC_KINDS.contains(&kind) {
            return true;
        }
        match self {
            Visibility::All => true,
            Visibility::PublicOnly => false,
            Visibility::Area(area) => within(index, area),
            Visibility::Areas(areas) => areas.iter().any(|area| within(index, area)),
            Visibility::Citizen(scope) => {
                index.creator == scope.actor
                    || (scope.me.is_some() && index.owner_id == scope.me)
                    || index.group_id.is_some_and(|g| scope.groups.contains(&g))
                    || (HOUSEHOLD_KINDS.contains(&kind)
                        && index.owner_id.is_some_and(|o| scope.members.contains(&o)))
            }
        }
    }
}

/// Whether a record is filed under `area` or an area below it.
fn within(index: &RecordIndex, area: &str) -> bool {
    index
        .area
        .as_deref()
        .is_some_and(|a| a == area || a.starts_with(&format!("{area}.")))
}

/// Kinds each role may create, change or delete at all.
pub fn may_write_kind(role: Role, kind: RecordKind) -> bool {
    use RecordKind::*;
    match role {
        Role::Citizen => matches!(
            kind,
            Individual
                | Contact
                | Group
                | Membership
                | FinancialAccount
                | Document
                | Application
                | Notification
        ),
        Role::Agent => matches!(
            kind,
            Individual
                | Contact
                | Group
                | Membership
                | FinancialAccount
                | Document
                | Application
                | LivenessCheck
        ),
        Role::Staff => matches!(kind, Notification | LivenessCheck | Application),
        Role::Admin => matches!(kind, Programme | FormDefinition | IdType | Notification),
    }
}

/// Whether a citizen or agent may create records of this kind (as opposed to only changing
/// existing ones).
pub fn may_create_kind(role: Role, kind: RecordKind) -> bool {
    match (role, kind) {
        // Notifications are made by the registry and staff; citizens only mark them read.
        (Role::Citizen, RecordKind::Notification) => false,
        // Staff review applications; they do not open them.
        (Role::Staff, RecordKind::Application) => false,
        _ => may_write_kind(role, kind),
    }
}

/// Whether a role decides on records of this kind from the review desk: staff and admins
/// verify documents and payment accounts (nobody else, and only that way).
pub fn may_decide(role: Role, kind: RecordKind) -> bool {
    matches!(role, Role::Staff | Role::Admin)
        && matches!(kind, RecordKind::Document | RecordKind::FinancialAccount)
}

/// Whether a role reviews applications (moves them as a reviewer, reads the review queue).
pub fn reviews(role: Role) -> bool {
    matches!(role, Role::Staff | Role::Admin)
}

/// Checks fields only the server or a particular role may set. `old` is the stored version
/// (None on create); `vouched` is the ID (type code, number) the caller's identity provider
/// vouched for at sign-in, which a citizen may record as valid.
/// `decision`: the write is a reviewer's decision from the review desk (see [`may_decide`]).
pub fn protected_fields(
    role: Role,
    old: Option<&Typed>,
    new: &Typed,
    vouched: Option<(&str, &str)>,
    decision: bool,
) -> Result<(), String> {
    match (old, new) {
        (None, Typed::Application(a))
            if a.status != ApplicationStatus::Draft || !a.status_history.is_empty() =>
        {
            return Err("A new application starts as a draft with no history; submit it with POST /v1/applications/{id}/transitions.".into());
        }
        (Some(Typed::Application(old)), Typed::Application(a)) => {
            if a.status != old.status || a.status_history != old.status_history {
                return Err("The status of an application changes only through POST /v1/applications/{id}/transitions.".into());
            }
            if role == Role::Staff {
                return Err("Staff change applications only through their status.".into());
            }
            if a.data != old.data && !old.is_editable_by_applicant() {
                return Err(format!(
                    "The answers can no longer be changed: the application is {:?}.",
                    old.status
                ));
            }
            if a.programme_id != old.programme_id || a.applicant_id != old.applicant_id {
                return Err("An application cannot move to another programme or applicant.".into());
            }
        }
        (None, Typed::FinancialAccount(f))
            if f.verification_status != VerificationStatus::Unverified || f.review.is_some() =>
        {
            return Err("A new account starts unverified; staff verify it.".into());
        }
        (Some(Typed::FinancialAccount(old)), Typed::FinancialAccount(f)) => {
            if decision {
                let mut only_decision = old.clone();
                only_decision.verification_status = f.verification_status;
                only_decision.review = f.review.clone();
                only_decision.meta = f.meta.clone();
                if &only_decision != f {
                    return Err("A verification changes only the account's verification.".into());
                }
            } else if (f.verification_status != old.verification_status || f.review != old.review)
                && !(f.verification_status == VerificationStatus::Unverified
                    && f.review.is_none()
                    && verified_facts_changed(old, f))
            {
                return Err(format!(
                    "Only a reviewer changes an account's verification, from the review desk ({}).",
                    doorstep_domain::api::paths::REVIEW_ACCOUNT
                ));
            }
        }
        (None, Typed::Document(d))
            if d.verification_status != DocumentStatus::Pending || d.review.is_some() =>
        {
            return Err("A new document starts pending; a reviewer verifies it.".into());
        }
        (Some(Typed::Document(old)), Typed::Document(d)) => {
            if d.sha256 != old.sha256 {
                return Err("A document's file cannot be swapped: add the new file as a new document and delete this one.".into());
            }
            if decision {
                let mut only_decision = old.clone();
                only_decision.verification_status = d.verification_status;
                only_decision.review = d.review.clone();
                only_decision.meta = d.meta.clone();
                if &only_decision != d {
                    return Err("A verification changes only the document's verification.".into());
                }
            } else if (d.verification_status != old.verification_status || d.review != old.review)
                && !(d.verification_status == DocumentStatus::Pending
                    && d.review.is_none()
                    && document_facts_changed(old, d))
            {
                return Err(format!(
                    "Only a reviewer changes a document's verification, from the review desk ({}).",
                    doorstep_domain::api::paths::REVIEW_DOCUMENT
                ));
            }
        }
        (old, Typed::Individual(person)) if role == Role::Citizen => {
            let old = match old {
                Some(Typed::Individual(old)) => Some(old),
                _ => None,
            };
            if person.last_liveness_check != old.and_then(|o| o.last_liveness_check) {
                return Err("The date of the last liveness check is set by the registry when a check passes, not by hand.".into());
            }
            for id in &person.reg_ids {
                let provider_checked = id.status == IdStatus::Valid
                    && vouched == Some((id.id_type.as_str(), id.value.as_str()));
                if id.status != stored_id_status(old, id) && !provider_checked {
                    return Err(format!(
                        "The status of an ID ({}) is set by the registry office once it has seen the document.",
                        id.id_type.as_str()
                    ));
                }
            }
        }
        (Some(Typed::Notification(old)), Typed::Notification(n)) if role == Role::Citizen => {
            let mut only_read = old.clone();
            only_read.read_at = n.read_at;
            only_read.meta = n.meta.clone();
            if &only_read != n {
                return Err("You can only mark a notification read or unread.".into());
            }
        }
        _ => {}
    }
    Ok(())
}

/// What an ID's status must be after a citizen's write: as stored while the number is unchanged,
/// unverified for a new or changed number.
fn stored_id_status(
    old: Option<&doorstep_domain::Individual>,
    id: &doorstep_domain::id_type::RegistrantId,
) -> IdStatus {
    old.into_iter()
        .flat_map(|o| o.reg_ids.iter())
        .find(|o| o.id_type == id.id_type && o.value == id.value)
        .map_or(IdStatus::Unverified, |o| o.status)
}

/// Whether an account now names a different account or holder than the one staff looked at.
fn verified_facts_changed(old: &FinancialAccount, new: &FinancialAccount) -> bool {
    old.account_number != new.account_number
        || old.holder_name != new.holder_name
        || old.kind != new.kind
        || old.provider_code != new.provider_code
        || old.registrant_id != new.registrant_id
}

/// Whether a document is now evidence of something else than what a reviewer looked at.
fn document_facts_changed(old: &Document, new: &Document) -> bool {
    old.kind != new.kind || old.linked_record != new.linked_record
}

/// Make verifications void where the fact verified changed, in the record's JSON `body` (the
/// normalised form of `new`); returns whether anything changed. An account whose number,
/// holder, kind or provider changes goes back to unverified, and a document whose kind or
/// record changes back to pending, whoever changes it (a reviewer's decision changes nothing
/// else). A citizen who changes an ID's number while carrying its old status along
/// gets that ID back as unverified.
pub fn reset_verifications(
    role: Role,
    old: Option<&Typed>,
    new: &Typed,
    body: &mut serde_json::Value,
    decision: bool,
) -> bool {
    match (old, new) {
        (Some(Typed::FinancialAccount(old)), Typed::FinancialAccount(f))
            if !decision
                && f.verification_status != VerificationStatus::Unverified
                && f.verification_status == old.verification_status
                && f.review == old.review
                && verified_facts_changed(old, f) =>
        {
            body["verification_status"] = serde_json::json!(VerificationStatus::Unverified);
            body["review"] = serde_json::Value::Null;
            true
        }
        (Some(Typed::Document(old)), Typed::Document(d))
            if !decision
                && d.verification_status != DocumentStatus::Pending
                && d.verification_status == old.verification_status
                && d.review == old.review
                && document_facts_changed(old, d) =>
        {
            body["verification_status"] = serde_json::json!(DocumentStatus::Pending);
            body["review"] = serde_json::Value::Null;
            true
        }
        (Some(Typed::Individual(old)), Typed::Individual(person)) if role == Role::Citizen => {
            let mut changed = false;
            for (i, id) in person.reg_ids.iter().enumerate() {
                let carried = old.reg_ids.iter().any(|o| {
                    o.id_type == id.id_type && o.value != id.value && o.status == id.status
                });
                if carried && id.status != IdStatus::Unverified {
                    body["reg_ids"][i]["status"] = serde_json::json!(IdStatus::Unverified);
                    changed = true;
                }
            }
            changed
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(
        owner: Option<Uuid>,
        group: Option<Uuid>,
        area: Option<&str>,
        creator: &str,
    ) -> RecordIndex {
        RecordIndex {
            owner_id: owner,
            group_id: group,
            area: area.map(str::to_owned),
            creator: creator.into(),
            ..RecordIndex::default()
        }
    }

    #[test]
    fn agents_see_their_area_and_below_only() {
        let v = Visibility::Area("KE.30".into());
        let k = RecordKind::Individual;
        assert!(v.allows(k, &index(None, None, Some("KE.30"), "x")));
        assert!(v.allows(k, &index(None, None, Some("KE.30.2"), "x")));
        assert!(!v.allows(k, &index(None, None, Some("KE.300"), "x")));
        assert!(!v.allows(k, &index(None, None, Some("KE"), "x")));
        assert!(!v.allows(k, &index(None, None, None, "x")));
        assert!(v.allows(RecordKind::Programme, &index(None, None, None, "x")));
    }

    #[test]
    fn citizens_see_household_people_but_not_their_money() {
        let me = Uuid::now_v7();
        let spouse = Uuid::now_v7();
        let house = Uuid::now_v7();
        let v = Visibility::Citizen(CitizenScope {
            me: Some(me),
            actor: "citizen:me".into(),
            groups: vec![house],
            members: vec![me, spouse],
        });
        assert!(v.allows(
            RecordKind::Individual,
            &index(Some(spouse), None, None, "agent:a")
        ));
        assert!(v.allows(
            RecordKind::FinancialAccount,
            &index(Some(me), None, None, "agent:a")
        ));
        assert!(!v.allows(
            RecordKind::FinancialAccount,
            &index(Some(spouse), None, None, "agent:a")
        ));
        assert!(v.allows(
            RecordKind::Membership,
            &index(Some(spouse), Some(house), None, "agent:a")
        ));
        assert!(!v.allows(
            RecordKind::Individual,
            &index(Some(Uuid::now_v7()), None, None, "agent:a")
        ));
        assert!(v.allows(
            RecordKind::Individual,
            &index(Some(Uuid::now_v7()), None, None, "citizen:me")
        ));
    }

    #[test]
    fn the_write_matrix_keeps_roles_apart() {
        assert!(may_write_kind(Role::Admin, RecordKind::Programme));
        assert!(!may_write_kind(Role::Admin, RecordKind::Individual));
        assert!(!may_write_kind(Role::Citizen, RecordKind::Programme));
        assert!(!may_create_kind(Role::Citizen, RecordKind::Notification));
        assert!(may_write_kind(Role::Citizen, RecordKind::Notification));
        assert!(!may_write_kind(Role::Staff, RecordKind::Individual));
        assert!(!may_write_kind(Role::Citizen, RecordKind::LivenessCheck));
    }
}
