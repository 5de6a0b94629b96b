//! Remembers each series' last `GET /fapi/v1/klines` body, so a poll parses only the rows that changed since.
//!
//! A poll of one series repeats nearly every row of the one before: 44 of 45 bars are closed and
//! unchanged, and the window moves by one bar a minute. A row's kline depends on its text alone,
//! except `closed`, which is `close_time < server time` and is set again for every poll. So a row
//! whose text is, byte for byte, a row of the series' last body (found by its open time) gets that
//! row's kline without being read again; every other row, and every byte between rows, goes
//! through the same scan as [`super::parse_rest_klines_into`], which gives the same rows and the
//! same errors. A body the scan leaves to serde is parsed whole and remembered without rows.
//!
//! Memory is bounded: past [`MAX_HELD_BYTES`] every series is forgotten (its next poll is parsed
//! whole) and the forgetting is counted; a body larger than that alone is parsed and not kept.

use super::error::{check_len, ParseError};
use super::{fast, rest, MAX_REST_BYTES};
use crate::interval::Interval;
use crate::market::Kline;
use crate::symbol::SymbolId;
use crate::word_map::WordMap;

/// Bytes of remembered bodies and klines above which every series is forgotten (about 1,300
/// series of 45-row polls, or 30,000 of 2-row polls).
pub const MAX_HELD_BYTES: usize = 32 << 20;

/// One series' last body: its text, each row's span in it, and the kline each row gave.
#[derive(Debug, Default)]
pub(super) struct PolledBody {
    text: Vec<u8>,
    /// `(start, end)` of row `i` in `text`; empty when the body was parsed by serde.
    spans: Vec<(u32, u32)>,
    klines: Vec<Kline>,
    /// Open times strictly ascending, as Binance sends them: rows are then found by search.
    ascending: bool,
}

impl PolledBody {
    fn clear(&mut self) {
        self.text.clear();
        self.spans.clear();
        self.klines.clear();
        self.ascending = false;
    }

    /// Bytes this body holds.
    fn held_bytes(&self) -> usize {
        self.text.capacity()
            + self.spans.capacity() * std::mem::size_of::<(u32, u32)>()
            + self.klines.capacity() * std::mem::size_of::<Kline>()
    }

    /// The kline of the remembered row opening at `open_time` whose text `bytes` holds at `at`,
    /// and that text's length. `next` is where the search starts (the row after the last match,
    /// where the next one usually is) and moves past a match.
    pub(super) fn row_at(&self, bytes: &[u8], at: usize, open_time: i64, next: &mut usize) -> Option<(&Kline, usize)> {
        let index = match self.klines.get(*next) {
            Some(kline) if kline.open_time == open_time => *next,
            _ if self.ascending => self.klines.binary_search_by_key(&open_time, |k| k.open_time).ok()?,
            _ => return None,
        };
        let &(start, end) = self.spans.get(index)?;
        let row = self.text.get(start as usize..end as usize)?;
        if bytes.get(at..at.checked_add(row.len())?)? != row {
            return None;
        }
        *next = index + 1;
        Some((self.klines.get(index)?, row.len()))
    }
}

/// What the memory did since it was made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RestPollMemoryStats {
    /// Rows whose kline came from the series' last body.
    pub reused_rows: u64,
    /// Rows read from their text.
    pub parsed_rows: u64,
    /// Times every series was forgotten because the budget ([`MAX_HELD_BYTES`]) was passed.
    pub forgotten: u64,
    /// Bodies parsed but not remembered, each larger than the whole budget.
    pub too_large: u64,
}

/// See the module documentation.
#[derive(Debug)]
pub struct RestPollMemory {
    series: WordMap<(SymbolId, Interval), PolledBody>,
    /// The body being parsed; swapped with the series' own once it parsed.
    scratch: PolledBody,
    held_bytes: usize,
    budget: usize,
    stats: RestPollMemoryStats,
}

impl Default for RestPollMemory {
    fn default() -> Self {
        RestPollMemory::with_budget(MAX_HELD_BYTES)
    }
}

impl RestPollMemory {
    /// A memory that holds at most [`MAX_HELD_BYTES`].
    pub fn new() -> RestPollMemory {
        RestPollMemory::default()
    }

    /// A memory that holds at most `budget` bytes of bodies and klines.
    pub fn with_budget(budget: usize) -> RestPollMemory {
        RestPollMemory {
            series: WordMap::default(),
            scratch: PolledBody::default(),
            held_bytes: 0,
            budget,
            stats: RestPollMemoryStats::default(),
        }
    }

