//! [`Timestamp`]: a UTC instant in microseconds since the Unix epoch, with RFC 3339 text form.
//!
//! Core has no clock: timestamps are given to it (the engine takes one per commit). The calendar
//! arithmetic is Howard Hinnant's `days_from_civil` / `civil_from_days`, exact over the whole
//! `i64` microsecond range that maps to years 0000..=9999; RFC 3339 text is only produced and
//! accepted inside that range.

use std::fmt;
use std::str::FromStr;

const MICROS_PER_SEC: i64 = 1_000_000;
const SECS_PER_DAY: i64 = 86_400;

/// A UTC instant with microsecond precision.
///
/// ```
/// use tabula_core::Timestamp;
/// let t: Timestamp = "2026-01-22T20:31:17.592172Z".parse().unwrap();
/// assert_eq!(t.to_string(), "2026-01-22T20:31:17.592172Z");
/// assert_eq!(Timestamp::from_micros(0).to_string(), "1970-01-01T00:00:00Z");
/// ```
///
/// Serde writes RFC 3339 text in human-readable formats and microseconds otherwise; inside a
/// [`Value`](super::Value) it is a `$ts` escape (see the value's serde docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The Unix epoch, 1970-01-01T00:00:00Z.
    pub const EPOCH: Timestamp = Timestamp(0);

    /// The instant `micros` microseconds after (or before, if negative) the epoch.
    #[must_use]
    pub const fn from_micros(micros: i64) -> Self {
        Timestamp(micros)
    }

    /// Microseconds since the epoch.
    #[must_use]
    pub const fn as_micros(self) -> i64 {
        self.0
    }

    /// The `SystemTime` of this instant, or `None` where the platform's `SystemTime` cannot
    /// reach it.
    #[must_use]
    pub fn to_system_time(self) -> Option<std::time::SystemTime> {
        let micros = std::time::Duration::from_micros(self.0.unsigned_abs());
        if self.0 >= 0 {
            std::time::UNIX_EPOCH.checked_add(micros)
        } else {
            std::time::UNIX_EPOCH.checked_sub(micros)
        }
    }

    /// Builds a timestamp from calendar fields (UTC). `None` if a field is out of range.
    #[must_use]
    pub fn from_parts(date: (i64, u32, u32), time: (u32, u32, u32), micros: u32) -> Option<Self> {
        let (y, m, d) = date;
        let (hh, mm, ss) = time;
        if !(0..=9999).contains(&y)
            || !(1..=12).contains(&m)
            || d < 1
            || d > days_in_month(y, m)
            || hh > 23
            || mm > 59
            || ss > 59
            || micros >= 1_000_000
        {
            return None;
        }
        let days = days_from_civil(y, m, d);
        let secs = days * SECS_PER_DAY + i64::from(hh) * 3600 + i64::from(mm) * 60 + i64::from(ss);
        Some(Timestamp(secs * MICROS_PER_SEC + i64::from(micros)))
    }
}

/// How the `time` crate's date-times serialize in non-human-readable formats (its default in
/// tabula's rows): `OffsetDateTime` as `(year, ordinal, hour, minute, second, nanosecond,
/// offset hours, offset minutes, offset seconds)`, `PrimitiveDateTime` as the first six (read
/// here as UTC). The typed layer stores them as timestamps and hands them back in this form.
impl Timestamp {
    /// The instant a `time` date-time tuple names (9 fields with an offset, 6 without); `None`
    /// for another length or a field out of range. Nanoseconds are truncated to microseconds.
    #[must_use]
    pub fn from_time_tuple(fields: &[i64]) -> Option<Timestamp> {
        let (date_time, offset) = match fields {
            [y, o, h, m, s, n, oh, om, os] => {
                // time's offsets: every part of one sign, hours below 26, minutes and seconds
                // below 60. Checked before the arithmetic, which must not overflow.
                let same_sign =
                    [oh, om, os].iter().all(|p| **p >= 0) || [oh, om, os].iter().all(|p| **p <= 0);
                if !same_sign
                    || oh.unsigned_abs() > 25
                    || om.unsigned_abs() > 59
                    || os.unsigned_abs() > 59
                {
                    return None;
                }
                ([*y, *o, *h, *m, *s, *n], oh * 3600 + om * 60 + os)
            }
            [y, o, h, m, s, n] => ([*y, *o, *h, *m, *s, *n], 0),
            _ => return None,
        };
        let [year, ordinal, hour, minute, second, nanos] = date_time;
        let days_in_year = if is_leap(year) { 366 } else { 365 };
        if !(0..=9999).contains(&year)
            || !(1..=days_in_year).contains(&ordinal)
            || !(0..24).contains(&hour)
            || !(0..60).contains(&minute)
            || !(0..60).contains(&second)
            || !(0..1_000_000_000).contains(&nanos)
            || offset.abs() >= SECS_PER_DAY
        {
            return None;
        }
        let days = days_from_civil(year, 1, 1) + ordinal - 1;
        let secs = days * SECS_PER_DAY + hour * 3600 + minute * 60 + second - offset;
        Some(Timestamp(secs * MICROS_PER_SEC + nanos / 1000))
    }

