//! The notification centre and the home screen's "to do" list.
//!
//! Notifications are registry records addressed to the person (a decision on an application, a
//! document to send, a deadline); they arrive with sync and are read offline. Marking one read
//! is an edit the person makes, so it syncs like any other (the registry lets a citizen change
//! nothing else in it).

use doorstep_domain::application::ApplicationStatus;
use doorstep_domain::liveness::LivenessCheck;
use doorstep_domain::notification::{Notification, NotificationKind};
use doorstep_domain::record::RecordKind;
use doorstep_domain::timestamp;
use serde::Serialize;
use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;

use super::details::{actor_of, contact_of, find_me};
use super::finance;
use super::household::current_memberships_of;
use super::programmes::{ApplicationView, ProgrammeView};
use super::records::{live, today};
use super::refusal::refused;
use super::who::Who;
use super::AppError;
use crate::vault::{Change, Op, Partition};

/// A liveness check due within this many days shows on the home screen ahead of time.
const LIVENESS_NOTICE_DAYS: i64 = 30;

/// One notification as the centre lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct NotificationView {
    pub id: String,
    pub kind: NotificationKind,
    pub title: String,
    pub body: String,
    /// RFC 3339: when it was issued.
    pub created_at: String,
    pub read: bool,
    /// `YYYY-MM-DD`: the last day to act.
    pub deadline: Option<String>,
    pub overdue: bool,
    /// The record it is about (an application, a document request…).
    pub related_record: Option<String>,
}

/// Something the person should do, for the home screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum PendingAction {
    /// The office asked for more information on an application.
    #[serde(rename_all = "camelCase")]
    AnswerRequest {
        application_id: String,
        programme_id: String,
        programme: String,
        request: Option<String>,
    },
    /// Documents a programme the person applies to still needs.
    #[serde(rename_all = "camelCase")]
    SendDocuments {
        programme: String,
        kinds: Vec<doorstep_domain::document::DocumentKind>,
    },
    /// A reviewer did not accept a document: send a new one.
    #[serde(rename_all = "camelCase")]
    ReplaceDocument {
        document_id: String,
        document_kind: doorstep_domain::document::DocumentKind,
        file_name: String,
        reason: Option<String>,
    },
    /// The office could not verify a payment account: payments cannot go there.
    #[serde(rename_all = "camelCase")]
    FixAccount {
        account_id: String,
        account_number: String,
        reason: Option<String>,
    },
    /// A liveness check is due (or overdue) on `due` (`YYYY-MM-DD`).
    #[serde(rename_all = "camelCase")]
    LivenessDue { due: String, overdue: bool },
    /// A notification that asks for something by a date, or has not been read.
    #[serde(rename_all = "camelCase")]
    Notice {
        notification_id: String,
        notification_kind: NotificationKind,
        title: String,
        deadline: Option<String>,
        overdue: bool,
    },
    /// Answers typed but not submitted.
    #[serde(rename_all = "camelCase")]
    FinishDraft {
        programme_id: String,
        programme: String,
    },
    /// Parts of the registration still empty, which programmes and payments rely on.
    #[serde(rename_all = "camelCase")]
    CompleteRegistration { missing: Vec<RegistrationPart> },
}

/// A part of the registration the home screen can point to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum RegistrationPart {
    Address,
    Household,
    PaymentAccount,
}

/// The person's notifications, newest first.
pub(super) fn mine(partition: &Partition, session: Who<'_>) -> Result<Vec<Notification>, AppError> {
    let Some(me) = find_me(partition, session)? else {
        return Ok(Vec::new());
    };
    let mut out: Vec<Notification> = live(partition, RecordKind::Notification)?;
    out.retain(|n| n.recipient_id == me.meta.id);
    out.sort_by_key(|n| std::cmp::Reverse(n.meta.created_at));
    Ok(out)
}

fn view(n: &Notification, today: Date) -> NotificationView {
    NotificationView {
        id: n.meta.id.as_uuid().to_string(),
        kind: n.kind,
        title: n.title.clone(),
        body: n.body.clone(),
        created_at: timestamp::format(n.meta.created_at),
        read: n.is_read(),
        deadline: n.deadline.map(|d| d.to_string()),
        overdue: n.is_overdue(today),
        related_record: n.related_record.map(|r| r.as_uuid().to_string()),
    }
}

/// The person's notifications, newest first.
pub fn list(partition: &Partition, session: Who<'_>) -> Result<Vec<NotificationView>, AppError> {
    let today = today();
    Ok(mine(partition, session)?
        .iter()
        .map(|n| view(n, today))
        .collect())
}

/// Mark one read (or unread again). No change is queued when it already is.
pub fn mark(partition: &Partition, session: Who<'_>, id: Uuid, read: bool) -> Result<(), AppError> {
    let mut n = mine(partition, session)?
        .into_iter()
        .find(|n| *n.meta.id.as_uuid() == id)
        .ok_or_else(|| {
            refused(
                "notificationUnknown",
                "That notification is not on this device.",
            )
        })?;
    if n.is_read() == read {
        return Ok(());
    }
    let now = OffsetDateTime::now_utc();
    if read {
        n.mark_read(now);
    } else {
        n.read_at = None;
        n.meta.touch(now);
    }
    partition.apply(&Change::of(&n, Op::Update, &actor_of(session))?)?;
    Ok(())
}