    /// The klines of a klines body of `(symbol, interval)` polled at `server_time_ms` (what
    /// [`super::parse_rest_klines`] returns for it), remembering the body for the series' next
    /// poll. A body that does not parse is the error, and the series keeps its last body.
    pub fn parse(
        &mut self,
        symbol: SymbolId,
        interval: Interval,
        body: &[u8],
        server_time_ms: i64,
    ) -> Result<&[Kline], ParseError> {
        check_len(body, MAX_REST_BYTES)?;
        // The scratch keeps the capacity of the largest body it parsed: not past an eighth of
        // the budget.
        if self.scratch.held_bytes() > self.budget / 8 {
            self.scratch = PolledBody::default();
        }
        let key = (symbol, interval);
        let last = self.series.remove(&key).unwrap_or_default();
        let next = &mut self.scratch;
        next.clear();
        let mut reused = 0;
        let scanned = fast::rest_klines_reusing(
            body,
            server_time_ms,
            &last,
            &mut next.klines,
            &mut next.spans,
            &mut reused,
        );
        if scanned.is_some() {
            next.text.extend_from_slice(body);
            next.ascending = next.klines.windows(2).all(|w| w[0].open_time < w[1].open_time);
        } else {
            next.clear();
            reused = 0;
            if let Err(error) = rest::rest_klines_into::<false>(body, server_time_ms, &mut next.klines) {
                next.clear();
                self.series.insert(key, last);
                return Err(error);
            }
        }
        self.stats.reused_rows += reused;
        self.stats.parsed_rows += next.klines.len() as u64 - reused;
        let fresh = std::mem::replace(next, last);
        // `scratch` now holds the series' old body, kept for its buffers; it is not counted.
        self.held_bytes = self.held_bytes.saturating_sub(self.scratch.held_bytes());
        let size = fresh.held_bytes();
        if size > self.budget {
            // Too large to remember at all: its klines are handed out from the scratch, which
            // the next poll replaces.
            self.stats.too_large += 1;
            self.scratch = fresh;
            return Ok(&self.scratch.klines);
        }
        if self.held_bytes + size > self.budget {
            self.series.clear();
            self.held_bytes = 0;
            self.stats.forgotten += 1;
        }
        self.held_bytes += size;
        Ok(&self.series.entry(key).or_insert(fresh).klines)
    }

    pub fn stats(&self) -> RestPollMemoryStats {
        self.stats
    }

    /// Series with a remembered body.
    pub fn series(&self) -> usize {
        self.series.len()
    }

