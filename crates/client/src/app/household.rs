//! The person's household: who lives with them and how each is related to the head.
//!
//! A household is a [`Group`] of kind household; each member is an [`Individual`] with a
//! [`Membership`] of the group. Memberships are never deleted: removing a member ends the
//! membership (`end_date` = today), so the registry keeps the household's history and the
//! individual record stays. Every change is checked against the domain's group rules
//! ([`validate_memberships`]: exactly one head, nobody twice) before it is written, and each
//! change is one vault transaction. Changing the head writes the old head's demotion before the
//! new head's promotion, so the registry (which applies mutations in order and allows one
//! current head per household) never sees two heads.

use doorstep_domain::group::{validate_memberships, Group, GroupKind, Membership, MembershipKind};
use doorstep_domain::id_type::{IdStatus, RegistrantId};
use doorstep_domain::ids::{ActorId, IdTypeCode};
use doorstep_domain::individual::Individual;
use doorstep_domain::record::{RecordKind, RecordMeta};
use doorstep_domain::validate::id_pattern::normalize_id_number;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::details::{actor_of, find_me, new_id, parse_date, NATIONAL_ID};
use super::records::{live, today};
use super::refusal::refused;
use super::who::Who;
use super::AppError;
use crate::vault::{Change, Op, Partition, VaultError};

/// The household screen: the person's current household, from the vault.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct HouseholdView {
    /// The person is a current member of a household.
    pub exists: bool,
    /// The person has their own record, so a household can be created.
    pub can_create: bool,
    /// Current members, the head first, then by name.
    pub members: Vec<MemberView>,
}

/// One current member of the household.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct MemberView {
    pub individual_id: String,
    pub name: String,
    pub given_name: String,
    pub family_name: String,
    /// Relationship to the head (`head` for the head themself).
    pub relationship: MembershipKind,
    pub is_head: bool,
    /// This member is the signed-in person.
    pub is_me: bool,
    /// `YYYY-MM-DD`.
    pub birthdate: Option<String>,
    pub national_id: Option<String>,
}

/// What the person fills in to add or edit a member.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct MemberInput {
    pub given_name: String,
    pub family_name: String,
    /// `YYYY-MM-DD`.
    pub birthdate: Option<String>,
    /// Relationship to the head; `head` only through "make head of household".
    pub relationship: MembershipKind,
    /// The member's national ID number, if known. When someone with that number is already on
    /// this device, that record is linked instead of a new one being created.
    #[serde(default)]
    pub national_id: Option<String>,
}

/// The person's household as stored: the group and its current memberships.
struct Household {
    me: Individual,
    group: Group,
    /// Current memberships of the group.
    members: Vec<Membership>,
}

/// The current memberships of the group `individual` currently belongs to (empty if none).
pub(super) fn current_memberships_of(
    partition: &Partition,
    individual: Uuid,
) -> Result<Vec<Membership>, AppError> {
    let today = today();
    let active: Vec<Membership> = live::<Membership>(partition, RecordKind::Membership)?
        .into_iter()
        .filter(|m| m.is_active_on(today))
        .collect();
    let Some(group) = active
        .iter()
        .find(|m| *m.individual_id.as_uuid() == individual)
        .map(|m| m.group_id)
    else {
        return Ok(Vec::new());
    };
    Ok(active.into_iter().filter(|m| m.group_id == group).collect())
}

fn load(partition: &Partition, session: Who<'_>) -> Result<Option<Household>, AppError> {
    let Some(me) = find_me(partition, session)? else {
        return Ok(None);
    };
    let members = current_memberships_of(partition, *me.meta.id.as_uuid())?;
    let Some(first) = members.first() else {
        return Ok(None);
    };
    let Some(group) = partition
        .get::<Group>(*first.group_id.as_uuid())?
        .filter(|g| !g.meta.is_deleted())
    else {
        return Ok(None);
    };
    Ok(Some(Household { me, group, members }))
}

fn require(partition: &Partition, session: Who<'_>) -> Result<Household, AppError> {
    load(partition, session)?.ok_or_else(|| {
        refused(
            "noHousehold",
            "You have no household on this device yet. Create your household first.",
        )
    })
}

fn not_a_member() -> AppError {
    refused(
        "notAMember",
        "That person is not a current member of your household.",
    )
}

