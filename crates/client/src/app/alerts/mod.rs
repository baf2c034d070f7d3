//! Desktop alerts (issue 18): a new message from the registry after a sync, a conflict to
//! resolve, and reminders of the dates the device knows (a liveness check due, a deadline, a
//! programme closing) that fire at their time with or without a network.
//!
//! - **What** to show is decided here, from the open partition ([`check`]); **how** it reaches
//!   the desktop is an [`AlertSink`] the shell sets (crate::desktop: the freedesktop
//!   notification service through notify-rust). Clicking one opens its [`Screen`].
//! - **Once.** Every alert has a key (a notification's id, a reminder's event and day), kept in
//!   the vault once shown, so a restart, a second sync or a new plan never shows it again.
//! - **Offline.** The timer ([`timer`]) runs while the person's data is open, wakes at the
//!   next reminder (and at least every minute, so a laptop that slept catches up) and after
//!   each sync; it needs nothing but the vault.
//! - **Never on a kiosk** (the next visitor would see the last one's messages), and never when
//!   the person turned them off in Settings: those are still marked seen, so turning alerts on
//!   later does not bring a flood of old ones.
//! - Nothing personal leaves the vault except the alert itself; nothing is logged of it.

pub mod plan;
pub mod texts;
pub mod timer;

use std::collections::VecDeque;
use std::sync::Arc;

use doorstep_domain::notification::{Notification, NotificationKind};
use doorstep_domain::programme::Programme;
use doorstep_domain::record::RecordKind;
use serde::{Deserialize, Serialize};
use time::{Date, Duration, OffsetDateTime};

use super::details::find_me;
use super::records::live;
use super::who::Who;
use super::{notifications, AppError, DeviceMode};
use crate::vault::Partition;
use plan::Facts;
use texts::{Lang, Text};

/// Where the vault keeps what was shown and the person's choice.
const STATE_KEY: &str = "device:alerts";
/// Keys remembered (the oldest are forgotten first; they are long past by then).
const MAX_KEPT: usize = 2000;
/// Unread notifications this recent are new enough to alert (an older one, pulled by a first
/// sync on a new computer, is news to nobody).
const NEW_DAYS: i64 = 3;
/// New messages shown one by one; more are summed up in one alert.
const MAX_SHOWN_AT_ONCE: usize = 3;

/// The screen an alert opens when clicked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum Screen {
    Home,
    Notifications,
    Conflicts,
    Programmes,
}

/// One desktop alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// Stable: what it is about (shown once per key).
    pub key: String,
    pub title: String,
    pub body: String,
    pub opens: Screen,
}

/// Shows alerts on the desktop. Set by the shell; tests collect them.
pub trait AlertSink: Send + Sync {
    fn show(&self, alert: Alert);
}

/// The Settings screen's switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AlertSettings {
    /// False on kiosks: there are none.
    pub available: bool,
    pub enabled: bool,
}

/// What the vault keeps (a draft: encrypted, per person, never synced).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Kept {
    #[serde(default = "yes")]
    enabled: bool,
    /// Keys shown (or passed over while turned off), oldest first.
    #[serde(default)]
    shown: VecDeque<String>,
    /// Conflicts waiting at the last check: an alert only when there are more.
    #[serde(default)]
    conflicts: u64,
}

fn yes() -> bool {
    true
}

impl Default for Kept {
    fn default() -> Self {
        Kept {
            enabled: true,
            shown: VecDeque::new(),
            conflicts: 0,
        }
    }
}

impl Kept {
    fn load(partition: &Partition) -> Result<Kept, AppError> {
        Ok(partition
            .draft(STATE_KEY)?
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default())
    }

    fn save(&self, partition: &Partition) -> Result<(), AppError> {
        let value = serde_json::to_value(self)
            .map_err(|e| super::refusal::refused("internal", e.to_string()))?;
        partition.save_draft(STATE_KEY, &value)?;
        Ok(())
    }

    fn has(&self, key: &str) -> bool {
        self.shown.iter().any(|k| k == key)
    }

    fn remember(&mut self, key: String) {
        self.shown.push_back(key);
        while self.shown.len() > MAX_KEPT {
            self.shown.pop_front();
        }
    }
}

/// The switch as it is for this person.
pub(super) fn settings(partition: &Partition, kiosk: bool) -> Result<AlertSettings, AppError> {
    Ok(AlertSettings {
        available: !kiosk,
        enabled: !kiosk && Kept::load(partition)?.enabled,
    })
}

/// Turn alerts on or off for this person on this device.
pub(super) fn set_enabled(partition: &Partition, enabled: bool) -> Result<(), AppError> {
    let mut kept = Kept::load(partition)?;
    kept.enabled = enabled;
    kept.save(partition)
}

/// The local clock as the check needs it: now, and the instant a reminder day fires at.
pub trait Clock {
    fn now(&self) -> OffsetDateTime;
    fn today(&self) -> Date;
    /// When reminders of `day` fire.
    fn fires_at(&self, day: Date) -> OffsetDateTime;
}