    /// This instant as a `time` date-time tuple of `len` fields (9: UTC offset zero, 6: no
    /// offset); `None` for another length or outside years 0000..=9999.
    #[must_use]
    pub fn to_time_tuple(self, len: usize) -> Option<Vec<i64>> {
        let secs = self.0.div_euclid(MICROS_PER_SEC);
        let nanos = self.0.rem_euclid(MICROS_PER_SEC) * 1000;
        let days = secs.div_euclid(SECS_PER_DAY);
        let sod = secs.rem_euclid(SECS_PER_DAY);
        let (year, _, _) = civil_from_days(days);
        if !(0..=9999).contains(&year) {
            return None;
        }
        let ordinal = days - days_from_civil(year, 1, 1) + 1;
        let mut fields = vec![year, ordinal, sod / 3600, sod / 60 % 60, sod % 60, nanos];
        match len {
            6 => {}
            9 => fields.extend([0, 0, 0]),
            _ => return None,
        }
        Some(fields)
    }
}

impl Timestamp {
    /// Now, by the system clock. For callers stamping their records: core itself never calls
    /// it (applying ops is deterministic; a commit's time is taken by the engine's clock and
    /// carried in the transaction).
    #[must_use]
    pub fn now() -> Timestamp {
        Timestamp::from(std::time::SystemTime::now())
    }
}

/// The instant a `SystemTime` names, to the microsecond (saturating past ±292,000 years).
impl From<std::time::SystemTime> for Timestamp {
    fn from(time: std::time::SystemTime) -> Self {
        let micros = |d: std::time::Duration| i64::try_from(d.as_micros()).unwrap_or(i64::MAX);
        match time.duration_since(std::time::UNIX_EPOCH) {
            Ok(after) => Timestamp(micros(after)),
            Err(before) => Timestamp(micros(before.duration()).saturating_neg()),
        }
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    #[expect(
        clippy::cast_possible_truncation,
        reason = "day in 1..=31, month in 1..=12"
    )]
    (y, m as u32, d as u32)
}

/// RFC 3339 in UTC (`Z`), with the fraction only when it is non-zero. Instants outside years
/// 0000..=9999 are written as `@<micros>` so that every timestamp has a text form.
impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.div_euclid(MICROS_PER_SEC);
        let micros = self.0.rem_euclid(MICROS_PER_SEC);
        let days = secs.div_euclid(SECS_PER_DAY);
        let sod = secs.rem_euclid(SECS_PER_DAY);
        let (y, m, d) = civil_from_days(days);
        if !(0..=9999).contains(&y) {
            return write!(f, "@{}", self.0);
        }
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
            sod / 3600,
            sod / 60 % 60,
            sod % 60
        )?;
        if micros != 0 {
            write!(f, ".{micros:06}")?;
        }
        f.write_str("Z")
    }
}

/// The reason a text is not a timestamp.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid timestamp {text:?}: {reason}")]
pub struct ParseTimestampError {
    text: String,
    reason: &'static str,
}