fn national_id_of(person: &Individual) -> Option<String> {
    person
        .id_of_type(&IdTypeCode::new(NATIONAL_ID))
        .map(|r| r.value.clone())
}

/// The household screen.
pub fn view(partition: &Partition, session: Who<'_>) -> Result<HouseholdView, AppError> {
    let me = find_me(partition, session)?;
    let Some(household) = load(partition, session)? else {
        return Ok(HouseholdView {
            exists: false,
            can_create: me.is_some(),
            members: Vec::new(),
        });
    };
    let mut members = Vec::with_capacity(household.members.len());
    for m in &household.members {
        let Some(person) = partition.get::<Individual>(*m.individual_id.as_uuid())? else {
            // Not pulled yet (or not visible to this person): still listed, without a name.
            members.push(MemberView {
                individual_id: m.individual_id.to_string(),
                name: String::new(),
                given_name: String::new(),
                family_name: String::new(),
                relationship: m.kind,
                is_head: m.kind == MembershipKind::Head,
                is_me: false,
                birthdate: None,
                national_id: None,
            });
            continue;
        };
        members.push(MemberView {
            individual_id: m.individual_id.to_string(),
            name: person.display_name(),
            given_name: person.given_name.clone(),
            family_name: person.family_name.clone(),
            relationship: m.kind,
            is_head: m.kind == MembershipKind::Head,
            is_me: m.individual_id == household.me.meta.id,
            birthdate: person.birthdate.map(|d| d.to_string()),
            national_id: national_id_of(&person),
        });
    }
    members.sort_by(|a, b| b.is_head.cmp(&a.is_head).then(a.name.cmp(&b.name)));
    Ok(HouseholdView {
        exists: true,
        can_create: false,
        members,
    })
}

/// Create a household with the person as its head.
pub fn create(partition: &Partition, session: Who<'_>) -> Result<(), AppError> {
    let me = find_me(partition, session)?.ok_or_else(|| {
        refused(
            "registerFirst",
            "Save your own details first; then you can create your household.",
        )
    })?;
    if load(partition, session)?.is_some() {
        return Err(refused(
            "alreadyInHousehold",
            "You already belong to a household.",
        ));
    }
    let actor = actor_of(session);
    let now = OffsetDateTime::now_utc();
    let family = [me.family_name.trim(), me.given_name.trim()]
        .into_iter()
        .find(|n| !n.is_empty())
        .unwrap_or("My");
    let group = Group {
        meta: RecordMeta::new(new_id(), now, ActorId::new(&actor)),
        name: format!("{family} household"),
        kind: GroupKind::Household,
        address: None,
        is_partial_group: false,
    };
    let head = Membership {
        meta: RecordMeta::new(new_id(), now, ActorId::new(&actor)),
        group_id: group.meta.id,
        individual_id: me.meta.id,
        kind: MembershipKind::Head,
        start_date: now.date(),
        end_date: None,
    };
    check_group(&group, std::slice::from_ref(&head))?;
    partition.apply_batch(&[
        Change::of(&group, Op::Create, &actor)?,
        Change::of(&head, Op::Create, &actor)?,
    ])?;
    Ok(())
}

/// Add a member: a new person, or (by national ID) someone already on this device, linked.
pub fn add(partition: &Partition, session: Who<'_>, input: &MemberInput) -> Result<(), AppError> {
    let household = require(partition, session)?;
    if input.relationship == MembershipKind::Head {
        return Err(head_through_change());
    }
    let actor = actor_of(session);
    let now = OffsetDateTime::now_utc();
    let birthdate = optional_date(input.birthdate.as_deref())?;
    let national = national_id_input(input.national_id.as_deref())?;
    let mut changes = Vec::new();
    let existing = match &national {
        Some(number) => find_by_national_id(partition, number)?,
        None => None,
    };
    let individual_id = match existing {
        // Registered already (in this household before, or elsewhere): link, never duplicate.
        Some(person) => person.meta.id,
        None => {
            let mut person = Individual::new(
                RecordMeta::new(new_id(), now, ActorId::new(&actor)),
                input.given_name.trim(),
                input.family_name.trim(),
            );
            person.birthdate = birthdate;
            if let Some(number) = national {
                person.reg_ids.push(RegistrantId {
                    id_type: IdTypeCode::new(NATIONAL_ID),
                    value: number,
                    expiry_date: None,
                    // As the person typed it; the office checks it.
                    status: IdStatus::Unverified,
                });
            }
            changes.push(Change::of(&person, Op::Create, &actor)?);
            person.meta.id
        }
    };
    if household
        .members
        .iter()
        .any(|m| m.individual_id == individual_id)
    {
        return Err(refused(
            "alreadyMember",
            "This person is already a member of your household.",
        ));
    }
    let membership = Membership {
        meta: RecordMeta::new(new_id(), now, ActorId::new(&actor)),
        group_id: household.group.meta.id,
        individual_id,
        kind: input.relationship,
        start_date: now.date(),
        end_date: None,
    };
    let mut after = household.members.clone();
    after.push(membership.clone());
    check_group(&household.group, &after)?;
    changes.push(Change::of(&membership, Op::Create, &actor)?);
    partition.apply_batch(&changes)?;
    Ok(())
}