/// What to show now, and when to look again for the next reminder. Marks what it returns as
/// shown (and, while alerts are off, everything due as passed over).
pub(super) fn check(
    partition: &Partition,
    clock: &dyn Clock,
) -> Result<(Vec<Alert>, Option<OffsetDateTime>), AppError> {
    let mut kept = Kept::load(partition)?;
    let before = (kept.shown.len(), kept.shown.back().cloned(), kept.conflicts);
    let now = clock.now();
    let me = find_me(partition, Who::default()).ok().flatten();
    let lang = Lang::from_tag(me.as_ref().and_then(|m| m.preferred_language.as_deref()));
    let mut out = Vec::new();

    let mine: Vec<Notification> = match &me {
        Some(me) => {
            let mut all: Vec<Notification> = live(partition, RecordKind::Notification)?;
            all.retain(|n| n.recipient_id == me.meta.id);
            all
        }
        None => Vec::new(),
    };

    // New messages from the registry.
    let mut news: Vec<&Notification> = mine.iter().collect();
    news.retain(|n| {
        !n.is_read()
            && now - n.meta.created_at <= Duration::days(NEW_DAYS)
            && !kept.has(&n.meta.id.to_string())
    });
    news.sort_by_key(|n| n.meta.created_at);
    let extra = news.len().saturating_sub(MAX_SHOWN_AT_ONCE);
    for (i, n) in news.iter().enumerate() {
        let key = n.meta.id.to_string();
        if i >= extra {
            out.push(Alert {
                key: key.clone(),
                title: n.title.clone(),
                body: n.body.clone(),
                opens: Screen::Notifications,
            });
        }
        kept.remember(key);
    }
    if extra > 0 {
        out.push(worded(
            format!("more:{}", news[extra - 1].meta.id),
            &Text::MoreMessages { count: extra },
            lang,
            Screen::Notifications,
        ));
    }

    // Conflicts: only when more wait than at the last check.
    let conflicts = partition.conflicts()?.len() as u64;
    if conflicts > kept.conflicts {
        out.push(worded(
            format!("conflicts:{conflicts}:{now}"),
            &Text::Conflicts { count: conflicts },
            lang,
            Screen::Conflicts,
        ));
    }
    kept.conflicts = conflicts;

    // Reminders of the dates on the device.
    let facts = facts(partition, me.is_some(), &mine)?;
    let mut next = None;
    for reminder in plan::reminders(&facts, clock.today()) {
        if kept.has(&reminder.key) {
            continue;
        }
        let at = clock.fires_at(reminder.day);
        if at > now {
            next = Some(next.map_or(at, |n: OffsetDateTime| n.min(at)));
            continue;
        }
        let opens = match reminder.text {
            Text::LivenessSoon { .. } | Text::LivenessToday => Screen::Home,
            Text::ClosingSoon { .. } | Text::ClosingToday { .. } => Screen::Programmes,
            _ => Screen::Notifications,
        };
        out.push(worded(reminder.key.clone(), &reminder.text, lang, opens));
        kept.remember(reminder.key);
    }

    let enabled = kept.enabled;
    if (kept.shown.len(), kept.shown.back().cloned(), kept.conflicts) != before {
        kept.save(partition)?;
    }
    if !enabled {
        out.clear();
    }
    Ok((out, next))
}

fn worded(key: String, text: &Text, lang: Lang, opens: Screen) -> Alert {
    let (title, body) = texts::word(text, lang);
    Alert {
        key,
        title,
        body,
        opens,
    }
}

/// The dates reminders are made of, from the person's records (`mine`: their notifications).
fn facts(partition: &Partition, found: bool, mine: &[Notification]) -> Result<Facts, AppError> {
    if !found {
        return Ok(Facts::default());
    }
    let deadlines = mine
        .iter()
        // A liveness reminder from the registry is the liveness date itself, reminded below.
        .filter(|n| n.kind != NotificationKind::LivenessDue)
        .filter_map(|n| {
            n.deadline
                .map(|d| (*n.meta.id.as_uuid(), n.title.clone(), d))
        })
        .collect();
    // Answers typed for a programme that stops taking applications on a day.
    let mut closing = Vec::new();
    for (key, _, _) in partition.drafts_with_prefix(super::programmes::DRAFT_PREFIX)? {
        let Some(id) = key
            .strip_prefix(super::programmes::DRAFT_PREFIX)
            .and_then(|id| id.parse::<uuid::Uuid>().ok())
        else {
            continue;
        };
        if let Some(programme) = partition.get::<Programme>(id)? {
            if let Some(last) = programme.applications_close_on {
                closing.push((id, programme.name, last));
            }
        }
    }
    Ok(Facts {
        liveness_due: notifications::liveness_due(partition, Who::default())?,
        deadlines,
        closing,
    })
}

impl super::Doorstep {
    /// Where alerts go from now on (the shell's desktop notifier). Kiosks never show any.
    pub async fn set_alert_sink(&self, sink: Arc<dyn AlertSink>) {
        *self.alert_sink.lock().unwrap_or_else(|p| p.into_inner()) = Some(sink);
        self.wake_alerts().await;
    }

    /// Whether this person gets desktop alerts on this device.
    pub async fn alert_settings(&self) -> Result<AlertSettings, AppError> {
        let partition = self.open_partition().await?;
        let kiosk = self.config.mode == DeviceMode::Kiosk;
        super::blocking(move || settings(&partition, kiosk)).await
    }

    /// Turn desktop alerts on or off for this person (kiosks: refused, there are none).
    pub async fn set_alerts(&self, enabled: bool) -> Result<AlertSettings, AppError> {
        if self.config.mode == DeviceMode::Kiosk {
            return Err(super::refusal::refused(
                "alertsOnKiosk",
                "A kiosk shows no desktop alerts: the next visitor would see them.",
            ));
        }
        let partition = self.open_partition().await?;
        let p = partition.clone();
        super::blocking(move || set_enabled(&p, enabled)).await?;
        self.wake_alerts().await;
        super::blocking(move || settings(&partition, false)).await
    }

    async fn wake_alerts(&self) {
        if let super::Stage::Ready(open) = &*self.stage.lock().await {
            if let Some(alerts) = &open.alerts {
                alerts.wake();
            }
        }
    }
}

#[cfg(test)]
mod tests;
