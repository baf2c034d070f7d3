//! Instants as text: RFC 3339 in UTC, the one form every record, log and wire message uses
//! (`2026-11-01T08:30:00Z`, with fractional seconds when there are any).
//!
//! This crate reads no clock: callers pass the instant (usually `OffsetDateTime::now_utc()`).

use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// `at` as RFC 3339 text in UTC.
pub fn format(at: OffsetDateTime) -> String {
    at.to_offset(UtcOffset::UTC)
        .format(&Rfc3339)
        // Only years before 0 fail to format; no clock and no RFC 3339 text produces them.
        .expect("an instant of year 0 to 9999 formats as RFC 3339")
}

/// Read RFC 3339 text (any offset) as an instant.
pub fn parse(text: &str) -> Result<OffsetDateTime, time::error::Parse> {
    OffsetDateTime::parse(text, &Rfc3339)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn instants_are_written_in_utc_and_read_back() {
        let at = datetime!(2026-11-01 11:30:00 +03:00);
        assert_eq!(format(at), "2026-11-01T08:30:00Z");
        assert_eq!(parse("2026-11-01T08:30:00Z").unwrap(), at);
        assert_eq!(
            format(datetime!(2026-11-01 08:30:00.25 UTC)),
            "2026-11-01T08:30:00.25Z"
        );
        assert!(parse("1 November 2026").is_err());
    }
}