/// Change a member's name, birth date, relationship (not to or from head: see [`change_head`])
/// or add their national ID number if none is recorded.
pub fn edit(
    partition: &Partition,
    session: Who<'_>,
    individual: Uuid,
    input: &MemberInput,
) -> Result<(), AppError> {
    let household = require(partition, session)?;
    let membership = member(&household, individual)?.clone();
    if (membership.kind == MembershipKind::Head) != (input.relationship == MembershipKind::Head) {
        return Err(head_through_change());
    }
    let actor = actor_of(session);
    let now = OffsetDateTime::now_utc();
    let birthdate = optional_date(input.birthdate.as_deref())?;
    let national = national_id_input(input.national_id.as_deref())?;
    let mut person = partition
        .get::<Individual>(individual)?
        .filter(|p| !p.meta.is_deleted())
        .ok_or_else(not_a_member)?;
    let before = person.clone();
    person.given_name = input.given_name.trim().to_owned();
    person.family_name = input.family_name.trim().to_owned();
    person.birthdate = birthdate;
    match (national_id_of(&person), national) {
        (None, Some(number)) => {
            if find_by_national_id(partition, &number)?.is_some() {
                return Err(refused(
                    "idTaken",
                    "Someone else on this device has that ID number. Check the number.",
                ));
            }
            person.reg_ids.push(RegistrantId {
                id_type: IdTypeCode::new(NATIONAL_ID),
                value: number,
                expiry_date: None,
                status: IdStatus::Unverified,
            });
        }
        (Some(recorded), Some(number)) if recorded != number => {
            return Err(refused(
                "idLocked",
                "This person's ID number is already recorded. To correct it, ask the office.",
            ));
        }
        _ => {}
    }
    let mut changes = Vec::new();
    if person != before {
        person.meta.touch(now);
        changes.push(Change::of(&person, Op::Update, &actor)?);
    }
    if membership.kind != input.relationship {
        let mut changed = membership;
        changed.kind = input.relationship;
        changed.meta.touch(now);
        let after = replaced(&household.members, &changed);
        check_group(&household.group, &after)?;
        changes.push(Change::of(&changed, Op::Update, &actor)?);
    }
    if !changes.is_empty() {
        partition.apply_batch(&changes)?;
    }
    Ok(())
}

/// End a member's membership today. The person's record stays (they may be registered
/// elsewhere, and the registry keeps the household's history). The head cannot be removed: make
/// someone else head first.
pub fn remove(partition: &Partition, session: Who<'_>, individual: Uuid) -> Result<(), AppError> {
    let household = require(partition, session)?;
    let membership = member(&household, individual)?.clone();
    if membership.kind == MembershipKind::Head {
        return Err(refused(
            "headRemoval",
            "The head of the household cannot be removed. First make another member the head.",
        ));
    }
    if membership.individual_id == household.me.meta.id {
        return Err(refused(
            "selfRemoval",
            "You cannot remove yourself from your household here. Ask the office if you moved out.",
        ));
    }
    let now = OffsetDateTime::now_utc();
    let mut ended = membership;
    ended.end_date = Some(now.date());
    ended.meta.touch(now);
    let after = replaced(&household.members, &ended);
    check_group(&household.group, &after)?;
    let actor = actor_of(session);
    partition.apply_batch(&[Change::of(&ended, Op::Update, &actor)?])?;
    Ok(())
}