    /// Bytes the remembered bodies hold (capacities; the scratch body not included).
    pub fn held_bytes(&self) -> usize {
        self.held_bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse_rest_klines;

    const MINUTE: i64 = 60_000;

    fn row(open_minute: i64, close: &str, trades: u64) -> String {
        let open = open_minute * MINUTE;
        format!(
            r#"[{open},"100.5","101.0","99.5","{close}","12.000",{},"1206.00",{trades},"6.000","603.00","0"]"#,
            open + MINUTE - 1
        )
    }

    fn body(rows: &[String]) -> String {
        format!("[{}]", rows.join(","))
    }

    /// A 45-row poll at `minute` (its newest bar open, `trades` in it).
    fn poll(minute: i64, trades: u64) -> String {
        let rows: Vec<String> = (minute - 44..=minute)
            .map(|m| {
                if m == minute {
                    row(m, "100.7", trades)
                } else {
                    row(m, "100.6", 300)
                }
            })
            .collect();
        body(&rows)
    }

    fn check(memory: &mut RestPollMemory, text: &str, server_time: i64) {
        let expected = parse_rest_klines(text.as_bytes(), server_time);
        let got = memory
            .parse(SymbolId(3), Interval::M1, text.as_bytes(), server_time)
            .map(<[Kline]>::to_vec);
        assert_eq!(format!("{got:?}"), format!("{expected:?}"), "body {text}");
    }

    #[test]
    fn repeated_rows_are_reused_and_every_poll_gives_what_a_whole_parse_gives() {
        let mut memory = RestPollMemory::new();
        let minute = 29_630_000;
        check(&mut memory, &poll(minute, 10), minute * MINUTE + 5_000);
        assert_eq!(memory.stats().parsed_rows, 45);
        // The same window 5 s later: only the open bar changed.
        check(&mut memory, &poll(minute, 13), minute * MINUTE + 10_000);
        assert_eq!(memory.stats().reused_rows, 44);
        assert_eq!(memory.stats().parsed_rows, 46);
        // The window moved a minute: the bar that was open closes (its text changed), a new one opens.
        check(&mut memory, &poll(minute + 1, 1), (minute + 1) * MINUTE + 1_000);
        assert_eq!(memory.stats().reused_rows, 44 + 43);
        // The same text after its bars' close times passed: `closed` is set again for each poll.
        let text = poll(minute + 1, 1);
        check(&mut memory, &text, (minute + 1) * MINUTE + 1_000);
        check(&mut memory, &text, (minute + 3) * MINUTE);
        let after = memory
            .parse(SymbolId(3), Interval::M1, text.as_bytes(), (minute + 3) * MINUTE)
            .unwrap();
        assert!(after.iter().all(|k| k.closed));
        let before = memory
            .parse(SymbolId(3), Interval::M1, text.as_bytes(), (minute + 1) * MINUTE)
            .unwrap();
        assert!(!before.last().unwrap().closed);
        // Another series has its own memory.
        assert!(memory.parse(SymbolId(4), Interval::M1, text.as_bytes(), 0).is_ok());
        assert_eq!(memory.series(), 2);
    }

    #[test]
    fn a_bad_body_is_the_same_error_and_the_series_keeps_its_last_body() {
        let mut memory = RestPollMemory::new();
        let minute = 29_630_000;
        let good = poll(minute, 10);
        check(&mut memory, &good, 0);
        let reused = memory.stats().reused_rows;
        let rows: Vec<String> = (minute - 44..=minute).map(|m| row(m, "100.6", 300)).collect();
        let bad = [
            // A remembered row followed by garbage, a trailing comma, a truncated body.
            format!("[{}]x", rows[0]),
            format!("[{},]", rows[0]),
            format!("[{}", rows[0]),
            // A remembered row's text with a byte changed (a price that is no decimal).
            good.replacen("\"100.5\"", "\"1OO.5\"", 1),
            "{}".to_string(),
            String::new(),
        ];
        for text in &bad {
            assert!(memory.parse(SymbolId(3), Interval::M1, text.as_bytes(), 0).is_err());
            check(&mut memory, text, 0);
        }
        // The errors left the remembered body in place: the good poll again reuses every row.
        check(&mut memory, &good, 0);
        assert_eq!(memory.stats().reused_rows, reused + 45);
    }

    #[test]
    fn rows_out_of_order_or_repeated_are_read_as_a_whole_parse_reads_them() {
        let mut memory = RestPollMemory::new();
        let a = row(10, "100.6", 3);
        let b = row(11, "100.6", 4);
        for text in [
            body(&[b.clone(), a.clone()]),
            body(&[a.clone(), a.clone(), b.clone()]),
            body(&[b.clone(), a.clone(), b.clone()]),
            body(&[a.clone(), row(11, "100.8", 5)]),
            body(&[]),
            body(std::slice::from_ref(&a)),
            // A row that starts like a remembered one but has a thirteenth element (ignored).
            body(&[a.replacen(r#""0"]"#, r#""0","x"]"#, 1), b.clone()]),
            // Whitespace, which the scan leaves to serde.
            format!("[ {a} , {b} ]"),
            body(&[a.clone(), b.clone()]),
        ] {
            check(&mut memory, &text, 11 * MINUTE);
            check(&mut memory, &text, 12 * MINUTE);
        }
    }

    #[test]
    fn memory_is_bounded() {
        let mut memory = RestPollMemory::new();
        let text = poll(29_630_000, 10);
        let per_series = {
            memory.parse(SymbolId(0), Interval::M1, text.as_bytes(), 0).unwrap();
            memory.held_bytes()
        };
        let fits = MAX_HELD_BYTES / per_series;
        for id in 1..=fits as u32 + 10 {
            memory.parse(SymbolId(id), Interval::M1, text.as_bytes(), 0).unwrap();
            assert!(memory.held_bytes() <= MAX_HELD_BYTES);
        }
        assert_eq!(memory.stats().forgotten, 1);
        assert!(memory.series() < fits);

        // A body larger than the whole budget is parsed, never remembered, and its scratch is
        // not kept for the next poll either.
        let mut small = RestPollMemory::with_budget(per_series / 2);
        check(&mut small, &text, 0);
        check(&mut small, &text, 0);
        assert_eq!(
            (small.series(), small.held_bytes(), small.stats().reused_rows),
            (0, 0, 0)
        );
        assert_eq!((small.stats().too_large, small.stats().forgotten), (2, 0));
        assert!(small.scratch.held_bytes() > 0);
        check(&mut small, "[]", 0);
        assert_eq!(small.scratch.held_bytes(), 0);
    }

    proptest::proptest! {
        /// After a good poll is remembered, a body with any few bytes changed, cut or added gives
        /// what a whole parse gives: the same klines or the same error.
        #[test]
        fn an_edited_poll_parses_as_a_whole_parse_does(
            edits in proptest::collection::vec((0usize..7_000, proptest::sample::select(b"0123456789.,[]\" -xe".to_vec()), 0u8..3), 1..4),
            server_minutes in 0i64..3,
        ) {
            let minute = 29_630_000;
            let good = poll(minute, 10);
            let mut memory = RestPollMemory::new();
            memory.parse(SymbolId(3), Interval::M1, good.as_bytes(), 0).unwrap();
            let mut text = good.clone().into_bytes();
            for (at, byte, how) in edits {
                let at = at % (text.len() + 1);
                match how {
                    0 if at < text.len() => text[at] = byte,
                    1 if at < text.len() => {
                        text.remove(at);
                    }
                    _ => text.insert(at, byte),
                }
            }
            let server_time = (minute + server_minutes) * MINUTE;
            let expected = parse_rest_klines(&text, server_time);
            let got = memory.parse(SymbolId(3), Interval::M1, &text, server_time).map(<[Kline]>::to_vec);
            proptest::prop_assert_eq!(format!("{got:?}"), format!("{expected:?}"));
        }
    }
}
