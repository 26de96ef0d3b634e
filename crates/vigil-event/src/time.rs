//! Reading timestamps in the shapes logs write them, always ending in UTC.

use std::fmt;

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use serde::{Serialize, Serializer};

use crate::error::{Error, Result};

/// Reads a timestamp written as ISO 8601 / RFC 3339 (`2019-03-19T23:34:25.8943413Z`,
/// `2023-09-28T12:10:12.175599+02:00`, `2021-04-12T09:10:11.123+0000`), with a space instead
/// of the `T`, or without an offset (`2020-10-18 07:50:06.220`), which is then read in `tz`.
///
/// ```
/// use jiff::tz::TimeZone;
/// let t = vigil_event::time::parse_timestamp("2020-10-18 07:50:06.220", &TimeZone::UTC).unwrap();
/// assert_eq!(t.to_string(), "2020-10-18T07:50:06.22Z");
/// ```
pub fn parse_timestamp(text: &str, tz: &TimeZone) -> Result<Timestamp> {
    let text = text.trim();
    if let Ok(t) = text.parse::<Timestamp>() {
        return Ok(t);
    }
    if let Ok(dt) = text.parse::<DateTime>() {
        return dt
            .to_zoned(tz.clone())
            .map(|z| z.timestamp())
            .map_err(|e| Error::timestamp(text, e.to_string()));
    }
    // `+0000` and `-0530` offsets without a colon.
    if let Some(fixed) = with_offset_colon(text)
        && let Ok(t) = fixed.parse::<Timestamp>()
    {
        return Ok(t);
    }
    Err(Error::timestamp(text, "not an ISO 8601 date and time"))
}

/// Inserts the colon into a trailing `+HHMM` offset, which RFC 3339 requires.
fn with_offset_colon(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let n = bytes.len();
    if n < 6 {
        return None;
    }
    let sign = bytes[n - 5];
    if (sign == b'+' || sign == b'-') && bytes[n - 4..].iter().all(u8::is_ascii_digit) {
        Some(format!("{}:{}", &text[..n - 2], &text[n - 2..]))
    } else {
        None
    }
}

/// Reads seconds since the Unix epoch; values from 1e11 are taken as milliseconds, from
/// 1e14 as microseconds and from 1e17 as nanoseconds, the units exports commonly use.
pub fn from_epoch(value: f64) -> Result<Timestamp> {
    if !value.is_finite() {
        return Err(Error::timestamp(value.to_string(), "not a finite number"));
    }
    let seconds = if value.abs() >= 1e17 {
        value / 1e9
    } else if value.abs() >= 1e14 {
        value / 1e6
    } else if value.abs() >= 1e11 {
        value / 1e3
    } else {
        value
    };
    let whole = seconds.floor();
    let nanos = ((seconds - whole) * 1e9).round() as i32;
    Timestamp::new(whole as i64, nanos.min(999_999_999))
        .map_err(|e| Error::timestamp(value.to_string(), e.to_string()))
}

/// Reads a whole number of seconds, milliseconds, microseconds or nanoseconds since the
/// epoch (told apart as [`from_epoch`] does), exactly: no float rounding.
///
/// ```
/// let t = vigil_event::time::from_epoch_int(1557513467369913239).unwrap();
/// assert_eq!(t.to_string(), "2019-05-10T18:37:47.369913239Z");
/// ```
pub fn from_epoch_int(value: i64) -> Result<Timestamp> {
    let magnitude = value.unsigned_abs();
    let (per_second, nanos_per_unit) = if magnitude >= 100_000_000_000_000_000 {
        (1_000_000_000, 1)
    } else if magnitude >= 100_000_000_000_000 {
        (1_000_000, 1_000)
    } else if magnitude >= 100_000_000_000 {
        (1_000, 1_000_000)
    } else {
        (1, 0)
    };
    let seconds = value.div_euclid(per_second);
    let nanos = (value.rem_euclid(per_second) * nanos_per_unit) as i32;
    Timestamp::new(seconds, nanos).map_err(|e| Error::timestamp(value.to_string(), e.to_string()))
}

/// A timestamp that displays and serializes as RFC 3339 in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rfc3339(pub Timestamp);

impl fmt::Display for Rfc3339 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl Serialize for Rfc3339 {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> String {
        parse_timestamp(text, &TimeZone::UTC).unwrap().to_string()
    }

    #[test]
    fn reads_the_shapes_logs_use() {
        assert_eq!(
            utc("2019-03-19T23:34:25.8943413Z"),
            "2019-03-19T23:34:25.8943413Z"
        );
        assert_eq!(
            utc("2023-09-28T12:10:12.175599+02:00"),
            "2023-09-28T10:10:12.175599Z"
        );
        assert_eq!(
            utc("2021-04-12T09:10:11.123+0000"),
            "2021-04-12T09:10:11.123Z"
        );
        assert_eq!(utc("2020-10-18 07:50:06.220"), "2020-10-18T07:50:06.22Z");
        assert_eq!(utc("2022-05-11T18:10:21Z"), "2022-05-11T18:10:21Z");
        assert_eq!(utc(" 2022-05-11T18:10:21 "), "2022-05-11T18:10:21Z");
    }

    #[test]
    fn naive_times_are_read_in_the_given_zone() {
        let tz = TimeZone::fixed(jiff::tz::offset(2));
        let t = parse_timestamp("2020-10-18 07:50:06", &tz).unwrap();
        assert_eq!(t.to_string(), "2020-10-18T05:50:06Z");
    }

    #[test]
    fn rejects_what_is_not_a_time_with_the_text_in_the_message() {
        let err = parse_timestamp("yesterday", &TimeZone::UTC).unwrap_err();
        assert!(err.to_string().contains("yesterday"), "{err}");
    }

    #[test]
    fn epoch_units_are_guessed_from_magnitude() {
        assert_eq!(
            from_epoch(1_600_000_000.5).unwrap().to_string(),
            "2020-09-13T12:26:40.5Z"
        );
        assert_eq!(
            from_epoch(1_600_000_000_500.0).unwrap().to_string(),
            "2020-09-13T12:26:40.5Z"
        );
        assert!(from_epoch(f64::NAN).is_err());
    }

    #[test]
    fn whole_epochs_are_exact_in_every_unit() {
        let t = |n: i64| from_epoch_int(n).unwrap().to_string();
        assert_eq!(t(1_600_000_000), "2020-09-13T12:26:40Z");
        assert_eq!(t(1_600_000_000_500), "2020-09-13T12:26:40.5Z");
        assert_eq!(t(1_600_000_000_000_250), "2020-09-13T12:26:40.00025Z");
        assert_eq!(t(-1), "1969-12-31T23:59:59Z");
        assert_eq!(t(i64::MAX), "2262-04-11T23:47:16.854775807Z");
        assert_eq!(t(i64::MIN), "1677-09-21T00:12:43.145224192Z");
    }
}
