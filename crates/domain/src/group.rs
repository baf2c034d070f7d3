//! Households and families (OpenG2P: a registrant with `is_group = true`) and who belongs to them.
//!
//! A membership is its own record with start and end dates, so the history of a household
//! (a child born, a spouse who left) is kept rather than overwritten, and so two field workers
//! can add different members offline without conflicting on the group record.

use serde::{Deserialize, Serialize};
use time::Date;

use crate::contact::Address;
use crate::ids::RecordId;
use crate::record::{impl_record, RecordKind, RecordMeta};
use crate::validate::text::{required_line, MAX_LINE_CHARS};
use crate::validate::{code, indexed, Validate, ValidationErrors};

/// A household or family.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Group {
    #[serde(flatten)]
    pub meta: RecordMeta,
    /// How the group is known, usually the head's family name ("Otieno household").
    pub name: String,
    pub kind: GroupKind,
    /// Where the group lives.
    #[serde(default)]
    pub address: Option<Address>,
    /// Not every member is registered yet (OpenG2P `is_partial_group`); eligibility rules that
    /// count members should treat the count as a minimum.
    #[serde(default)]
    pub is_partial_group: bool,
}

impl_record!(Group, RecordKind::Group);

impl Validate for Group {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        errors.merge(self.meta.validate());
        required_line(
            &mut errors,
            "name",
            "group name",
            &self.name,
            MAX_LINE_CHARS,
        );
        if let Some(address) = &self.address {
            errors.nest("address", address.validate());
        }
        errors.into_result()
    }
}

/// What kind of group (OpenG2P group `kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum GroupKind {
    /// People who live together and share meals and resources, related or not.
    Household,
    /// People related by blood, marriage or adoption, wherever they live.
    Family,
}

/// A person's role in a group, relative to its head.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum MembershipKind {
    /// The group's head: exactly one at any time while the group has members.
    Head,
    Spouse,
    Child,
    Parent,
    OtherRelative,
    NonRelative,
}

/// One person's membership of one group, over a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Membership {
    #[serde(flatten)]
    pub meta: RecordMeta,
    pub group_id: RecordId,
    pub individual_id: RecordId,
    pub kind: MembershipKind,
    /// First day of membership.
    #[serde(with = "crate::date_format")]
    pub start_date: Date,
    /// Day the membership ended (OpenG2P `ended_date`); from that day on the person is no
    /// longer a member. `None` while it lasts.
    #[serde(default, with = "crate::date_format::option")]
    pub end_date: Option<Date>,
}

impl_record!(Membership, RecordKind::Membership);

impl Membership {
    /// Whether the person is a member on `today`: the membership has started, has not ended
    /// (an end date of today or earlier ends it) and the record is not deleted.
    ///
    /// Counting the start date as well as the end date lets a change of head be recorded ahead
    /// of time (old head ends on the day the new head starts) without two heads at once.
    pub fn is_active_on(&self, today: Date) -> bool {
        !self.meta.is_deleted()
            && self.start_date <= today
            && self.end_date.is_none_or(|end| end > today)
    }
}

impl Validate for Membership {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        errors.merge(self.meta.validate());
        if self.group_id.is_nil() {
            errors.push("group_id", code::REQUIRED, "Choose the group.");
        }
        if self.individual_id.is_nil() {
            errors.push("individual_id", code::REQUIRED, "Choose the person.");
        }
        if self.end_date.is_some_and(|end| end < self.start_date) {
            errors.push(
                "end_date",
                code::DATE_ORDER,
                "The end date is before the start date; check both dates.",
            );
        }
        errors.into_result()
    }
}

/// Memberships of `group_id` that are active on `today`.
pub fn active_memberships(
    group_id: RecordId,
    memberships: &[Membership],
    today: Date,
) -> impl Iterator<Item = &Membership> {
    memberships
        .iter()
        .filter(move |membership| membership.group_id == group_id && membership.is_active_on(today))
}

/// The head of `group_id` on `today`, if there is exactly one.
pub fn head_on(group_id: RecordId, memberships: &[Membership], today: Date) -> Option<&Membership> {
    let mut heads = active_memberships(group_id, memberships, today)
        .filter(|membership| membership.kind == MembershipKind::Head);
    match (heads.next(), heads.next()) {
        (Some(head), None) => Some(head),
        _ => None,
    }
}

