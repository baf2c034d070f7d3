//! App updates: when to look for one, when to install it, and what the window is told.
//!
//! The shell (`src-tauri/src/updates.rs`) does the fetching, signature check and install with
//! `tauri-plugin-updater`; everything it has to decide lives here, testable without a window:
//!
//! - **when to look**: at start and then daily ([`CHECK_EVERY`]);
//! - **what to do with an update**, by device mode ([`plan`]): a personal device asks, an agent's
//!   laptop offers it quietly and installs only when the agent says so (never mid-task), a kiosk
//!   installs by itself inside its maintenance window and only with no visitor signed in;
//! - **what went wrong**, in words a person can act on ([`UpdateProblem`]).

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime, Time};

use crate::app::DeviceMode;

/// How often a running app looks for an update after the look at start.
pub const CHECK_EVERY: std::time::Duration = std::time::Duration::from_secs(24 * 60 * 60);

/// A kiosk with no `kiosk.maintenance_window` installs updates in this one (local time).
pub const DEFAULT_KIOSK_WINDOW: (Time, Time) =
    (time::macros::time!(02:00), time::macros::time!(04:00));

/// While a visitor is signed in inside the window, a kiosk looks again this much later.
pub const KIOSK_RETRY: Duration = Duration::minutes(5);