/// What the person should do next, most pressing first: answers the office asked for, missing
/// documents, a due liveness check, notices with deadlines or unread, unfinished drafts, and
/// what the registration lacks. Takes what the home screen has already read.
pub fn pending_actions(
    partition: &Partition,
    session: Who<'_>,
    applications: &[ApplicationView],
    programmes: &[ProgrammeView],
    notices: &[Notification],
) -> Result<Vec<PendingAction>, AppError> {
    let today = today();
    let mut actions: Vec<PendingAction> = applications
        .iter()
        .filter(|a| a.status == ApplicationStatus::MoreInformationNeeded && !a.waiting_to_send)
        .map(|a| PendingAction::AnswerRequest {
            application_id: a.id.clone(),
            programme_id: a.programme_id.clone(),
            programme: a.programme_name.clone(),
            request: a.request.clone(),
        })
        .collect();

    for p in programmes {
        // Documents matter for an application under way, not for every programme there is.
        let applying = p.has_draft || p.applications.iter().any(|a| !a.status.is_final());
        if applying && !p.missing_documents.is_empty() {
            actions.push(PendingAction::SendDocuments {
                programme: p.name.clone(),
                kinds: p.missing_documents.clone(),
            });
        }
    }

    // What reviewers turned down, with their reason: a document to send again (the programme's
    // requirement counts as missing meanwhile), an account payments cannot go to.
    for d in super::documents::mine(partition, session)? {
        if d.verification_status == doorstep_domain::document::DocumentStatus::Rejected {
            actions.push(PendingAction::ReplaceDocument {
                document_id: d.meta.id.as_uuid().to_string(),
                document_kind: d.kind,
                reason: super::documents::rejection_reason(&d),
                file_name: d.file_name,
            });
        }
    }
    for a in finance::accounts(partition, session)? {
        if a.verification == doorstep_domain::finance::VerificationStatus::Failed {
            actions.push(PendingAction::FixAccount {
                account_id: a.id,
                account_number: a.account_number,
                reason: a.failure_reason,
            });
        }
    }

    if let Some(next) = next_check(partition, session, today)? {
        if next.due - Duration::days(LIVENESS_NOTICE_DAYS) <= today {
            actions.push(PendingAction::LivenessDue {
                due: next.due.to_string(),
                overdue: next.overdue,
            });
        }
    }

    for n in notices {
        let asks = matches!(
            n.kind,
            NotificationKind::DocumentRequested
                | NotificationKind::Deadline
                | NotificationKind::LivenessDue
        );
        let still_open = n.deadline.is_some_and(|d| d >= today);
        if asks && (!n.is_read() || still_open) {
            actions.push(PendingAction::Notice {
                notification_id: n.meta.id.as_uuid().to_string(),
                notification_kind: n.kind,
                title: n.title.clone(),
                deadline: n.deadline.map(|d| d.to_string()),
                overdue: n.is_overdue(today),
            });
        }
    }

    for p in programmes.iter().filter(|p| p.has_draft) {
        actions.push(PendingAction::FinishDraft {
            programme_id: p.id.clone(),
            programme: p.name.clone(),
        });
    }

    let missing = missing_parts(partition, session)?;
    if !missing.is_empty() {
        actions.push(PendingAction::CompleteRegistration { missing });
    }
    Ok(actions)
}

/// What a registered person has not recorded yet (nothing before they register).
fn missing_parts(
    partition: &Partition,
    session: Who<'_>,
) -> Result<Vec<RegistrationPart>, AppError> {
    let Some(me) = find_me(partition, session)? else {
        return Ok(Vec::new());
    };
    let mut missing = Vec::new();
    let contact = contact_of(partition, me.meta.id)?;
    if contact.and_then(|c| c.address).is_none() {
        missing.push(RegistrationPart::Address);
    }
    if current_memberships_of(partition, *me.meta.id.as_uuid())?.is_empty() {
        missing.push(RegistrationPart::Household);
    }
    if finance::accounts(partition, session)?.is_empty() {
        missing.push(RegistrationPart::PaymentAccount);
    }
    Ok(missing)
}

/// The date of the person's next liveness check ([`next_check`]).
pub(super) fn liveness_due(
    partition: &Partition,
    session: Who<'_>,
) -> Result<Option<Date>, AppError> {
    Ok(next_check(partition, session, today())?.map(|n| n.due))
}

/// The person's next liveness check: when it is due, and whether it is overdue on `today`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct NextCheck {
    due: Date,
    overdue: bool,
}

