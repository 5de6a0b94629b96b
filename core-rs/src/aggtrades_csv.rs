//! Streaming reader of data.binance.vision aggTrades CSV dumps.
//!
//! Columns: `agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker`
//! (futures, USD-M and COIN-M), plus `is_best_match` in the spot dumps ([`Layout`]).
//! Accepted variations, as the dumps have shipped over the years:
//! - a header row or none: the first line is taken as a header when it starts with a letter (a
//!   UTF-8 byte-order mark before it is skipped); it must have seven or eight columns;
//! - times in milliseconds or microseconds (the spot dumps switched to µs in 2025): a time above
//!   [`MICROS_THRESHOLD`] is microseconds and is divided down to milliseconds. The first data row
//!   fixes the file's layout and time unit; a later row in another layout or unit is refused;
//! - `true`/`false` in any letter case; CRLF line ends; blank lines (such as a trailing one) are
//!   skipped.
//!
//! Price and quantity must be positive, as the websocket parser requires of an `aggTrade`.

use std::io::BufRead;

use crate::decimal::{Decimal, DecimalError};
use crate::market::AggTrade;
use crate::symbol::Symbol;

/// Times above this are microseconds: 10^14 ms is the year 5138, 10^14 µs is 1973.
pub const MICROS_THRESHOLD: u64 = 100_000_000_000_000;

/// Columns of a futures dump; a spot dump adds `is_best_match`.
const COLUMNS: usize = 7;
const SPOT_COLUMNS: usize = 8;
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// A CSV column, named as in the dumps' header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    AggTradeId,
    Price,
    Quantity,
    FirstTradeId,
    LastTradeId,
    TransactTime,
    IsBuyerMaker,
    IsBestMatch,
}

impl Column {
    pub const fn as_str(self) -> &'static str {
        match self {
            Column::AggTradeId => "agg_trade_id",
            Column::Price => "price",
            Column::Quantity => "quantity",
            Column::FirstTradeId => "first_trade_id",
            Column::LastTradeId => "last_trade_id",
            Column::TransactTime => "transact_time",
            Column::IsBuyerMaker => "is_buyer_maker",
            Column::IsBestMatch => "is_best_match",
        }
    }
}

impl std::fmt::Display for Column {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The column layout of a dump, told by its column count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Seven columns: the USD-M and COIN-M futures dumps.
    Futures,
    /// Eight columns, the last `is_best_match`: the spot dumps.
    Spot,
}

impl Layout {
    fn from_columns(found: usize) -> Option<Layout> {
        match found {
            COLUMNS => Some(Layout::Futures),
            SPOT_COLUMNS => Some(Layout::Spot),
            _ => None,
        }
    }

    /// Columns in a row of this layout.
    pub const fn columns(self) -> usize {
        match self {
            Layout::Futures => COLUMNS,
            Layout::Spot => SPOT_COLUMNS,
        }
    }
}

/// The unit of `transact_time` in a dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUnit {
    Millis,
    /// The spot dumps since 2025.
    Micros,
}

impl std::fmt::Display for TimeUnit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TimeUnit::Millis => "milliseconds",
            TimeUnit::Micros => "microseconds",
        })
    }
}

/// What is wrong with one row.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RowError {
    #[error("expected {COLUMNS} columns (futures) or {SPOT_COLUMNS} (spot), found {found}")]
    ColumnCount { found: usize },
    #[error("expected {expected} columns as the rows before, found {found}")]
    LayoutChanged { expected: usize, found: usize },
    #[error("column transact_time: in {found}, the rows before are in {expected}")]
    TimeUnitChanged { expected: TimeUnit, found: TimeUnit },
    #[error("column {column}: must be positive")]
    NotPositive { column: Column },
    #[error("column {column}: {source}")]
    BadDecimal { column: Column, source: DecimalError },
    #[error("column {column}: not an unsigned integer (or out of range)")]
    BadInteger { column: Column },
    #[error("column {column}: expected true or false")]
    BadBool { column: Column },
    #[error("last_trade_id {last} is below first_trade_id {first}")]
    LastBeforeFirst { first: u64, last: u64 },
    #[error("line longer than {MAX_LINE_BYTES} bytes")]
    LineTooLong,
}

/// Longest line a pushed stream keeps while waiting for its end; dump rows are under 100 bytes,
/// so a longer line means the input is not an aggTrades dump.
pub const MAX_LINE_BYTES: usize = 4096;