/// Parses RFC 3339 (`2026-01-22T20:31:17.5+02:00`, `Z` or an offset; `T`, `t` or a space between
/// date and time; up to 9 fraction digits, truncated to microseconds) and the `@<micros>` form.
impl FromStr for Timestamp {
    type Err = ParseTimestampError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let err = |reason| ParseTimestampError {
            text: text.chars().take(64).collect(),
            reason,
        };
        if let Some(rest) = text.strip_prefix('@') {
            return rest
                .parse()
                .map(Timestamp)
                .map_err(|_| err("expected microseconds after '@'"));
        }
        let b = text.as_bytes();
        let num = |from: usize, len: usize| -> Result<u32, ParseTimestampError> {
            let digits = b.get(from..from + len).ok_or_else(|| err("too short"))?;
            digits.iter().try_fold(0u32, |acc, &c| {
                if c.is_ascii_digit() {
                    Ok(acc * 10 + u32::from(c - b'0'))
                } else {
                    Err(err("expected a digit"))
                }
            })
        };
        let expect = |at: usize, allowed: &[u8]| -> Result<(), ParseTimestampError> {
            match b.get(at) {
                Some(c) if allowed.contains(c) => Ok(()),
                _ => Err(err("unexpected separator")),
            }
        };
        let year = num(0, 4)?;
        expect(4, b"-")?;
        let month = num(5, 2)?;
        expect(7, b"-")?;
        let day = num(8, 2)?;
        expect(10, b"Tt ")?;
        let hour = num(11, 2)?;
        expect(13, b":")?;
        let minute = num(14, 2)?;
        expect(16, b":")?;
        let second = num(17, 2)?;
        let mut at = 19;
        let mut micros = 0u32;
        if b.get(at) == Some(&b'.') {
            at += 1;
            let start = at;
            while b.get(at).is_some_and(u8::is_ascii_digit) {
                if at - start < 6 {
                    micros = micros * 10 + u32::from(b.get(at).copied().unwrap_or(b'0') - b'0');
                }
                at += 1;
            }
            let digits = at - start;
            if digits == 0 || digits > 9 {
                return Err(err("fraction must have 1 to 9 digits"));
            }
            for _ in digits..6 {
                micros *= 10;
            }
        }
        let offset_secs: i64 = match b.get(at) {
            Some(b'Z' | b'z') if at + 1 == b.len() => 0,
            Some(sign @ (b'+' | b'-')) if at + 6 == b.len() => {
                expect(at + 3, b":")?;
                let oh = num(at + 1, 2)?;
                let om = num(at + 4, 2)?;
                if oh > 23 || om > 59 {
                    return Err(err("offset out of range"));
                }
                let s = i64::from(oh * 3600 + om * 60);
                if *sign == b'-' { -s } else { s }
            }
            _ => return Err(err("expected 'Z' or an offset such as +02:00 at the end")),
        };
        // RFC 3339 allows a leap second; it is folded into the next second's start.
        let (second, leap) = if second == 60 { (59, 1) } else { (second, 0) };
        let local = Timestamp::from_parts(
            (i64::from(year), month, day),
            (hour, minute, second),
            micros,
        )
        .ok_or_else(|| err("field out of range"))?;
        let adjust = (leap - offset_secs) * MICROS_PER_SEC;
        local
            .0
            .checked_add(adjust)
            .map(Timestamp)
            .ok_or_else(|| err("out of range"))
    }
}

/// The `chrono`, `time` and `jiff` features: their date-times to and from [`Timestamp`]
/// (microseconds: finer digits are truncated). Into a timestamp saturates at its range (about
/// ±292,000 years, beyond every date those crates hold by default); out of one fails where the
/// other crate's range ends.
#[cfg(any(feature = "chrono", feature = "time", feature = "jiff"))]
mod interop {
    use super::Timestamp;
    use crate::ConvertError;

    fn out_of_range(t: Timestamp, what: &str) -> ConvertError {
        ConvertError(format!("timestamp {t} is outside the range of {what}"))
    }

    #[cfg(feature = "chrono")]
    impl<Tz: chrono::TimeZone> From<chrono::DateTime<Tz>> for Timestamp {
        fn from(t: chrono::DateTime<Tz>) -> Timestamp {
            Timestamp::from_micros(t.timestamp_micros())
        }
    }

    #[cfg(feature = "chrono")]
    impl TryFrom<Timestamp> for chrono::DateTime<chrono::Utc> {
        type Error = ConvertError;
        fn try_from(t: Timestamp) -> Result<Self, ConvertError> {
            chrono::DateTime::from_timestamp_micros(t.as_micros())
                .ok_or_else(|| out_of_range(t, "chrono::DateTime"))
        }
    }

    #[cfg(feature = "time")]
    impl From<time::OffsetDateTime> for Timestamp {
        fn from(t: time::OffsetDateTime) -> Timestamp {
            let micros = t.unix_timestamp_nanos().div_euclid(1000);
            let micros =
                i64::try_from(micros).unwrap_or(if micros < 0 { i64::MIN } else { i64::MAX });
            Timestamp::from_micros(micros)
        }
    }

    #[cfg(feature = "time")]
    impl TryFrom<Timestamp> for time::OffsetDateTime {
        type Error = ConvertError;
        fn try_from(t: Timestamp) -> Result<Self, ConvertError> {
            time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(t.as_micros()) * 1000)
                .map_err(|_| out_of_range(t, "time::OffsetDateTime"))
        }
    }

    #[cfg(feature = "jiff")]
    impl From<jiff::Timestamp> for Timestamp {
        fn from(t: jiff::Timestamp) -> Timestamp {
            Timestamp::from_micros(t.as_microsecond())
        }
    }

    #[cfg(feature = "jiff")]
    impl TryFrom<Timestamp> for jiff::Timestamp {
        type Error = ConvertError;
        fn try_from(t: Timestamp) -> Result<Self, ConvertError> {
            jiff::Timestamp::from_microsecond(t.as_micros())
                .map_err(|_| out_of_range(t, "jiff::Timestamp"))
        }
    }
}
