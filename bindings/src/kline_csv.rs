//! The streaming aggTrades-CSV → kline-CSV converter behind `tributary aggregate`.

use crate::error::fail;
use crate::interval::parse_interval;
use napi::bindgen_prelude::Buffer;
use napi::{Env, Result};
use napi_derive::napi;
use tributary_core::aggregator::QuoteRule;
use tributary_core::kline_csv::{AggregateCsvError, AggregateSummary, KlineCsvOptions, KlineCsvStream};
use tributary_core::{Decimal, Name};

/// Counters of a conversion so far.
#[napi(object)]
pub struct KlineCsvSummary {
    /// Kline rows written (header not counted) and how many were empty bars.
    pub rows: i64,
    pub empty_rows: i64,
    /// Trade rows read, applied or dropped.
    pub trades: i64,
    /// Trades dropped because their id was already seen (duplicate) or below the last one (late).
    pub duplicates: i64,
    pub late: i64,
    /// Id gaps and the number of ids missing in them.
    pub gaps: i64,
    pub missing_ids: i64,
}

impl From<AggregateSummary> for KlineCsvSummary {
    fn from(s: AggregateSummary) -> Self {
        KlineCsvSummary {
            rows: s.rows as i64,
            empty_rows: s.empty_rows as i64,
            trades: s.trades_read as i64,
            duplicates: s.stats.duplicates as i64,
            late: s.stats.late as i64,
            gaps: s.stats.gaps as i64,
            missing_ids: s.stats.missing_ids as i64,
        }
    }
}

fn csv_error(env: &Env, error: AggregateCsvError) -> napi::Error {
    let code = match &error {
        AggregateCsvError::Interval(_) => "invalid_interval",
        AggregateCsvError::Csv(_) => "bad_csv_row",
        AggregateCsvError::Trade { .. } => "bad_trade",
        AggregateCsvError::IdOutOfOrder { .. } | AggregateCsvError::TimeOutOfOrder { .. } => "out_of_order",
        AggregateCsvError::QuoteRounding { .. } => "bad_trade",
        AggregateCsvError::Write(_) => "write_failed",
    };
    fail(env, code, error)
}

/// Converts an aggTrades CSV dump, pushed in chunks split anywhere, into kline CSV rows.
#[napi]
pub struct KlineCsvAggregator {
    stream: KlineCsvStream,
    out: Vec<u8>,
}

#[napi]
impl KlineCsvAggregator {
    /// A converter for `symbol`'s trades into `interval` klines, optionally with the header row.
    /// `contract_size` (a positive decimal) marks an inverse (COIN-M) contract: quote columns are
    /// then base asset volumes, `qty × contract_size ÷ price`.
    #[napi(constructor)]
    pub fn new(
        env: Env,
        symbol: String,
        interval: String,
        header: bool,
        contract_size: Option<String>,
    ) -> Result<Self> {
        let symbol = Name::new(&symbol).map_err(|e| fail(&env, "invalid_symbol", e))?;
        let interval = parse_interval(&env, &interval)?;
        let quote = match contract_size {
            None => QuoteRule::Linear,
            Some(text) => {
                let contract_size = Decimal::parse(&text).map_err(|e| fail(&env, "invalid_contract_size", e))?;
                if !contract_size.is_positive() {
                    return Err(fail(&env, "invalid_contract_size", format!("{text} is not positive")));
                }
                QuoteRule::Inverse { contract_size }
            }
        };
        let stream =
            KlineCsvStream::new(symbol, interval, KlineCsvOptions { header, quote }).map_err(|e| csv_error(&env, e))?;
        Ok(KlineCsvAggregator {
            stream,
            out: Vec::with_capacity(1 << 16),
        })
    }

    /// Feeds the next chunk of the dump; returns the kline rows it completed (possibly empty).
    #[napi]
    pub fn push(&mut self, env: Env, chunk: &[u8]) -> Result<Buffer> {
        self.out.clear();
        self.stream.push(chunk, &mut self.out).map_err(|e| csv_error(&env, e))?;
        Ok(Buffer::from(self.out.as_slice()))
    }

    /// Ends the input; returns the last rows.
    #[napi]
    pub fn finish(&mut self, env: Env) -> Result<Buffer> {
        self.out.clear();
        self.stream.finish(&mut self.out).map_err(|e| csv_error(&env, e))?;
        Ok(Buffer::from(self.out.as_slice()))
    }

    /// Counters so far.
    #[napi]
    pub fn summary(&self) -> KlineCsvSummary {
        self.stream.summary().into()
    }
}