/// Checks a group's memberships together, as of `today`:
/// - each membership is valid on its own and belongs to `group`;
/// - a group with active members has exactly one active head (a group whose members have all
///   left, or a deleted group, needs none);
/// - nobody is an active member of the group twice.
///
/// Paths are `memberships[i].…` with `i` the position in `memberships`.
pub fn validate_memberships(
    group: &Group,
    memberships: &[Membership],
    today: Date,
) -> Result<(), ValidationErrors> {
    let mut errors = ValidationErrors::new();
    let group_id = group.meta.id;
    let mut active: Vec<(usize, &Membership)> = Vec::new();

    for (index, membership) in memberships.iter().enumerate() {
        let path = indexed("memberships", index);
        errors.nest(&path, membership.validate());
        if membership.group_id != group_id {
            errors.push(
                format!("{path}.group_id"),
                code::WRONG_REFERENCE,
                "This membership belongs to another group.",
            );
            continue;
        }
        if !membership.is_active_on(today) {
            continue;
        }
        if active
            .iter()
            .any(|(_, other)| other.individual_id == membership.individual_id)
        {
            errors.push(
                format!("{path}.individual_id"),
                code::DUPLICATE,
                "This person is already a member of the group; end or remove the other membership.",
            );
        }
        active.push((index, membership));
    }

    if group.meta.is_deleted() || active.is_empty() {
        return errors.into_result();
    }
    let mut heads = active
        .iter()
        .filter(|(_, membership)| membership.kind == MembershipKind::Head);
    match heads.next() {
        None => errors.push(
            "memberships",
            code::MISSING_HEAD,
            "Choose who heads the group: one current member must be its head.",
        ),
        Some(_) => {
            for (index, _) in heads {
                errors.push(
                    format!("{}.kind", indexed("memberships", *index)),
                    code::MULTIPLE_HEADS,
                    "The group already has a head; choose another role, or end the other head's membership first.",
                );
            }
        }
    }
    errors.into_result()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ActorId;
    use crate::test_support::id;
    use time::macros::{date, datetime};

    fn meta(n: u8) -> RecordMeta {
        RecordMeta::new(id(n), datetime!(2024-05-01 8:00 UTC), ActorId::new("agent"))
    }

    fn household() -> Group {
        Group {
            meta: meta(1),
            name: "Otieno household".into(),
            kind: GroupKind::Household,
            address: None,
            is_partial_group: false,
        }
    }

    fn member(
        n: u8,
        person: u8,
        kind: MembershipKind,
        start: Date,
        end: Option<Date>,
    ) -> Membership {
        Membership {
            meta: meta(n),
            group_id: id(1),
            individual_id: id(person),
            kind,
            start_date: start,
            end_date: end,
        }
    }

    const TODAY: Date = date!(2024 - 06 - 01);
    const START: Date = date!(2020 - 01 - 01);

    #[test]
    fn one_head_with_members_is_valid() {
        let members = [
            member(10, 20, MembershipKind::Head, START, None),
            member(11, 21, MembershipKind::Spouse, START, None),
            member(12, 22, MembershipKind::Child, START, None),
        ];
        assert_eq!(validate_memberships(&household(), &members, TODAY), Ok(()));
        assert_eq!(
            head_on(id(1), &members, TODAY).unwrap().individual_id,
            id(20)
        );
        assert_eq!(active_memberships(id(1), &members, TODAY).count(), 3);
    }

    #[test]
    fn members_without_head_are_refused() {
        let members = [member(11, 21, MembershipKind::Spouse, START, None)];
        let errors = validate_memberships(&household(), &members, TODAY).unwrap_err();
        assert!(errors.has("memberships", code::MISSING_HEAD));
    }

    #[test]
    fn two_heads_are_refused() {
        let members = [
            member(10, 20, MembershipKind::Head, START, None),
            member(11, 21, MembershipKind::Head, START, None),
        ];
        let errors = validate_memberships(&household(), &members, TODAY).unwrap_err();
        assert!(errors.has("memberships[1].kind", code::MULTIPLE_HEADS));
        assert_eq!(errors.len(), 1);
        assert!(head_on(id(1), &members, TODAY).is_none());
    }

    #[test]
    fn ended_head_does_not_count() {
        let members = [
            member(
                10,
                20,
                MembershipKind::Head,
                START,
                Some(date!(2023 - 01 - 01)),
            ),
            member(11, 21, MembershipKind::Head, date!(2023 - 01 - 01), None),
        ];
        assert_eq!(validate_memberships(&household(), &members, TODAY), Ok(()));
        // The membership ends on its end date: on that day the old head no longer counts.
        assert_eq!(
            validate_memberships(&household(), &members, date!(2023 - 01 - 01)),
            Ok(())
        );
        assert_eq!(
            head_on(id(1), &members, date!(2022 - 12 - 31))
                .unwrap()
                .individual_id,
            id(20)
        );
    }

    #[test]
    fn head_change_can_be_planned_ahead() {
        let handover = date!(2024 - 07 - 01);
        let members = [
            member(10, 20, MembershipKind::Head, START, Some(handover)),
            member(11, 21, MembershipKind::Head, handover, None),
        ];
        assert_eq!(validate_memberships(&household(), &members, TODAY), Ok(()));
        assert_eq!(
            head_on(id(1), &members, TODAY).unwrap().individual_id,
            id(20)
        );
        assert_eq!(
            head_on(id(1), &members, handover).unwrap().individual_id,
            id(21)
        );
    }

    #[test]
    fn deleted_head_does_not_count() {
        let mut head = member(10, 20, MembershipKind::Head, START, None);
        head.meta.soft_delete(datetime!(2024-05-02 8:00 UTC));
        let members = [head, member(11, 21, MembershipKind::Child, START, None)];
        let errors = validate_memberships(&household(), &members, TODAY).unwrap_err();
        assert!(errors.has("memberships", code::MISSING_HEAD));
    }

    #[test]
    fn group_whose_members_all_left_needs_no_head() {
        let members = [member(
            10,
            20,
            MembershipKind::Head,
            START,
            Some(date!(2024 - 01 - 01)),
        )];
        assert_eq!(validate_memberships(&household(), &members, TODAY), Ok(()));
        assert_eq!(validate_memberships(&household(), &[], TODAY), Ok(()));
    }

    #[test]
    fn end_before_start_is_refused() {
        let membership = member(
            10,
            20,
            MembershipKind::Head,
            START,
            Some(date!(2019 - 12 - 31)),
        );
        assert!(membership
            .validate()
            .unwrap_err()
            .has("end_date", code::DATE_ORDER));
        let same_day = member(10, 20, MembershipKind::Head, START, Some(START));
        assert_eq!(same_day.validate(), Ok(()));
        assert!(!same_day.is_active_on(START));
    }

    #[test]
    fn person_cannot_be_active_member_twice() {
        let members = [
            member(10, 20, MembershipKind::Head, START, None),
            member(11, 20, MembershipKind::OtherRelative, START, None),
        ];
        let errors = validate_memberships(&household(), &members, TODAY).unwrap_err();
        assert!(errors.has("memberships[1].individual_id", code::DUPLICATE));
        // Leaving and rejoining later is fine.
        let rejoined = [
            member(10, 20, MembershipKind::Head, START, None),
            member(
                11,
                21,
                MembershipKind::Child,
                START,
                Some(date!(2022 - 01 - 01)),
            ),
            member(12, 21, MembershipKind::Child, date!(2023 - 01 - 01), None),
        ];
        assert_eq!(validate_memberships(&household(), &rejoined, TODAY), Ok(()));
    }

    #[test]
    fn membership_of_another_group_is_flagged() {
        let mut stray = member(11, 21, MembershipKind::Head, START, None);
        stray.group_id = id(99);
        let members = [member(10, 20, MembershipKind::Head, START, None), stray];
        let errors = validate_memberships(&household(), &members, TODAY).unwrap_err();
        assert!(errors.has("memberships[1].group_id", code::WRONG_REFERENCE));
        assert_eq!(
            errors.len(),
            1,
            "the stray head is not counted as a second head"
        );
    }

    #[test]
    fn group_needs_a_name() {
        let mut group = household();
        assert_eq!(group.validate(), Ok(()));
        group.name = " ".into();
        assert!(group.validate().unwrap_err().has("name", code::REQUIRED));
    }
}
