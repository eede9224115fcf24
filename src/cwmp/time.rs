//! `xsd:dateTime` as unix milliseconds, with the CWMP "Unknown Time" (0001-01-01T00:00:00Z) as an
//! ordinary value so no Option is needed on the wire types.

use std::fmt;

/// Milliseconds since 1970-01-01T00:00:00Z. Years 0001..=9999 round-trip through text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateTime(pub i64);

const MS_PER_DAY: i64 = 86_400_000;

impl Default for DateTime {
    /// The Unknown Time: what CWMP sends when a time is not (yet) known.
    fn default() -> Self {
        Self::UNKNOWN
    }
}

impl DateTime {
    /// 0001-01-01T00:00:00Z, the Unknown Time of TR-069.
    pub const UNKNOWN: DateTime = DateTime(-62_135_596_800_000);

    pub fn from_unix_ms(ms: i64) -> Self {
        DateTime(ms)
    }

    pub fn unix_ms(self) -> i64 {
        self.0
    }

    pub fn is_unknown(self) -> bool {
        self == Self::UNKNOWN
    }

    /// Lenient parse: any number of fraction digits (kept to the millisecond), `Z`, `+hh:mm` /
    /// `-hh:mm`, or no zone at all (taken as UTC, as TR-106 reads an untimezoned value). Leading
    /// and trailing whitespace is ignored, as xsd's whitespace collapse does.
    pub fn parse(s: &str) -> Option<Self> {
        let b = s.trim().as_bytes();
        // YYYY-MM-DDThh:mm:ss is 19 bytes.
        if b.len() < 19 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
            return None;
        }
        if b.get(10) != Some(&b'T') || b.get(13) != Some(&b':') || b.get(16) != Some(&b':') {
            return None;
        }
        let year = digits(b, 0, 4)?;
        let month = digits(b, 5, 2)?;
        let day = digits(b, 8, 2)?;
        let hour = digits(b, 11, 2)?;
        let minute = digits(b, 14, 2)?;
        let second = digits(b, 17, 2)?;
        if year == 0 || !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        // xsd allows 24:00:00 as the end of the day.
        let end_of_day = hour == 24 && minute == 0 && second == 0;
        if (hour > 23 && !end_of_day) || minute > 59 || second > 59 {
            return None;
        }
        let mut i = 19;
        let mut millis = 0i64;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let start = i;
            while let Some(c) = b.get(i).filter(|c| c.is_ascii_digit()) {
                if i - start < 3 {
                    millis = millis * 10 + i64::from(c - b'0');
                }
                i += 1;
            }
            let n = i - start;
            if n == 0
                || (end_of_day
                    && b.get(start..i)
                        .unwrap_or_default()
                        .iter()
                        .any(|&c| c != b'0'))
            {
                return None;
            }
            for _ in n..3 {
                millis *= 10;
            }
        }
        let offset_min: i64 = match b.get(i) {
            None => 0,
            Some(b'Z') if i + 1 == b.len() => 0,
            Some(&sign @ (b'+' | b'-')) if i + 6 == b.len() && b.get(i + 3) == Some(&b':') => {
                let oh = digits(b, i + 1, 2)?;
                let om = digits(b, i + 4, 2)?;
                if oh > 14 || om > 59 {
                    return None;
                }
                let off = i64::from(oh * 60 + om);
                if sign == b'-' {
                    -off
                } else {
                    off
                }
            }
            _ => return None,
        };
        let days = days_from_civil(i64::from(year), i64::from(month), i64::from(day));
        let secs = i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second);
        Some(DateTime(
            days * MS_PER_DAY + secs * 1000 + millis - offset_min * 60_000,
        ))
    }

    /// "2026-11-25T16:17:12Z", or "2026-11-25T16:17:12.473Z" when there are milliseconds.
    pub fn format(self) -> String {
        self.to_string()
    }
}

impl DateTime {
    /// Appends the `format()` text to `out` without allocating (the encoder's hot path).
    pub fn push_to(self, out: &mut Vec<u8>) {
        let days = self.0.div_euclid(MS_PER_DAY);
        let ms_of_day = self.0.rem_euclid(MS_PER_DAY);
        let (y, m, d) = civil_from_days(days);
        if !(0..=9999).contains(&y) {
            out.extend_from_slice(self.format().as_bytes());
            return;
        }
        let secs = ms_of_day / 1000;
        let millis = ms_of_day % 1000;
        let two = |out: &mut Vec<u8>, v: i64| {
            out.extend_from_slice(&[b'0' + (v / 10 % 10) as u8, b'0' + (v % 10) as u8])
        };
        two(out, y / 100);
        two(out, y % 100);
        out.push(b'-');
        two(out, m);
        out.push(b'-');
        two(out, d);
        out.push(b'T');
        two(out, secs / 3600);
        out.push(b':');
        two(out, secs / 60 % 60);
        out.push(b':');
        two(out, secs % 60);
        if millis != 0 {
            out.extend_from_slice(&[
                b'.',
                b'0' + (millis / 100) as u8,
                b'0' + (millis / 10 % 10) as u8,
                b'0' + (millis % 10) as u8,
            ]);
        }
        out.push(b'Z');
    }
}

impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.0.div_euclid(MS_PER_DAY);
        let ms_of_day = self.0.rem_euclid(MS_PER_DAY);
        let (y, m, d) = civil_from_days(days);
        let secs = ms_of_day / 1000;
        let millis = ms_of_day % 1000;
        if y < 0 {
            write!(f, "-{:04}", -y)?;
        } else {
            write!(f, "{y:04}")?;
        }
        write!(
            f,
            "-{m:02}-{d:02}T{:02}:{:02}:{:02}",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        )?;
        if millis != 0 {
            write!(f, ".{millis:03}")?;
        }
        f.write_str("Z")
    }
}

fn digits(b: &[u8], at: usize, n: usize) -> Option<u32> {
    let mut v = 0u32;
    for &c in b.get(at..at + n)? {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

fn is_leap(y: u32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's civil-date algorithms (proleptic Gregorian, day 0 = 1970-01-01).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_time_is_year_one() {
        assert_eq!(
            DateTime::parse("0001-01-01T00:00:00Z"),
            Some(DateTime::UNKNOWN)
        );
        assert_eq!(DateTime::UNKNOWN.format(), "0001-01-01T00:00:00Z");
        assert_eq!(DateTime::default(), DateTime::UNKNOWN);
        assert!(DateTime::UNKNOWN.is_unknown());
    }

    #[test]
    fn epoch_and_genieacs_session_start() {
        assert_eq!(DateTime::parse("1970-01-01T00:00:00Z"), Some(DateTime(0)));
        // 0x1a2137f3119 ms is the GenieACS session start recorded in the transcripts.
        let t = DateTime::parse("2026-11-25T16:17:12.473Z");
        assert_eq!(t, Some(DateTime(0x1a2137f3119)));
        assert_eq!(DateTime(0x1a2137f3119).format(), "2026-11-25T16:17:12.473Z");
        assert_eq!(DateTime(1_000).format(), "1970-01-01T00:00:01Z");
    }

    #[test]
    fn fractions_and_offsets() {
        let base = DateTime::parse("2026-12-01T03:00:00Z").map(DateTime::unix_ms);
        assert_eq!(
            DateTime::parse("2026-12-01T03:00:00.000Z").map(DateTime::unix_ms),
            base
        );
        assert_eq!(
            DateTime::parse("2026-12-01T05:00:00+02:00").map(DateTime::unix_ms),
            base
        );
        assert_eq!(
            DateTime::parse("2026-12-01T01:30:00-01:30").map(DateTime::unix_ms),
            base
        );
        assert_eq!(
            DateTime::parse("2026-12-01T03:00:00").map(DateTime::unix_ms),
            base
        );
        assert_eq!(
            DateTime::parse(" 2026-12-01T03:00:00Z\n").map(DateTime::unix_ms),
            base
        );
        let t = DateTime::parse("1970-01-01T17:38:06.555123456Z");
        assert_eq!(t, Some(DateTime(17 * 3_600_000 + 38 * 60_000 + 6_555)));
        assert_eq!(
            DateTime::parse("1970-01-01T00:00:00.5Z"),
            Some(DateTime(500))
        );
        assert_eq!(
            DateTime::parse("1970-01-01T24:00:00Z"),
            Some(DateTime(MS_PER_DAY))
        );
    }

    #[test]
    fn rejects_bad_text() {
        for bad in [
            "",
            "2026-13-01T00:00:00Z",
            "2026-02-29T00:00:00Z",
            "2026-01-01 00:00:00Z",
            "2026-01-01T25:00:00Z",
            "2026-01-01T00:60:00Z",
            "2026-01-01T00:00:00.Z",
            "2026-01-01T00:00:00ZZ",
            "2026-01-01T00:00:00+2:00",
            "0000-01-01T00:00:00Z",
            "maybe",
            "２０２６-01-01T00:00:00Z",
        ] {
            assert_eq!(DateTime::parse(bad), None, "{bad:?}");
        }
        assert!(DateTime::parse("2024-02-29T00:00:00Z").is_some());
    }

    #[test]
    fn format_round_trips_across_the_range() {
        for ms in [
            DateTime::UNKNOWN.0,
            -1,
            0,
            1,
            951_782_400_000,
            253_402_300_799_999,
        ] {
            let t = DateTime(ms);
            assert_eq!(DateTime::parse(&t.format()), Some(t), "{}", t.format());
        }
        assert_eq!(
            DateTime(253_402_300_799_000).format(),
            "9999-12-31T23:59:59Z"
        );
        // Out-of-range values still format without panicking.
        assert!(!DateTime(i64::MIN).format().is_empty());
        assert!(!DateTime(i64::MAX).format().is_empty());
    }
}
