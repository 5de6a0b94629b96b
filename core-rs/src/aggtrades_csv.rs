//! Streaming reader of data.binance.vision aggTrades CSV dumps.
//!
//! Columns: `agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker`.
//! Accepted variations, as the dumps have shipped over the years:
//! - a header row or none: the first line is taken as a header when it does not start with a
//!   starts with a letter (a UTF-8 byte-order mark before it is skipped); it must still have seven
//!   columns;
//! - times in milliseconds or microseconds (the spot dumps switched to µs in 2025): a time above
//!   [`MICROS_THRESHOLD`] is microseconds and is divided down to milliseconds, per row;
//! - `true`/`false` in any letter case; CRLF line ends; blank lines (such as a trailing one) are
//!   skipped.

use std::io::BufRead;

use crate::decimal::{Decimal, DecimalError};
use crate::market::AggTrade;
use crate::symbol::Symbol;

/// Times above this are microseconds: 10^14 ms is the year 5138, 10^14 µs is 1973.
pub const MICROS_THRESHOLD: u64 = 100_000_000_000_000;

const COLUMNS: usize = 7;
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
        }
    }
}

impl std::fmt::Display for Column {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What is wrong with one row.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RowError {
    #[error("expected {COLUMNS} columns, found {found}")]
    ColumnCount { found: usize },
    #[error("column {column}: {source}")]
    BadDecimal { column: Column, source: DecimalError },
    #[error("column {column}: not an unsigned integer (or out of range)")]
    BadInteger { column: Column },
    #[error("column is_buyer_maker: expected true or false")]
    BadBool,
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
    symbol: Symbol,
    line: Vec<u8>,
    line_number: u64,
    done: bool,
}

impl<R: BufRead> AggTradesCsv<R> {
    /// A reader of `input`, whose trades are all for `symbol` (the dumps do not name it).
    pub fn new(input: R, symbol: Symbol) -> Self {
        AggTradesCsv {
            input,
            symbol,
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
                    if let Some(item) = parse_line(&self.line, line_number, self.symbol) {
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

/// One raw line (with or without its line end) of a dump: `None` for a line to skip (blank, or
/// the header on line 1), else the trade or the row's error. `line_number` is 1-based.
pub fn parse_line(raw: &[u8], line_number: u64, symbol: Symbol) -> Option<Result<AggTrade, CsvError>> {
    let mut text = trim_line_end(raw);
    if line_number == 1 {
        text = text.strip_prefix(UTF8_BOM).unwrap_or(text);
    }
    if text.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    if line_number == 1 && text.first().is_some_and(u8::is_ascii_alphabetic) {
        let found = text.split(|&b| b == b',').count();
        if found == COLUMNS {
            return None;
        }
        return Some(Err(CsvError::Row {
            line: line_number,
            reason: RowError::ColumnCount { found },
        }));
    }
    Some(parse_row(text, symbol).map_err(|reason| CsvError::Row {
        line: line_number,
        reason,
    }))
}

/// The line without its `\n` or `\r\n`.
fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// One data row into a trade.
fn parse_row(text: &[u8], symbol: Symbol) -> Result<AggTrade, RowError> {
    let mut fields: [&[u8]; COLUMNS] = [&[]; COLUMNS];
    let mut found = 0;
    for field in text.split(|&b| b == b',') {
        if let Some(slot) = fields.get_mut(found) {
            *slot = field;
        }
        found += 1;
    }
    if found != COLUMNS {
        return Err(RowError::ColumnCount { found });
    }
    let [id, price, quantity, first, last, time, maker] = fields;
    // Columns are checked left to right, so the error names the first bad one.
    let id = parse_u64(id, Column::AggTradeId)?;
    let price = parse_decimal(price, Column::Price)?;
    let quantity = parse_decimal(quantity, Column::Quantity)?;
    let first_trade_id = parse_u64(first, Column::FirstTradeId)?;
    let last_trade_id = parse_u64(last, Column::LastTradeId)?;
    let raw_time = parse_u64(time, Column::TransactTime)?;
    let buyer_is_maker = parse_bool(maker)?;
    if last_trade_id < first_trade_id {
        return Err(RowError::LastBeforeFirst {
            first: first_trade_id,
            last: last_trade_id,
        });
    }
    let time_ms = if raw_time > MICROS_THRESHOLD {
        raw_time / 1000
    } else {
        raw_time
    };
    // A u64 divided by 1000 fits an i64, and so does anything at or below the threshold.
    let trade_time = i64::try_from(time_ms).map_err(|_| RowError::BadInteger {
        column: Column::TransactTime,
    })?;
    Ok(AggTrade {
        symbol,
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

fn parse_decimal(field: &[u8], column: Column) -> Result<Decimal, RowError> {
    Decimal::parse_bytes(field).map_err(|source| RowError::BadDecimal { column, source })
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

fn parse_bool(field: &[u8]) -> Result<bool, RowError> {
    if field.eq_ignore_ascii_case(b"true") {
        Ok(true)
    } else if field.eq_ignore_ascii_case(b"false") {
        Ok(false)
    } else {
        Err(RowError::BadBool)
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
    fn microsecond_times_become_milliseconds_per_row() {
        let got = trades("1,1,1,1,1,1735689600123456,true\n2,1,1,2,2,1735689600124,true\n");
        assert_eq!(got[0].trade_time, 1_735_689_600_123);
        assert_eq!(got[1].trade_time, 1_735_689_600_124);
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
            row_error(&format!("{ok}1,1,1,1,1,1,true,x\n")),
            (2, RowError::ColumnCount { found: 8 })
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
        assert_eq!(row_error("1,1,1,1,1,1,yes\n"), (1, RowError::BadBool));
        assert_eq!(row_error("1,1,1,1,1,1,\n"), (1, RowError::BadBool));
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