/// Make `individual` the head. The old head takes the relationship the new head had, seen from
/// the other side (a spouse's spouse, a child's parent…), and both memberships change in one
/// vault transaction, the old head's first.
pub fn change_head(
    partition: &Partition,
    session: Who<'_>,
    individual: Uuid,
) -> Result<(), AppError> {
    let household = require(partition, session)?;
    let new_head = member(&household, individual)?.clone();
    if new_head.kind == MembershipKind::Head {
        return Ok(());
    }
    let now = OffsetDateTime::now_utc();
    let actor = actor_of(session);
    let mut after = household.members.clone();
    let mut changes = Vec::new();
    if let Some(old) = household
        .members
        .iter()
        .find(|m| m.kind == MembershipKind::Head)
    {
        let mut old = old.clone();
        old.kind = inverse(new_head.kind);
        old.meta.touch(now);
        after = replaced(&after, &old);
        changes.push(Change::of(&old, Op::Update, &actor)?);
    }
    let mut promoted = new_head;
    promoted.kind = MembershipKind::Head;
    promoted.meta.touch(now);
    after = replaced(&after, &promoted);
    check_group(&household.group, &after)?;
    changes.push(Change::of(&promoted, Op::Update, &actor)?);
    partition.apply_batch(&changes)?;
    Ok(())
}

/// The relationship of A to B when B is `kind` to A.
fn inverse(kind: MembershipKind) -> MembershipKind {
    use MembershipKind::*;
    match kind {
        Child => Parent,
        Parent => Child,
        Head | Spouse => Spouse,
        OtherRelative => OtherRelative,
        NonRelative => NonRelative,
    }
}

fn member(household: &Household, individual: Uuid) -> Result<&Membership, AppError> {
    household
        .members
        .iter()
        .find(|m| *m.individual_id.as_uuid() == individual)
        .ok_or_else(not_a_member)
}

fn replaced(members: &[Membership], changed: &Membership) -> Vec<Membership> {
    members
        .iter()
        .map(|m| {
            if m.meta.id == changed.meta.id {
                changed.clone()
            } else {
                m.clone()
            }
        })
        .collect()
}

/// The domain's household rules (one head, nobody twice), as the form's errors.
fn check_group(group: &Group, members: &[Membership]) -> Result<(), AppError> {
    validate_memberships(group, members, today())
        .map_err(|errors| AppError::Vault(VaultError::Invalid(errors)))
}

fn head_through_change() -> AppError {
    refused(
        "headChange",
        "To change the head of the household, use \"Make head of household\" on the new head.",
    )
}

fn optional_date(text: Option<&str>) -> Result<Option<Date>, AppError> {
    match text.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => parse_date(text).map(Some),
    }
}

/// A national ID number as typed: spaces and dashes dropped, letters and digits only.
/// The domain's reading of a typed ID number ([`normalize_id_number`]).
fn national_id_input(text: Option<&str>) -> Result<Option<String>, AppError> {
    let Some(text) = text else { return Ok(None) };
    normalize_id_number(text).map_err(|_| {
        refused(
            "idFormat",
            "The ID number looks wrong: write only its letters and digits, as printed on the card.",
        )
    })
}

/// A live individual on this device with `number` as their national ID.
fn find_by_national_id(
    partition: &Partition,
    number: &str,
) -> Result<Option<Individual>, AppError> {
    let national = IdTypeCode::new(NATIONAL_ID);
    Ok(live::<Individual>(partition, RecordKind::Individual)?
        .into_iter()
        .find(|p| {
            p.id_of_type(&national)
                .is_some_and(|r| r.value.eq_ignore_ascii_case(number))
        }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relationships_invert() {
        use MembershipKind::*;
        assert_eq!(inverse(Child), Parent);
        assert_eq!(inverse(Parent), Child);
        assert_eq!(inverse(Spouse), Spouse);
        assert_eq!(inverse(NonRelative), NonRelative);
    }

    #[test]
    fn national_ids_are_normalised_and_checked() {
        assert_eq!(national_id_input(None).unwrap(), None);
        assert_eq!(national_id_input(Some("  ")).unwrap(), None);
        assert_eq!(
            national_id_input(Some("12 345-678")).unwrap().as_deref(),
            Some("12345678")
        );
        assert!(national_id_input(Some("12/34")).is_err());
    }
}
