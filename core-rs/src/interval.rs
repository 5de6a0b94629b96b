//! Kline intervals with their UTC boundaries.

use std::fmt;
use std::str::FromStr;

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
/// 1970-01-05 was the first Monday after the epoch; Binance weeks start on Monday 00:00 UTC.
const FIRST_MONDAY: i64 = 4 * DAY;

/// A Binance kline interval.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Interval {
    M1 = 0,
    M3 = 1,
    M5 = 2,
    M15 = 3,
    M30 = 4,
    H1 = 5,
    H2 = 6,
    H4 = 7,
    H6 = 8,
    H8 = 9,
    H12 = 10,
    D1 = 11,
    D3 = 12,
    W1 = 13,
    Mo1 = 14,
}

/// The intervals the bar aggregator builds from aggTrades (DESIGN.md 3.5).
pub const AGGREGATED: [Interval; 11] = [
    Interval::M1,
    Interval::M3,
    Interval::M5,
    Interval::M15,
    Interval::M30,
    Interval::H1,
    Interval::H2,
    Interval::H4,
    Interval::H8,
    Interval::H12,
    Interval::D1,
];

/// Every interval Binance serves, in `repr` order.
pub const ALL: [Interval; 15] = [
    Interval::M1,
    Interval::M3,
    Interval::M5,
    Interval::M15,
    Interval::M30,
    Interval::H1,
    Interval::H2,
    Interval::H4,
    Interval::H6,
    Interval::H8,
    Interval::H12,
    Interval::D1,
    Interval::D3,
    Interval::W1,
    Interval::Mo1,
];

/// An interval name Binance does not serve.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown kline interval {0:?} (expected one of 1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w 1M)")]
pub struct UnknownInterval(pub String);

impl Interval {
    /// Binance's name for the interval (`"1m"`, `"1M"` is a month).
    pub const fn as_str(self) -> &'static str {
        match self {
            Interval::M1 => "1m",
            Interval::M3 => "3m",
            Interval::M5 => "5m",
            Interval::M15 => "15m",
            Interval::M30 => "30m",
            Interval::H1 => "1h",
            Interval::H2 => "2h",
            Interval::H4 => "4h",
            Interval::H6 => "6h",
            Interval::H8 => "8h",
            Interval::H12 => "12h",
            Interval::D1 => "1d",
            Interval::D3 => "3d",
            Interval::W1 => "1w",
            Interval::Mo1 => "1M",
        }
    }

    /// The interval with this `repr` code (the wire form).
    pub fn from_code(code: u8) -> Option<Interval> {
        ALL.get(code as usize).copied()
    }

    pub const fn code(self) -> u8 {
        self as u8
    }

    /// Length in milliseconds; `None` for the calendar month.
    pub const fn fixed_ms(self) -> Option<i64> {
        Some(match self {
            Interval::M1 => MINUTE,
            Interval::M3 => 3 * MINUTE,
            Interval::M5 => 5 * MINUTE,
            Interval::M15 => 15 * MINUTE,
            Interval::M30 => 30 * MINUTE,
            Interval::H1 => HOUR,
            Interval::H2 => 2 * HOUR,
            Interval::H4 => 4 * HOUR,
            Interval::H6 => 6 * HOUR,
            Interval::H8 => 8 * HOUR,
            Interval::H12 => 12 * HOUR,
            Interval::D1 => DAY,
            Interval::D3 => 3 * DAY,
            Interval::W1 => 7 * DAY,
            Interval::Mo1 => return None,
        })
    }

    /// Open time of the bar containing `time_ms` (UTC boundaries; weeks start Monday; months on
    /// the 1st).
    pub fn open_time(self, time_ms: i64) -> i64 {
        match self {
            Interval::Mo1 => {
                let (y, m, _) = civil_from_days(time_ms.div_euclid(DAY));
                days_from_civil(y, m, 1) * DAY
            }
            Interval::W1 => {
                let week = 7 * DAY;
                (time_ms - FIRST_MONDAY).div_euclid(week) * week + FIRST_MONDAY
            }
            other => {
                // Every other interval has a fixed length.
                let len = other.fixed_ms().unwrap_or(MINUTE);
                time_ms.div_euclid(len) * len
            }
        }
    }

    /// Open time of the bar after the one that opens at `open_time`.
    pub fn next_open_time(self, open_time: i64) -> i64 {
        match self.fixed_ms() {
            Some(len) => open_time + len,
            None => {
                let (y, m, _) = civil_from_days(open_time.div_euclid(DAY));
                let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
                days_from_civil(ny, nm, 1) * DAY
            }
        }
    }

    /// Binance's close time for a bar: the last millisecond inside it.
    pub fn close_time(self, open_time: i64) -> i64 {
        self.next_open_time(open_time) - 1
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Interval {
    type Err = UnknownInterval;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ALL.iter()
            .copied()
            .find(|i| i.as_str() == s)
            .ok_or_else(|| UnknownInterval(s.to_owned()))
    }
}

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { yoe + era * 400 + 1 } else { yoe + era * 400 }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for i in ALL {
            assert_eq!(i.as_str().parse::<Interval>().unwrap(), i);
            assert_eq!(Interval::from_code(i.code()), Some(i));
        }
        assert!("2m".parse::<Interval>().is_err());
    }

    #[test]
    fn boundaries_are_utc() {
        // 2026-05-08 00:00:00.020 UTC from the BTCUSD_PERP dump.
        let t = 1_778_198_400_020;
        assert_eq!(Interval::M1.open_time(t), 1_778_198_400_000);
        assert_eq!(Interval::D1.open_time(t), 1_778_198_400_000);
        assert_eq!(Interval::M1.close_time(1_778_198_400_000), 1_778_198_459_999);
        // 2026-05-08 is a Friday; its week opened Monday 2026-05-04.
        assert_eq!(Interval::W1.open_time(t), 1_778_198_400_000 - 4 * DAY);
        // May 2026 opened on the 1st; June follows.
        let may = Interval::Mo1.open_time(t);
        assert_eq!(may, 1_778_198_400_000 - 7 * DAY);
        assert_eq!(Interval::Mo1.next_open_time(may), may + 31 * DAY);
        assert_eq!(Interval::H4.open_time(-1), -4 * HOUR);
    }
}
