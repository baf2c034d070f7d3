//! Which reminders the device holds for a person, and on which days they fire. Pure: the caller
//! passes what the vault knows and today's date, so every rule is a table test.
//!
//! A reminder fires on a day, at the device's reminder time (timer.rs turns the day into an
//! instant in the local time zone). Its key names the event and the day, so a reminder fires
//! once however often the plan is made again, and a date moved by the registry (a new liveness
//! due date, a new deadline) makes a new reminder.

use time::{Date, Duration};
use uuid::Uuid;

use super::texts::Text;

/// Days before a liveness check is due that the first reminder fires (the second: on the day).
pub const LIVENESS_AHEAD_DAYS: i64 = 7;
/// Days before a notification's deadline that the first reminder fires (the second: on the day).
pub const DEADLINE_AHEAD_DAYS: i64 = 2;
/// Reminders of days further back than this are not fired late (the app was closed then; the
/// home screen still lists what is due).
pub const LATE_DAYS: i64 = 1;

/// What the vault knows that reminders are made of.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// The person's next liveness check.
    pub liveness_due: Option<Date>,
    /// Notifications that ask for something by a date: (id, title, deadline).
    pub deadlines: Vec<(Uuid, String, Date)>,
    /// Programmes the person has answers waiting in, that stop taking applications on a day:
    /// (programme id, name, last day).
    pub closing: Vec<(Uuid, String, Date)>,
}

/// One reminder to fire on `day`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reminder {
    /// Stable: the event and the day it fires (kept once fired).
    pub key: String,
    pub day: Date,
    pub text: Text,
}

/// The reminders of `facts` that fire today or later (or up to [`LATE_DAYS`] ago), earliest
/// first.
pub fn reminders(facts: &Facts, today: Date) -> Vec<Reminder> {
    let mut out = Vec::new();
    let mut add = |key: String, day: Option<Date>, text: Text| {
        if let Some(day) = day {
            if day >= today - Duration::days(LATE_DAYS) {
                out.push(Reminder {
                    key: format!("{key}@{day}"),
                    day,
                    text,
                });
            }
        }
    };
    if let Some(due) = facts.liveness_due {
        add(
            format!("liveness-soon:{due}"),
            due.checked_sub(Duration::days(LIVENESS_AHEAD_DAYS)),
            Text::LivenessSoon { due },
        );
        add(
            format!("liveness-today:{due}"),
            Some(due),
            Text::LivenessToday,
        );
    }
    for (id, title, deadline) in &facts.deadlines {
        add(
            format!("deadline-soon:{id}:{deadline}"),
            deadline.checked_sub(Duration::days(DEADLINE_AHEAD_DAYS)),
            Text::DeadlineSoon {
                title: title.clone(),
                deadline: *deadline,
            },
        );
        add(
            format!("deadline-today:{id}:{deadline}"),
            Some(*deadline),
            Text::DeadlineToday {
                title: title.clone(),
            },
        );
    }
    for (id, name, last) in &facts.closing {
        add(
            format!("closing-soon:{id}:{last}"),
            last.checked_sub(Duration::days(DEADLINE_AHEAD_DAYS)),
            Text::ClosingSoon {
                programme: name.clone(),
                last: *last,
            },
        );
        add(
            format!("closing-today:{id}:{last}"),
            Some(*last),
            Text::ClosingToday {
                programme: name.clone(),
            },
        );
    }
    out.sort_by(|a, b| a.day.cmp(&b.day).then_with(|| a.key.cmp(&b.key)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn keys(facts: &Facts, today: Date) -> Vec<(String, Date)> {
        reminders(facts, today)
            .into_iter()
            .map(|r| (r.key.split(':').next().unwrap().to_owned(), r.day))
            .collect()
    }

    #[test]
    fn a_liveness_check_is_reminded_a_week_ahead_and_on_the_day() {
        let facts = Facts {
            liveness_due: Some(date!(2027 - 03 - 10)),
            ..Facts::default()
        };
        // (today, the reminders still to come)
        let table = [
            (
                date!(2027 - 01 - 01),
                vec![
                    ("liveness-soon", date!(2027 - 03 - 03)),
                    ("liveness-today", date!(2027 - 03 - 10)),
                ],
            ),
            (
                date!(2027 - 03 - 04),
                vec![
                    ("liveness-soon", date!(2027 - 03 - 03)),
                    ("liveness-today", date!(2027 - 03 - 10)),
                ],
            ),
            (
                date!(2027 - 03 - 05),
                vec![("liveness-today", date!(2027 - 03 - 10))],
            ),
            (
                date!(2027 - 03 - 11),
                vec![("liveness-today", date!(2027 - 03 - 10))],
            ),
            (date!(2027 - 03 - 12), vec![]),
        ];
        for (today, want) in table {
            let want: Vec<(String, Date)> =
                want.into_iter().map(|(k, d)| (k.to_owned(), d)).collect();
            assert_eq!(keys(&facts, today), want, "today {today}");
        }
    }

    #[test]
    fn deadlines_and_closing_days_are_reminded_two_days_ahead_and_on_the_day_in_order() {
        let n = Uuid::now_v7();
        let p = Uuid::now_v7();
        let facts = Facts {
            liveness_due: None,
            deadlines: vec![(n, "Send your payslip".into(), date!(2027 - 02 - 20))],
            closing: vec![(p, "Cash transfer".into(), date!(2027 - 02 - 19))],
        };
        assert_eq!(
            keys(&facts, date!(2027 - 02 - 01)),
            vec![
                ("closing-soon".to_owned(), date!(2027 - 02 - 17)),
                ("deadline-soon".to_owned(), date!(2027 - 02 - 18)),
                ("closing-today".to_owned(), date!(2027 - 02 - 19)),
                ("deadline-today".to_owned(), date!(2027 - 02 - 20)),
            ]
        );
    }

    #[test]
    fn a_moved_date_is_a_new_reminder_and_the_same_date_the_same_one() {
        let at = |due| Facts {
            liveness_due: Some(due),
            ..Facts::default()
        };
        let today = date!(2027 - 01 - 01);
        let first = reminders(&at(date!(2027 - 05 - 01)), today);
        assert_eq!(first, reminders(&at(date!(2027 - 05 - 01)), today));
        let moved = reminders(&at(date!(2028 - 05 - 01)), today);
        assert!(first.iter().all(|r| moved.iter().all(|m| m.key != r.key)));
    }
}