/// Why reading stopped or a row was refused, with the 1-based line number.
#[derive(Debug, thiserror::Error)]
pub enum CsvError {
    #[error("line {line}: {reason}")]
    Row { line: u64, reason: RowError },
    #[error("line {line}: read failed: {source}")]
    Io { line: u64, source: std::io::Error },
}

impl CsvError {
    /// The 1-based line the error is about.
    pub fn line(&self) -> u64 {
        match self {
            CsvError::Row { line, .. } | CsvError::Io { line, .. } => *line,
        }
    }
}

/// Reads aggregate trades of one symbol from a CSV dump, one line at a time into a reused buffer.
///
/// An iterator of `Result<AggTrade, CsvError>`: a bad row yields its error and reading goes on
/// with the next line; a read failure yields its error and ends the iteration.
pub struct AggTradesCsv<R> {
    input: R,
    rows: RowParser,
    line: Vec<u8>,
    line_number: u64,
    done: bool,
}

impl<R: BufRead> AggTradesCsv<R> {
    /// A reader of `input`, whose trades are all for `symbol` (the dumps do not name it).
    pub fn new(input: R, symbol: Symbol) -> Self {
        AggTradesCsv {
            input,
            rows: RowParser::new(symbol),
            line: Vec::with_capacity(128),
            line_number: 0,
            done: false,
        }
    }

    /// Lines read so far (the line of the last item returned).
    pub fn line_number(&self) -> u64 {
        self.line_number
    }
}

impl<R: BufRead> Iterator for AggTradesCsv<R> {
    type Item = Result<AggTrade, CsvError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            self.line.clear();
            let line_number = self.line_number + 1;
            match self.input.read_until(b'\n', &mut self.line) {
                Ok(0) => self.done = true,
                Ok(_) => {
                    self.line_number = line_number;
                    if let Some(item) = self.rows.parse_line(&self.line, line_number) {
                        return Some(item);
                    }
                }
                Err(source) => {
                    self.done = true;
                    return Some(Err(CsvError::Io {
                        line: line_number,
                        source,
                    }));
                }
            }
        }
        None
    }
}

/// Parses the lines of one dump, holding what its first row fixed: the layout and time unit.
#[derive(Clone, Debug)]
pub struct RowParser {
    symbol: Symbol,
    layout: Option<Layout>,
    unit: Option<TimeUnit>,
}

impl RowParser {
    /// A parser for a dump of `symbol`'s trades.
    pub fn new(symbol: Symbol) -> Self {
        RowParser {
            symbol,
            layout: None,
            unit: None,
        }
    }

    /// The layout, once a header or row has fixed it.
    pub fn layout(&self) -> Option<Layout> {
        self.layout
    }

    /// The time unit, once a row has fixed it.
    pub fn time_unit(&self) -> Option<TimeUnit> {
        self.unit
    }

    /// One raw line (with or without its line end): `None` for a line to skip (blank, or the
    /// header on line 1), else the trade or the row's error. `line_number` is 1-based.
    pub fn parse_line(&mut self, raw: &[u8], line_number: u64) -> Option<Result<AggTrade, CsvError>> {
        let mut text = trim_line_end(raw);
        if line_number == 1 {
            text = text.strip_prefix(UTF8_BOM).unwrap_or(text);
        }
        if text.iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        let row = |reason| CsvError::Row {
            line: line_number,
            reason,
        };
        if line_number == 1 && text.first().is_some_and(u8::is_ascii_alphabetic) {
            let found = text.split(|&b| b == b',').count();
            return match Layout::from_columns(found) {
                Some(layout) => {
                    self.layout = Some(layout);
                    None
                }
                None => Some(Err(row(RowError::ColumnCount { found }))),
            };
        }
        Some(self.parse_row(text).map_err(row))
    }

