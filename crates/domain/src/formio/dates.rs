//! The values Form.io stores for dates, and the limits a form sets on them.
//!
//! A `datetime` field stores ISO 8601 text with the citizen's offset, e.g.
//! `2024-05-01T00:00:00+03:00` (a date-only field at local midnight). The registry accepts that
//! shape — `YYYY-MM-DD`, optionally `THH:MM[:SS[.fff]]` and `Z` or `±HH:MM` — and refuses any
//! other text, where a browser's `new Date(text)` would also read "May 1, 2024" and the like
//! (the date picker never writes those).
//!
//! Form.io checks `datePicker.minDate`/`maxDate` in the browser's time zone. The registry does
//! not know that zone, so a date-only field is compared by the calendar date the citizen picked
//! (the value's own date, in its own offset), which is what the browser compares for a value it
//! wrote; a field with a time compares instants, reading a limit without an offset in the
//! value's offset.
//!
//! A `day` field stores `MM/DD/YYYY` (or `DD/MM/YYYY` with `dayFirst`), `00` for a part left
//! empty, checked as @formio/core's `validateDay` checks it.

use super::js;

/// A calendar date and, if given, a time and an offset (minutes east of UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime {
    pub year: i32,
    pub month: u32,
    pub day: u32,
    /// Milliseconds since midnight, if a time was given.
    pub time_ms: Option<u32>,
    pub offset_minutes: Option<i32>,
}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Days in `month` of `year`; months outside 1–12 count 31, as @formio/core's `validateDay`.
pub fn days_in_month(month: u32, year: i32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 31,
    }
}

/// Days from 1970-01-01 to this date (proleptic Gregorian).
fn days_from_epoch(year: i32, month: u32, day: u32) -> i64 {
    // Howard Hinnant's days_from_civil.
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl DateTime {
    /// Reads ISO 8601 text as the date picker writes it.
    pub fn parse(text: &str) -> Option<DateTime> {
        let b = text.as_bytes();
        let num = |from: usize, len: usize| -> Option<u32> {
            let part = text.get(from..from + len)?;
            part.bytes()
                .all(|c| c.is_ascii_digit())
                .then(|| part.parse().ok())
                .flatten()
        };
        if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let year = num(0, 4)? as i32;
        let month = num(5, 2)?;
        let day = num(8, 2)?;
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(month, year) {
            return None;
        }
        let mut parsed = DateTime {
            year,
            month,
            day,
            time_ms: None,
            offset_minutes: None,
        };
        if b.len() == 10 {
            return Some(parsed);
        }
        if b[10] != b'T' || b.len() < 16 || b[13] != b':' {
            return None;
        }
        let (hour, minute) = (num(11, 2)?, num(14, 2)?);
        let mut at = 16;
        let (mut second, mut millis) = (0, 0);
        if b.get(at) == Some(&b':') {
            second = num(at + 1, 2)?;
            at += 3;
            if b.get(at) == Some(&b'.') {
                let digits = b[at + 1..]
                    .iter()
                    .take_while(|c| c.is_ascii_digit())
                    .count();
                if digits == 0 || digits > 9 {
                    return None;
                }
                let fraction = &text[at + 1..at + 1 + digits];
                millis = format!("{fraction:0<3}")[..3].parse().ok()?;
                at += 1 + digits;
            }
        }
        if hour > 23 || minute > 59 || second > 59 {
            return None;
        }
        parsed.time_ms = Some(((hour * 60 + minute) * 60 + second) * 1000 + millis);
        match &text[at..] {
            "" => {}
            "Z" => parsed.offset_minutes = Some(0),
            zone => {
                let sign = match zone.as_bytes()[0] {
                    b'+' => 1,
                    b'-' => -1,
                    _ => return None,
                };
                let (h, m) = match zone.len() {
                    6 if zone.as_bytes()[3] == b':' => (num(at + 1, 2)?, num(at + 4, 2)?),
                    5 => (num(at + 1, 2)?, num(at + 3, 2)?),
                    _ => return None,
                };
                if h > 23 || m > 59 {
                    return None;
                }
                parsed.offset_minutes = Some(sign * (h * 60 + m) as i32);
            }
        }
        Some(parsed)
    }

    /// The calendar date as a day number, for date-only comparisons.
    pub fn day_number(&self) -> i64 {
        days_from_epoch(self.year, self.month, self.day)
    }

    /// The instant in milliseconds since the epoch; a time-less date is its midnight, and a
    /// missing offset is `default_offset`.
    pub fn instant_ms(&self, default_offset: i32) -> i64 {
        let local = self.day_number() * 86_400_000 + i64::from(self.time_ms.unwrap_or(0));
        local - i64::from(self.offset_minutes.unwrap_or(default_offset)) * 60_000
    }
}

/// A `day` field's value (`MM/DD/YYYY`, or `DD/MM/YYYY` when `day_first`) as
/// `validateDay` reads it: each part through `parseInt`; 0 is "left empty".
pub fn day_parts(value: &str, day_first: bool) -> Option<(f64, f64, f64)> {
    let parts: Vec<f64> = value.split('/').map(js::parse_int).collect();
    if parts.len() != 3 {
        return None;
    }
    let (day, month) = if day_first {
        (parts[0], parts[1])
    } else {
        (parts[1], parts[0])
    };
    Some((day, month, parts[2]))
}

/// @formio/core's `validateDay`: is this a possible day?
pub fn is_valid_day(value: &str, day_first: bool) -> bool {
    let Some((day, month, year)) = day_parts(value, day_first) else {
        return false;
    };
    if [day, month, year].iter().any(|n| n.is_nan()) {
        return false;
    }
    let max_day = days_in_month(month as u32, year as i32);
    (0.0..=f64::from(max_day)).contains(&day)
        && (0.0..=12.0).contains(&month)
        && (0.0..=9999.0).contains(&year)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picker_values_are_read() {
        let d = DateTime::parse("2024-05-01T00:00:00+03:00").unwrap();
        assert_eq!((d.year, d.month, d.day), (2024, 5, 1));
        assert_eq!(d.offset_minutes, Some(180));
        assert_eq!(
            d.instant_ms(0),
            DateTime::parse("2024-04-30T21:00:00Z")
                .unwrap()
                .instant_ms(0)
        );
        assert!(DateTime::parse("2024-05-01").unwrap().time_ms.is_none());
        assert!(DateTime::parse("2024-05-01T10:30").is_some());
        assert!(DateTime::parse("2024-05-01T10:30:15.5-0130").is_some());
        for bad in [
            "not a date",
            "2024-02-30",
            "2023-02-29",
            "2024-13-01",
            "2024-05-01T25:00",
            "2024-05-01 10:00",
            "May 1, 2024",
            "2024-5-1",
            "2024-05-01T10:00+3",
        ] {
            assert!(DateTime::parse(bad).is_none(), "{bad}");
        }
        assert!(DateTime::parse("2024-02-29").is_some());
        assert_eq!(DateTime::parse("1970-01-02").unwrap().day_number(), 1);
    }

    #[test]
    fn days_as_validate_day_reads_them() {
        assert!(is_valid_day("05/01/2024", false));
        assert!(is_valid_day("00/00/2024", false), "parts left empty");
        assert!(!is_valid_day("13/45/2024", false));
        assert!(!is_valid_day("02/30/2023", false));
        assert!(is_valid_day("30/04/2024", true));
        assert!(!is_valid_day("2024-05-01", false));
        assert!(!is_valid_day("a/b/c", false));
    }
}
