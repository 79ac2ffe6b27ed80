//! Times as WeChat Pay writes them: RFC 3339 (`2015-05-20T13:29:35+08:00`, with optional
//! fraction, or `Z`) in records, and compact `yyyyMMddHHmmss` (Beijing time) in callbacks.
//!
//! The exact string is always kept; parsing is offered on top and never rewrites it.

use core::fmt;

use heapless::String;

/// Capacity of a time string (PROTOCOL.md §3: string(64)).
pub const TIME_CAPACITY: usize = 64;

/// A time field exactly as received, with [`Timestamp::parse`] for the parsed form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Timestamp(String<TIME_CAPACITY>);

impl Timestamp {
    /// An empty placeholder, never handed out (declared models parse into it).
    pub(crate) fn placeholder() -> Self {
        Timestamp(String::new())
    }

    /// Wraps a received string; it is checked to be valid RFC 3339 so the parsed form always
    /// exists. Returns `None` if it is not.
    pub fn new(text: String<TIME_CAPACITY>) -> Option<Self> {
        DateTime::parse_rfc3339(&text).map(|_| Timestamp(text))
    }

    /// The string exactly as received.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The parsed date, time and offset.
    pub fn parse(&self) -> DateTime {
        // `new` admitted only strings that parse; the fallback is never taken.
        DateTime::parse_rfc3339(&self.0).unwrap_or(DateTime::UNIX_EPOCH)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A calendar date and wall-clock time with its UTC offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DateTime {
    /// Year, 0000–9999.
    pub year: u16,
    /// Month, 1–12.
    pub month: u8,
    /// Day of the month, 1–31 (checked against the month and leap years).
    pub day: u8,
    /// Hour, 0–23.
    pub hour: u8,
    /// Minute, 0–59.
    pub minute: u8,
    /// Second, 0–60 (60 only for a leap second).
    pub second: u8,
    /// Fraction of the second in nanoseconds (up to 9 digits are kept).
    pub nanosecond: u32,
    /// Offset from UTC in minutes: `+08:00` is 480, `Z` is 0.
    pub offset_minutes: i16,
}

/// Beijing time, the zone of compact callback times.
pub const BEIJING_OFFSET_MINUTES: i16 = 8 * 60;

impl DateTime {
    const UNIX_EPOCH: DateTime = DateTime {
        year: 1970,
        month: 1,
        day: 1,
        hour: 0,
        minute: 0,
        second: 0,
        nanosecond: 0,
        offset_minutes: 0,
    };

    /// Parses RFC 3339 (`YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`). `t`/`z` are accepted too.
    pub fn parse_rfc3339(text: &str) -> Option<DateTime> {
        let b = text.as_bytes();
        let (date, rest) = b.split_at_checked(10)?;
        let (sep, rest) = rest.split_first()?;
        let (clock, mut rest) = rest.split_at_checked(8)?;
        if !matches!(date, [_, _, _, _, b'-', _, _, b'-', _, _])
            || !matches!(sep, b'T' | b't')
            || !matches!(clock, [_, _, b':', _, _, b':', _, _])
        {
            return None;
        }
        let mut nanosecond = 0u32;
        if let Some((b'.', frac)) = rest.split_first() {
            let digits = frac.iter().take_while(|b| b.is_ascii_digit()).count();
            if digits == 0 {
                return None;
            }
            let (frac_digits, tail) = frac.split_at_checked(digits)?;
            for (i, d) in frac_digits.iter().enumerate() {
                if i < 9 {
                    nanosecond = nanosecond * 10 + u32::from(d - b'0');
                }
            }
            for _ in digits..9 {
                nanosecond *= 10;
            }
            rest = tail;
        }
        let offset_minutes = match rest {
            [b'Z' | b'z'] => 0,
            [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
                let hours = digits2(*h1, *h2)?;
                let minutes = digits2(*m1, *m2)?;
                if hours > 23 || minutes > 59 {
                    return None;
                }
                let total = i16::from(hours) * 60 + i16::from(minutes);
                if *sign == b'-' { -total } else { total }
            }
            _ => return None,
        };
        let dt = DateTime {
            year: number(date.get(0..4)?)?,
            month: u8::try_from(number(date.get(5..7)?)?).ok()?,
            day: u8::try_from(number(date.get(8..10)?)?).ok()?,
            hour: u8::try_from(number(clock.get(0..2)?)?).ok()?,
            minute: u8::try_from(number(clock.get(3..5)?)?).ok()?,
            second: u8::try_from(number(clock.get(6..8)?)?).ok()?,
            nanosecond,
            offset_minutes,
        };
        dt.is_valid().then_some(dt)
    }

    /// Parses the compact `yyyyMMddHHmmss` form of callbacks, in Beijing time (+08:00).
    pub fn parse_compact_beijing(text: &str) -> Option<DateTime> {
        let b = text.as_bytes();
        if b.len() != 14 {
            return None;
        }
        let dt = DateTime {
            year: number(b.get(0..4)?)?,
            month: u8::try_from(number(b.get(4..6)?)?).ok()?,
            day: u8::try_from(number(b.get(6..8)?)?).ok()?,
            hour: u8::try_from(number(b.get(8..10)?)?).ok()?,
            minute: u8::try_from(number(b.get(10..12)?)?).ok()?,
            second: u8::try_from(number(b.get(12..14)?)?).ok()?,
            nanosecond: 0,
            offset_minutes: BEIJING_OFFSET_MINUTES,
        };
        dt.is_valid().then_some(dt)
    }

    fn is_valid(&self) -> bool {
        (1..=12).contains(&self.month)
            && self.day >= 1
            && self.day <= days_in_month(self.year, self.month)
            && self.hour < 24
            && self.minute < 60
            && self.second <= 60
    }

    /// Seconds since 1970-01-01T00:00:00Z (a leap second counts as the next second's start).
    pub fn unix_seconds(&self) -> i64 {
        let days = days_from_civil(
            i64::from(self.year),
            i64::from(self.month),
            i64::from(self.day),
        );
        days * 86_400
            + i64::from(self.hour) * 3_600
            + i64::from(self.minute) * 60
            + i64::from(self.second)
            - i64::from(self.offset_minutes) * 60
    }
}

impl DateTime {
    /// The date and time of `unix_seconds` at a UTC offset (e.g. [`BEIJING_OFFSET_MINUTES`]).
    /// Years outside 0000–9999 are clamped to the range's ends.
    pub fn from_unix_seconds(unix_seconds: i64, offset_minutes: i16) -> DateTime {
        let local = unix_seconds.saturating_add(i64::from(offset_minutes) * 60);
        let days = local.div_euclid(86_400);
        let secs = local.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        let (year, month, day) = match year {
            y if y < 0 => (0, 1, 1),
            y if y > 9999 => (9999, 12, 31),
            y => (y, month, day),
        };
        // Each value below is within its field's range by construction.
        DateTime {
            year: u16::try_from(year).unwrap_or(0),
            month: u8::try_from(month).unwrap_or(1),
            day: u8::try_from(day).unwrap_or(1),
            hour: u8::try_from(secs / 3_600).unwrap_or(0),
            minute: u8::try_from(secs % 3_600 / 60).unwrap_or(0),
            second: u8::try_from(secs % 60).unwrap_or(0),
            nanosecond: 0,
            offset_minutes,
        }
    }
}

/// RFC 3339 with the offset as `±HH:MM` (or `Z` at zero), and milliseconds when non-zero.
impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )?;
        if self.nanosecond != 0 {
            write!(f, ".{:03}", self.nanosecond / 1_000_000)?;
        }
        if self.offset_minutes == 0 {
            return f.write_str("Z");
        }
        let sign = if self.offset_minutes < 0 { '-' } else { '+' };
        let abs = self.offset_minutes.unsigned_abs();
        write!(f, "{sign}{:02}:{:02}", abs / 60, abs % 60)
    }
}