    /// One data row into a trade.
    fn parse_row(&mut self, text: &[u8]) -> Result<AggTrade, RowError> {
        let mut fields: [&[u8]; SPOT_COLUMNS] = [&[]; SPOT_COLUMNS];
        let mut found = 0;
        for field in text.split(|&b| b == b',') {
            if let Some(slot) = fields.get_mut(found) {
                *slot = field;
            }
            found += 1;
        }
        let layout = Layout::from_columns(found).ok_or(RowError::ColumnCount { found })?;
        if let Some(expected) = self.layout.filter(|&l| l != layout) {
            return Err(RowError::LayoutChanged {
                expected: expected.columns(),
                found,
            });
        }
        let [id, price, quantity, first, last, time, maker, best_match] = fields;
        // Columns are checked left to right, so the error names the first bad one.
        let id = parse_u64(id, Column::AggTradeId)?;
        let price = parse_positive(price, Column::Price)?;
        let quantity = parse_positive(quantity, Column::Quantity)?;
        let first_trade_id = parse_u64(first, Column::FirstTradeId)?;
        let last_trade_id = parse_u64(last, Column::LastTradeId)?;
        let raw_time = parse_u64(time, Column::TransactTime)?;
        let buyer_is_maker = parse_bool(maker, Column::IsBuyerMaker)?;
        if layout == Layout::Spot {
            parse_bool(best_match, Column::IsBestMatch)?;
        }
        if last_trade_id < first_trade_id {
            return Err(RowError::LastBeforeFirst {
                first: first_trade_id,
                last: last_trade_id,
            });
        }
        let (unit, time_ms) = if raw_time > MICROS_THRESHOLD {
            (TimeUnit::Micros, raw_time / 1000)
        } else {
            (TimeUnit::Millis, raw_time)
        };
        if let Some(expected) = self.unit.filter(|&u| u != unit) {
            return Err(RowError::TimeUnitChanged { expected, found: unit });
        }
        // A u64 divided by 1000 fits an i64, and so does anything at or below the threshold.
        let trade_time = i64::try_from(time_ms).map_err(|_| RowError::BadInteger {
            column: Column::TransactTime,
        })?;
        self.layout = Some(layout);
        self.unit = Some(unit);
        Ok(AggTrade {
            symbol: self.symbol,
            id,
            price,
            quantity,
            first_trade_id,
            last_trade_id,
            trade_time,
            event_time: trade_time,
            buyer_is_maker,
        })
    }
}

/// The line without its `\n` or `\r\n`.
fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// A decimal that must be above zero (a zero or negative price or quantity is no trade).
fn parse_positive(field: &[u8], column: Column) -> Result<Decimal, RowError> {
    let value = Decimal::parse_bytes(field).map_err(|source| RowError::BadDecimal { column, source })?;
    if !value.is_positive() {
        return Err(RowError::NotPositive { column });
    }
    Ok(value)
}

/// Plain ASCII digits into a `u64`, refusing signs, spaces and overflow.
fn parse_u64(field: &[u8], column: Column) -> Result<u64, RowError> {
    if field.is_empty() {
        return Err(RowError::BadInteger { column });
    }
    field.iter().try_fold(0u64, |acc, &b| {
        if !b.is_ascii_digit() {
            return Err(RowError::BadInteger { column });
        }
        acc.checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(b - b'0')))
            .ok_or(RowError::BadInteger { column })
    })
}