/// What the window shows about updates (the Settings section and the prompt).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct UpdateStatus {
    /// The version running now.
    pub current: String,
    pub state: UpdateState,
    /// When the last look for an update ended (RFC 3339), if one has.
    pub checked_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum UpdateState {
    /// This device does not look for updates; `why` says what would change that.
    Off {
        why: UpdatesOff,
    },
    /// Not looked yet (the first look runs shortly after start).
    NotChecked,
    Checking,
    UpToDate,
    /// A newer version is published. `prompt`: ask the person now (personal devices); otherwise
    /// it is only listed in Settings (agents) or installed in the maintenance window (kiosks).
    Available {
        version: String,
        notes: Option<String>,
        prompt: bool,
    },
    Downloading {
        received: u64,
        total: Option<u64>,
    },
    /// Downloaded and its signature checked; the data is being closed and the package installed.
    Installing {
        version: String,
    },
    /// The update did not happen; the running version keeps working.
    Failed {
        problem: UpdateProblem,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum UpdatesOff {
    /// The build carries no update key (a developer build, or a ministry that updates devices
    /// another way).
    NoKey,
    /// The device configuration names no update address (`updates.url`).
    NoAddress,
    /// The address is plain http and this is a release build: updates only travel over https.
    InsecureAddress,
}

/// Why an update was refused or skipped. Each is worded for the person in the UI's catalogs
/// (`update.problem.<name>`); `detail` is the technical cause, for support.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase", tag = "reason")]
pub enum UpdateProblem {
    /// The update server could not be reached or answered with an error.
    Unreachable { detail: String },
    /// The server's answer is not an update manifest this app understands.
    BadManifest { detail: String },
    /// The download does not match the signature made with this app's update key: tampered
    /// with, cut short, or signed with another key. Nothing was installed.
    BadSignature { detail: String },
    /// The server offers a version that is not newer than the running one. Refused, so that an
    /// old release with known faults cannot be pushed back onto devices.
    NotNewer { offered: String },
    /// The package was right but installing it failed (no permission, package manager busy).
    InstallFailed { detail: String },
}

/// What to do with an available update on this device, now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// Personal device: ask the person (they may say later).
    Ask,
    /// Agent: list it in Settings; install only when the agent chooses to.
    Offer,
    /// Kiosk, inside its window, nobody signed in: install now.
    InstallNow,
    /// Kiosk: look again at this time (the window's next start, or a bit later while a visitor
    /// is signed in).
    WaitUntil(OffsetDateTime),
}

/// The policy. `now` is local time; `visitor_signed_in` is whether anyone's data is open.
pub fn plan(
    mode: DeviceMode,
    window: Option<(Time, Time)>,
    now: OffsetDateTime,
    visitor_signed_in: bool,
) -> Plan {
    match mode {
        DeviceMode::Personal => Plan::Ask,
        DeviceMode::Agent => Plan::Offer,
        DeviceMode::Kiosk => {
            let window = window.unwrap_or(DEFAULT_KIOSK_WINDOW);
            if !inside(window, now.time()) {
                Plan::WaitUntil(next_start(window, now))
            } else if visitor_signed_in {
                Plan::WaitUntil(now + KIOSK_RETRY)
            } else {
                Plan::InstallNow
            }
        }
    }
}

/// The local time now. Through chrono: `time` refuses to read the local offset in a process
/// with several threads, and the app has many.
pub fn local_now() -> OffsetDateTime {
    let offset = chrono::Local::now().offset().local_minus_utc();
    let offset = time::UtcOffset::from_whole_seconds(offset).unwrap_or(time::UtcOffset::UTC);
    OffsetDateTime::now_utc().to_offset(offset)
}

/// Whether `t` is in `[start, end)`; a window may run over midnight (23:00-01:30).
fn inside((start, end): (Time, Time), t: Time) -> bool {
    if start <= end {
        start <= t && t < end
    } else {
        t >= start || t < end
    }
}

/// The next time the window opens after `now`.
fn next_start((start, _): (Time, Time), now: OffsetDateTime) -> OffsetDateTime {
    let today = now.replace_time(start);
    if today > now {
        today
    } else {
        today + Duration::days(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{datetime, time};

    const NIGHT: (Time, Time) = (time!(23:00), time!(01:30));

    #[test]
    fn a_personal_device_asks_and_an_agent_is_only_offered() {
        let now = datetime!(2026-12-07 14:00 +1);
        assert_eq!(plan(DeviceMode::Personal, None, now, true), Plan::Ask);
        assert_eq!(plan(DeviceMode::Agent, None, now, true), Plan::Offer);
        assert_eq!(plan(DeviceMode::Agent, None, now, false), Plan::Offer);
    }

    /// (window, local time, visitor signed in) → what a kiosk does.
    #[test]
    fn a_kiosk_installs_only_inside_its_window_with_nobody_signed_in() {
        #[rustfmt::skip]
        let cases = [
            // Over midnight: before, in (both sides of midnight), at the end.
            (Some(NIGHT), datetime!(2026-12-07 22:59 +1), false, Plan::WaitUntil(datetime!(2026-12-07 23:00 +1))),
            (Some(NIGHT), datetime!(2026-12-07 23:00 +1), false, Plan::InstallNow),
            (Some(NIGHT), datetime!(2026-12-08 00:45 +1), false, Plan::InstallNow),
            (Some(NIGHT), datetime!(2026-12-08 01:30 +1), false, Plan::WaitUntil(datetime!(2026-12-08 23:00 +1))),
            // A visitor inside the window: wait for them.
            (Some(NIGHT), datetime!(2026-12-08 00:45 +1), true, Plan::WaitUntil(datetime!(2026-12-08 00:50 +1))),
            // No window configured: the default one, 02:00-04:00.
            (None, datetime!(2026-12-07 12:00 +0), false, Plan::WaitUntil(datetime!(2026-12-08 02:00 +0))),
            (None, datetime!(2026-12-07 01:00 +0), false, Plan::WaitUntil(datetime!(2026-12-07 02:00 +0))),
            (None, datetime!(2026-12-07 03:59 +0), false, Plan::InstallNow),
        ];
        for (window, now, visitor, expected) in cases {
            assert_eq!(
                plan(DeviceMode::Kiosk, window, now, visitor),
                expected,
                "{window:?} at {now} (visitor: {visitor})"
            );
        }
    }

    #[test]
    fn the_status_reaches_the_window_in_camel_case_with_its_kind() {
        let status = UpdateStatus {
            current: "0.1.0".into(),
            state: UpdateState::Failed {
                problem: UpdateProblem::NotNewer {
                    offered: "0.0.9".into(),
                },
            },
            checked_at: None,
        };
        let json = serde_json::to_value(&status).unwrap();
        assert_eq!(json["state"]["kind"], "failed");
        assert_eq!(json["state"]["problem"]["reason"], "notNewer");
        assert_eq!(json["checkedAt"], serde_json::Value::Null);
    }
}