/// Year, month, day of a count of days since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn digits2(a: u8, b: u8) -> Option<u8> {
    if a.is_ascii_digit() && b.is_ascii_digit() {
        Some((a - b'0') * 10 + (b - b'0'))
    } else {
        None
    }
}

fn number(digits: &[u8]) -> Option<u16> {
    digits.iter().try_fold(0u16, |acc, d| {
        d.is_ascii_digit().then(|| acc * 10 + u16::from(d - b'0'))
    })
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use heapless::String;
    use std::prelude::rust_2024::*;

    #[test]
    fn rfc3339_table() {
        #[rustfmt::skip]
        let cases: &[(&str, Option<(i64, u32, i16)>)] = &[
            ("2015-05-20T13:29:35+08:00",      Some((1_432_099_775, 0, 480))),
            ("2015-05-20T13:29:35.120+08:00",  Some((1_432_099_775, 120_000_000, 480))),
            ("2015-05-20T05:29:35Z",           Some((1_432_099_775, 0, 0))),
            ("2015-05-20T05:29:35.5z",         Some((1_432_099_775, 500_000_000, 0))),
            ("2015-05-19T23:59:35-05:30",      Some((1_432_099_775, 0, -330))),
            ("1970-01-01T00:00:00Z",           Some((0, 0, 0))),
            ("2024-02-29T00:00:00Z",           Some((1_709_164_800, 0, 0))),
            ("2015-05-20T13:29:35.1234567891+08:00", Some((1_432_099_775, 123_456_789, 480))),
            ("2023-02-29T00:00:00Z",           None),
            ("2015-13-20T13:29:35+08:00",      None),
            ("2015-05-20 13:29:35+08:00",      None),
            ("2015-05-20T13:29:35",            None),
            ("2015-05-20T13:29:35.+08:00",     None),
            ("2015-05-20T24:00:00Z",           None),
            ("2015-05-20T13:29:35+24:00",      None),
            ("2015-05-20T13:29:35+0800",       None),
            ("",                               None),
            ("２015-05-20T13:29:35Z",          None),
        ];
        for (text, want) in cases {
            let got = DateTime::parse_rfc3339(text)
                .map(|d| (d.unix_seconds(), d.nanosecond, d.offset_minutes));
            assert_eq!(got, *want, "{text}");
        }
    }

    #[test]
    fn format_round_trips() {
        for (secs, offset, text) in [
            (1_432_099_775, 480, "2015-05-20T13:29:35+08:00"),
            (1_432_099_775, 0, "2015-05-20T05:29:35Z"),
            (1_432_099_775, -330, "2015-05-19T23:59:35-05:30"),
            (0, 0, "1970-01-01T00:00:00Z"),
            (1_709_164_800, 0, "2024-02-29T00:00:00Z"),
            (-86_400, 0, "1969-12-31T00:00:00Z"),
        ] {
            let dt = DateTime::from_unix_seconds(secs, offset);
            assert_eq!(dt.to_string(), text);
            assert_eq!(
                DateTime::parse_rfc3339(text).map(|d| d.unix_seconds()),
                Some(secs)
            );
        }
        assert_eq!(DateTime::from_unix_seconds(i64::MAX, 0).year, 9999);
        assert_eq!(DateTime::from_unix_seconds(i64::MIN, 0).year, 0);
    }

    #[test]
    fn compact_beijing() {
        let dt = DateTime::parse_compact_beijing("20190730163659").map(|d| d.unix_seconds());
        assert_eq!(
            dt,
            DateTime::parse_rfc3339("2019-07-30T16:36:59+08:00").map(|d| d.unix_seconds())
        );
        assert_eq!(DateTime::parse_compact_beijing("2019073016365"), None);
        assert_eq!(DateTime::parse_compact_beijing("20190732163659"), None);
    }

    #[test]
    fn timestamp_keeps_exact_text() {
        let text: String<TIME_CAPACITY> =
            String::try_from("2015-05-20T13:29:35.120+08:00").unwrap_or_default();
        let ts = Timestamp::new(text);
        assert_eq!(
            ts.as_ref().map(|t| t.as_str()),
            Some("2015-05-20T13:29:35.120+08:00")
        );
        assert_eq!(ts.map(|t| t.parse().nanosecond), Some(120_000_000));
    }
}