fn parse_bool(field: &[u8], column: Column) -> Result<bool, RowError> {
    if field.eq_ignore_ascii_case(b"true") {
        Ok(true)
    } else if field.eq_ignore_ascii_case(b"false") {
        Ok(false)
    } else {
        Err(RowError::BadBool { column })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufReader, Read};

    fn sym() -> Symbol {
        Symbol::new("BTCUSD_PERP").unwrap()
    }

    fn read(text: &str) -> Vec<Result<AggTrade, CsvError>> {
        AggTradesCsv::new(text.as_bytes(), sym()).collect()
    }

    fn trades(text: &str) -> Vec<AggTrade> {
        read(text).into_iter().map(|r| r.unwrap()).collect()
    }

    fn row_error(text: &str) -> (u64, RowError) {
        match read(text).into_iter().find_map(|r| r.err()) {
            Some(CsvError::Row { line, reason }) => (line, reason),
            other => panic!("expected a row error, got {other:?}"),
        }
    }

    const HEADER: &str = "agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker\n";

    #[test]
    fn reads_the_official_layout_with_header() {
        let text = format!(
            "{HEADER}480537903,79972.8,542.0,1123474160,1123474164,1778198400020,false\n\
             480537904,79972.9,1.0,1123474165,1123474165,1778198400024,true\n"
        );
        let got = trades(&text);
        assert_eq!(got.len(), 2);
        let t = got[0];
        assert_eq!(t.symbol, sym());
        assert_eq!(t.id, 480_537_903);
        assert_eq!(t.price.to_string(), "79972.8");
        assert_eq!(t.quantity.to_string(), "542.0");
        assert_eq!((t.first_trade_id, t.last_trade_id), (1_123_474_160, 1_123_474_164));
        assert_eq!((t.trade_time, t.event_time), (1_778_198_400_020, 1_778_198_400_020));
        assert!(!t.buyer_is_maker);
        assert!(got[1].buyer_is_maker);
    }

    #[test]
    fn header_is_optional_and_detected() {
        let row = "1,10.5,2,7,8,1700000000000,FALSE\n";
        assert_eq!(trades(row).len(), 1);
        assert_eq!(trades(&format!("{HEADER}{row}")).len(), 1);
        // Any seven-column text header, and one behind a byte-order mark.
        assert_eq!(trades(&format!("a,p,q,f,l,T,m\n{row}")).len(), 1);
        assert_eq!(trades(&format!("\u{feff}{HEADER}{row}")).len(), 1);
        // A text first line with the wrong shape is an error, not a silently skipped row.
        assert_eq!(
            row_error(&format!("agg_trade_id,price\n{row}")),
            (1, RowError::ColumnCount { found: 2 })
        );
        // A first line that starts like a number is data, even a bad one.
        assert_eq!(
            row_error("-1,1,1,1,1,1,true\n"),
            (
                1,
                RowError::BadInteger {
                    column: Column::AggTradeId
                }
            )
        );
        // Only the first line may be a header.
        assert_eq!(
            row_error(&format!("{row}{HEADER}")),
            (
                2,
                RowError::BadInteger {
                    column: Column::AggTradeId
                }
            )
        );
    }

    #[test]
    fn microsecond_times_become_milliseconds_and_fix_the_unit() {
        let got = trades("1,1,1,1,1,1735689600123456,true\n2,1,1,2,2,1735689600124999,true\n");
        assert_eq!(got[0].trade_time, 1_735_689_600_123);
        assert_eq!(got[1].trade_time, 1_735_689_600_124);
        let mut rows = RowParser::new(sym());
        assert!(rows.parse_line(b"1,1,1,1,1,1735689600123456,true", 1).unwrap().is_ok());
        assert_eq!(rows.time_unit(), Some(TimeUnit::Micros));
        // A file does not change its unit half way.
        assert_eq!(
            row_error("1,1,1,1,1,1735689600123456,true\n2,1,1,2,2,1735689600124,true\n"),
            (
                2,
                RowError::TimeUnitChanged {
                    expected: TimeUnit::Micros,
                    found: TimeUnit::Millis
                }
            )
        );
    }

    #[test]
    fn reads_the_spot_layout_with_is_best_match() {
        // As data.binance.vision ships spot dumps since 2025: no header, µs times, capitalised bools.
        let text = "3000000001,80006.00000000,0.00012000,5000000001,5000000002,1778198400000123,False,True\n\
                    3000000002,80006.01000000,0.50000000,5000000003,5000000003,1778198400000456,True,True\n";
        let got = trades(text);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].price.to_string(), "80006.00000000");
        assert_eq!(got[0].trade_time, 1_778_198_400_000);
        assert!(!got[0].buyer_is_maker && got[1].buyer_is_maker);
        let mut rows = RowParser::new(sym());
        assert!(rows
            .parse_line(text.lines().next().unwrap().as_bytes(), 1)
            .unwrap()
            .is_ok());
        assert_eq!(rows.layout(), Some(Layout::Spot));
        let header =
            "agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker,is_best_match\n";
        assert_eq!(trades(&format!("{header}{text}")).len(), 2);
        assert_eq!(
            row_error("1,1,1,1,1,1,true,maybe\n"),
            (
                1,
                RowError::BadBool {
                    column: Column::IsBestMatch
                }
            )
        );
        // The header or first row fixes the layout.
        assert_eq!(
            row_error(&format!("{header}1,1,1,1,1,1,true\n")),
            (2, RowError::LayoutChanged { expected: 8, found: 7 })
        );
        assert_eq!(
            row_error("1,1,1,1,1,1,true\n2,1,1,2,2,2,true,true\n"),
            (2, RowError::LayoutChanged { expected: 7, found: 8 })
        );
    }

    #[test]
    fn refuses_prices_and_quantities_that_are_not_positive() {
        for (row, column) in [
            ("1,0,1,1,1,1,true\n", Column::Price),
            ("1,-3.5,1,1,1,1,true\n", Column::Price),
            ("1,0.00000000,1,1,1,1,true\n", Column::Price),
            ("1,2,0,1,1,1,true\n", Column::Quantity),
            ("1,2,-0.001,1,1,1,true\n", Column::Quantity),
        ] {
            assert_eq!(row_error(row), (1, RowError::NotPositive { column }), "{row}");
        }
        assert_eq!(
            read("1,0,1,1,1,1,true\n")[0].as_ref().unwrap_err().to_string(),
            "line 1: column price: must be positive"
        );
    }

    #[test]
    fn tolerates_crlf_case_and_blank_lines() {
        let got = trades("1,1.0,1,1,1,5,True\r\n2,1.0,1,2,3,6,fAlSe\r\n\r\n\n");
        assert_eq!(got.len(), 2);
        assert!(got[0].buyer_is_maker && !got[1].buyer_is_maker);
        assert_eq!(got[1].trade_count(), 2);
        // No final newline.
        assert_eq!(trades("1,1.0,1,1,1,5,true").len(), 1);
        assert!(trades("").is_empty());
    }

    #[test]
    fn every_row_error_names_its_line_and_reason() {
        let ok = "1,1,1,1,1,1,true\n";
        assert_eq!(
            row_error(&format!("{ok}1,1,1,1,1,1\n")),
            (2, RowError::ColumnCount { found: 6 })
        );
        assert_eq!(
            row_error(&format!("{ok}1,1,1,1,1,1,true,x,y\n")),
            (2, RowError::ColumnCount { found: 9 })
        );
        assert_eq!(
            row_error(&format!("{HEADER}{ok}2,1.2.3,1,1,1,1,true\n")),
            (
                3,
                RowError::BadDecimal {
                    column: Column::Price,
                    source: DecimalError::InvalidChar { found: '.', at: 3 }
                }
            )
        );
        assert_eq!(
            row_error("1,1,,1,1,1,true\n"),
            (
                1,
                RowError::BadDecimal {
                    column: Column::Quantity,
                    source: DecimalError::Empty
                }
            )
        );
        assert_eq!(
            row_error("-1,1,1,1,1,1,true\n"),
            (
                1,
                RowError::BadInteger {
                    column: Column::AggTradeId
                }
            )
        );
        assert_eq!(
            row_error("1,1,1,18446744073709551616,1,1,true\n"),
            (
                1,
                RowError::BadInteger {
                    column: Column::FirstTradeId
                }
            )
        );
        assert_eq!(
            row_error("1,1,1,1, 2,1,true\n"),
            (
                1,
                RowError::BadInteger {
                    column: Column::LastTradeId
                }
            )
        );
        assert_eq!(
            row_error("1,1,1,1,1,1e3,true\n"),
            (
                1,
                RowError::BadInteger {
                    column: Column::TransactTime
                }
            )
        );
        let maker = RowError::BadBool {
            column: Column::IsBuyerMaker,
        };
        assert_eq!(row_error("1,1,1,1,1,1,yes\n"), (1, maker.clone()));
        assert_eq!(row_error("1,1,1,1,1,1,\n"), (1, maker));
        assert_eq!(
            row_error("1,1,1,5,4,1,true\n"),
            (1, RowError::LastBeforeFirst { first: 5, last: 4 })
        );
        // Reading goes on after a bad row.
        let results = read("1,1,1,1,1,1,maybe\n2,1,1,2,2,2,true\n");
        assert!(results[0].is_err() && results[1].is_ok());
        let error = results.into_iter().next().unwrap().unwrap_err();
        assert_eq!(error.line(), 1);
        assert_eq!(
            error.to_string(),
            "line 1: column is_buyer_maker: expected true or false"
        );
    }

    /// A reader that fails after its data.
    struct Failing<'a>(&'a [u8]);

    impl Read for Failing<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0.is_empty() {
                return Err(std::io::Error::other("disk gone"));
            }
            let n = self.0.read(buf)?;
            Ok(n)
        }
    }

    #[test]
    fn a_read_failure_ends_the_iteration() {
        let reader = BufReader::with_capacity(8, Failing(b"1,1,1,1,1,1,true\n2,1,1,2"));
        let results: Vec<_> = AggTradesCsv::new(reader, sym()).collect();
        assert_eq!(results.len(), 2);
        assert!(results[0].is_ok());
        match &results[1] {
            Err(CsvError::Io { line, .. }) => assert_eq!(*line, 2),
            other => panic!("expected an io error, got {other:?}"),
        }
    }
}
