//! The alert timer of an open partition: checks at start, after each sync ([`AlertTimer::wake`])
//! and at the next reminder's time, and at least every minute (a monotonic sleep does not count
//! the time a laptop was suspended, the wall clock does). Stops when dropped, i.e. when the
//! partition closes (sign-out, lock, wipe).

use std::sync::Arc;
use std::time::Duration;

use chrono::TimeZone;
use time::{Date, OffsetDateTime, Time};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::{check, AlertSink, Clock};
use crate::vault::Partition;

/// The longest sleep between two looks at the clock.
const MAX_SLEEP: Duration = Duration::from_secs(60);

/// The running timer; dropping it stops it.
pub struct AlertTimer {
    wake: Arc<Notify>,
    task: JoinHandle<()>,
}

impl AlertTimer {
    /// Start checking `partition`, showing through whatever `sink()` returns at the time (the
    /// shell may set it after the data opened; `None`: nothing is shown and nothing marked).
    pub fn start(
        partition: Arc<Partition>,
        reminder_time: Time,
        sink: impl Fn() -> Option<Arc<dyn AlertSink>> + Send + Sync + 'static,
    ) -> AlertTimer {
        let wake = Arc::new(Notify::new());
        let woken = wake.clone();
        let task = tokio::spawn(async move {
            let clock = LocalClock { reminder_time };
            let mut next: Option<OffsetDateTime> = None;
            // Whether to look at the records (start, a wake, an earlier look that failed or
            // found no sink yet); otherwise only the clock is compared with the next reminder.
            let mut look = true;
            loop {
                if look || next.is_some_and(|n| OffsetDateTime::now_utc() >= n) {
                    if let Some(sink) = sink() {
                        let p = partition.clone();
                        let clock = clock.clone();
                        match tokio::task::spawn_blocking(move || check(&p, &clock)).await {
                            Ok(Ok((alerts, n))) => {
                                next = n;
                                look = false;
                                for alert in alerts {
                                    sink.show(alert);
                                }
                            }
                            Ok(Err(e)) => {
                                tracing::warn!(error = %e, "could not check for alerts")
                            }
                            Err(e) => tracing::warn!(error = %e, "the alert check failed"),
                        }
                    }
                }
                let sleep = next
                    .map(|n| (n - OffsetDateTime::now_utc()).max(time::Duration::ZERO))
                    .and_then(|d| Duration::try_from(d).ok())
                    .map_or(MAX_SLEEP, |d| d.min(MAX_SLEEP));
                tokio::select! {
                    _ = woken.notified() => look = true,
                    _ = tokio::time::sleep(sleep) => {}
                }
            }
        });
        AlertTimer { wake, task }
    }

    /// Look now (after a sync brought new records, or the person changed the switch).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// A handle for the sync forwarder to wake the timer with.
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }
}

impl Drop for AlertTimer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The device's clock and time zone.
#[derive(Debug, Clone)]
struct LocalClock {
    reminder_time: Time,
}

impl Clock for LocalClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    fn today(&self) -> Date {
        let today = chrono::Local::now().date_naive();
        to_date(today).unwrap_or_else(|| OffsetDateTime::now_utc().date())
    }

    fn fires_at(&self, day: Date) -> OffsetDateTime {
        local_instant(day, self.reminder_time)
    }
}

fn to_date(day: chrono::NaiveDate) -> Option<Date> {
    use chrono::Datelike;
    let month = time::Month::try_from(u8::try_from(day.month()).ok()?).ok()?;
    Date::from_calendar_date(day.year(), month, u8::try_from(day.day()).ok()?).ok()
}

/// `day` at `at` on this computer's clock, as an instant. A time the clock skips (a daylight
/// saving change) fires at the first instant after it.
fn local_instant(day: Date, at: Time) -> OffsetDateTime {
    let naive = chrono::NaiveDate::from_ymd_opt(
        day.year(),
        u32::from(u8::from(day.month())),
        u32::from(day.day()),
    )
    .and_then(|d| d.and_hms_opt(u32::from(at.hour()), u32::from(at.minute()), 0));
    let utc_fallback = day.with_time(at).assume_utc();
    let Some(naive) = naive else {
        return utc_fallback;
    };
    let local = match chrono::Local.from_local_datetime(&naive) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => Some(t),
        chrono::LocalResult::None => chrono::Local
            .from_local_datetime(&(naive + chrono::Duration::hours(1)))
            .earliest(),
    };
    local
        .and_then(|t| OffsetDateTime::from_unix_timestamp(t.timestamp()).ok())
        .unwrap_or(utc_fallback)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, time};

    #[test]
    fn a_reminder_day_fires_at_the_local_time_of_day() {
        // The test machine's zone is whatever it is: compare with chrono's own reading.
        let at = local_instant(date!(2027 - 03 - 10), time!(09:30));
        let back = chrono::Local
            .timestamp_opt(at.unix_timestamp(), 0)
            .single()
            .unwrap();
        assert_eq!(
            back.format("%Y-%m-%d %H:%M").to_string(),
            "2027-03-10 09:30"
        );
    }

    #[test]
    fn chrono_dates_become_time_dates() {
        assert_eq!(
            to_date(chrono::NaiveDate::from_ymd_opt(2027, 2, 28).unwrap()),
            Some(date!(2027 - 02 - 28))
        );
    }
}