/// From the latest passed check that set a due day, overdue after the grace the registry gave
/// it (the day its reminder says "overdue" too); for someone no check of whom has passed, from
/// the registry's reminder of their first check ([`first_check`]).
fn next_check(
    partition: &Partition,
    session: Who<'_>,
    today: Date,
) -> Result<Option<NextCheck>, AppError> {
    let Some(me) = find_me(partition, session)? else {
        return Ok(None);
    };
    let mut checks: Vec<LivenessCheck> = live(partition, RecordKind::LivenessCheck)?;
    checks.retain(|c| c.individual_id == me.meta.id && c.next_due.is_some());
    if let Some(check) = checks.into_iter().max_by_key(|c| c.performed_at) {
        return Ok(check.next_due.map(|due| NextCheck {
            due,
            overdue: check.is_overdue(today),
        }));
    }
    let mut notices: Vec<Notification> = live(partition, RecordKind::Notification)?;
    notices.retain(|n| n.recipient_id == me.meta.id);
    Ok(first_check(*me.meta.id.as_uuid(), &notices))
}

/// A first check, as the registry's scheduler announced it: only the registry knows the
/// person's rule (its own interval, the programmes'), so the app does not work the day out but
/// reads it from the latest liveness reminder about the person themself (a check's reminder is
/// about the check). Overdue once the registry's "overdue" reminder for that day arrived: its
/// id is known ([`reminder_id`](doorstep_domain::notification::reminder_id)), so the app says
/// "overdue" from the reminder that says so, not from a grace it does not know.
fn first_check(me: Uuid, notices: &[Notification]) -> Option<NextCheck> {
    use doorstep_domain::notification::{reminder, reminder_id};
    let about_me: Vec<&Notification> = notices
        .iter()
        .filter(|n| {
            n.kind == NotificationKind::LivenessDue
                && *n.recipient_id.as_uuid() == me
                && n.related_record.is_some_and(|r| *r.as_uuid() == me)
                && !n.meta.is_deleted()
        })
        .collect();
    let due = about_me.iter().filter_map(|n| n.deadline).max()?;
    let overdue_id = reminder_id(reminder::LIVENESS_OVERDUE, me, None, due);
    Some(NextCheck {
        due,
        overdue: about_me.iter().any(|n| *n.meta.id.as_uuid() == overdue_id),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use doorstep_domain::notification::{reminder, reminder_id};
    use time::macros::date;

    fn notice(
        id: Uuid,
        me: Uuid,
        related: Uuid,
        kind: &str,
        deadline: Option<Date>,
    ) -> Notification {
        serde_json::from_value(serde_json::json!({
            "id": id, "created_at": "2026-01-01T08:00:00Z", "updated_at": "2026-01-01T08:00:00Z",
            "created_by": "system:registry", "recipient_id": me, "kind": kind,
            "title": "Liveness", "body": "Check.", "related_record": related,
            "deadline": deadline.map(doorstep_domain::date_format::format),
        }))
        .unwrap()
    }

    /// The first check's day and "overdue" come from the registry's reminders about the person
    /// themself: the latest day, overdue once the overdue reminder for that day is there.
    #[test]
    fn a_first_check_is_read_from_the_reminders_about_the_person() {
        let me = Uuid::now_v7();
        let check = Uuid::now_v7();
        let (may, june) = (date!(2027 - 05 - 01), date!(2027 - 06 - 01));
        let soon = |due| {
            notice(
                reminder_id(reminder::LIVENESS_DUE_SOON, me, None, due),
                me,
                me,
                "liveness_due",
                Some(due),
            )
        };
        let late = |due| {
            notice(
                reminder_id(reminder::LIVENESS_OVERDUE, me, None, due),
                me,
                me,
                "liveness_due",
                Some(due),
            )
        };
        let cases: Vec<(Vec<Notification>, Option<NextCheck>)> = vec![
            (vec![], None),
            // A check's reminder, another kind, another person's: not a first check of mine.
            (
                vec![
                    notice(Uuid::now_v7(), me, check, "liveness_due", Some(may)),
                    notice(Uuid::now_v7(), me, me, "deadline", Some(may)),
                    notice(
                        Uuid::now_v7(),
                        Uuid::now_v7(),
                        me,
                        "liveness_due",
                        Some(may),
                    ),
                ],
                None,
            ),
            (
                vec![soon(may)],
                Some(NextCheck {
                    due: may,
                    overdue: false,
                }),
            ),
            (
                vec![soon(may), late(may)],
                Some(NextCheck {
                    due: may,
                    overdue: true,
                }),
            ),
            (
                vec![late(may)],
                Some(NextCheck {
                    due: may,
                    overdue: true,
                }),
            ),
            // The rule changed and the registry moved the day: the latest counts, and the old
            // day's overdue reminder does not make the new one overdue.
            (
                vec![late(may), soon(june)],
                Some(NextCheck {
                    due: june,
                    overdue: false,
                }),
            ),
            // A notification with the overdue id's shape but staff-written for another day.
            (
                vec![notice(
                    reminder_id(reminder::LIVENESS_OVERDUE, me, None, may),
                    me,
                    me,
                    "liveness_due",
                    Some(june),
                )],
                Some(NextCheck {
                    due: june,
                    overdue: false,
                }),
            ),
        ];
        for (notices, expected) in cases {
            assert_eq!(first_check(me, &notices), expected, "{notices:?}");
        }
    }
}
