//! Collector → hub ingest: exchange payloads into records keyed by symbol id, and Ingest frames into the merge book.
//!
//! A collector parses what it read from the exchange into an [`IngestBatch`] (symbols resolved
//! through the hub's registry; symbols the registry does not know, such as non-USDT contracts in
//! an all-symbols poll, are skipped and counted) and sends it as one Ingest frame
//! ([`IngestEncoder`]). The hub applies the frame with [`merge_ingest`]: every record is checked
//! ([`Admission`]) and merged on its own, so one refused record is counted and reported without
//! voiding the rest of the frame ([`IngestReport`]).

use crate::account::{Balance, Position, PositionSide, SymbolPosition};
use crate::admission::{entity_name, Admission, Refusal};
use crate::delta::{BanList, Delta, Provenance, SourceId};
use crate::frame::{Chunk, Frame, FrameEncoder, FrameError, FrameHeader, FrameKind, FramePayload};
use crate::interval::Interval;
use crate::market::{Kline, Mark, Tick};
use crate::merge_book::{MergeBook, MergeOutcome};
use crate::parse::{self, MarketEvent, ParseError, RestPollMemory, UserEvent};
use crate::symbol::{Symbol, SymbolId, SymbolRegistry};

/// Why a payload or frame could not be ingested.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// A market event the merge book does not hold (aggTrades go through the aggregator, mark
    /// prices are not merged).
    #[error("{event} events are not merged; aggTrades go through the aggregator")]
    NotMergeable { event: &'static str },
    /// A frame of another kind where an Ingest frame was expected.
    #[error("expected an ingest frame, got a {kind} frame")]
    NotIngest { kind: &'static str },
}

impl IngestError {
    /// A stable short label for counters.
    pub fn reason(&self) -> &'static str {
        match self {
            IngestError::Parse(e) => e.reason(),
            IngestError::Frame(e) => e.reason(),
            IngestError::NotMergeable { .. } => "not_mergeable",
            IngestError::NotIngest { .. } => "not_ingest",
        }
    }
}

/// Records read by a collector and not yet sent, in the order read.
#[derive(Debug, Default, Clone)]
pub struct IngestBatch {
    records: Vec<Delta>,
    unknown_symbols: u64,
}

impl IngestBatch {
    pub fn new() -> Self {
        Self::default()
    }

    /// The records so far.
    pub fn records(&self) -> &[Delta] {
        &self.records
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Records skipped since the batch was created because the registry did not know their symbol.
    pub fn unknown_symbols(&self) -> u64 {
        self.unknown_symbols
    }

    /// Drops the records (after they were sent); the unknown-symbol counter is kept.
    pub fn clear(&mut self) {
        self.records.clear();
    }

    pub fn push_klines(&mut self, symbol: SymbolId, interval: Interval, klines: &[Kline]) {
        self.records.extend(klines.iter().map(|&kline| Delta::Kline {
            symbol,
            interval,
            kline,
        }));
    }

    pub fn push_tick(&mut self, symbol: SymbolId, tick: Tick) {
        self.records.push(Delta::Tick { symbol, tick });
    }

    pub fn push_mark(&mut self, symbol: SymbolId, mark: Mark) {
        self.records.push(Delta::Mark { symbol, mark });
    }

    pub fn push_position(&mut self, symbol: SymbolId, position: Position) {
        self.records.push(Delta::Position { symbol, position });
    }

    pub fn push_balance(&mut self, balance: Balance) {
        self.records.push(Delta::Balance { balance });
    }

    pub fn set_ban_list(&mut self, list: BanList) {
        self.records.push(Delta::BanList(list));
    }

    /// Says that the positions pushed with it are every non-flat position of the account as of
    /// `as_of` (exchange ms; a time the exchange had surely reached when it made the list): call
    /// it right after pushing a full list (`GET /fapi/v3/account`, `/fapi/v3/positionRisk` without
    /// a symbol), in the same batch. See [`Delta::PositionsComplete`].
    pub fn mark_positions_complete(&mut self, as_of: i64) {
        self.records.push(Delta::PositionsComplete { as_of });
    }

    /// Parses a websocket `kline` or `bookTicker` event and adds it; returns the records added
    /// (0 for an unknown symbol).
    pub fn push_market_event(&mut self, registry: &SymbolRegistry, bytes: &[u8]) -> Result<usize, IngestError> {
        match parse::parse_market_event(bytes)? {
            MarketEvent::Kline(event) => Ok(self.with_symbol(registry, &event.symbol, |batch, symbol| {
                batch.push_klines(symbol, event.interval, &[event.kline]);
            })),
            MarketEvent::BookTicker(t) => Ok(self.with_symbol(registry, &t.symbol, |batch, symbol| {
                batch.push_tick(symbol, t.tick);
            })),
            MarketEvent::AggTrade(_) => Err(IngestError::NotMergeable { event: "aggTrade" }),
            MarketEvent::MarkPrice(m) => Ok(self.with_symbol(registry, &m.symbol, |batch, symbol| {
                batch.push_mark(symbol, m.mark());
            })),
        }
    }

    /// Parses a `!markPrice@arr@1s` message (every symbol's `markPriceUpdate` in one array, plain
    /// or in a combined-stream envelope) and adds the marks of known symbols.
    pub fn push_mark_prices(&mut self, registry: &SymbolRegistry, bytes: &[u8]) -> Result<usize, IngestError> {
        let marks = parse::parse_mark_price_array(bytes)?;
        Ok(marks
            .iter()
            .map(|m| self.with_symbol(registry, &m.symbol, |batch, symbol| batch.push_mark(symbol, m.mark())))
            .sum())
    }

    /// Parses a `GET /fapi/v1/premiumIndex` body (one object or all symbols) and adds the marks
    /// of known symbols: the fallback when the mark price stream is down.
    pub fn push_premium_index(&mut self, registry: &SymbolRegistry, body: &[u8]) -> Result<usize, IngestError> {
        let marks = parse::parse_premium_index(body)?;
        Ok(marks
            .iter()
            .map(|m| self.with_symbol(registry, &m.symbol, |batch, symbol| batch.push_mark(symbol, m.mark())))
            .sum())
    }

    /// Parses a `GET /fapi/v1/klines` body for `symbol`/`interval` and adds its bars.
    pub fn push_rest_klines(
        &mut self,
        symbol: SymbolId,
        interval: Interval,
        body: &[u8],
        server_time_ms: i64,
    ) -> Result<usize, IngestError> {
        let klines = parse::parse_rest_klines(body, server_time_ms)?;
        self.push_klines(symbol, interval, &klines);
        Ok(klines.len())
    }

    /// Parses a `GET /fapi/v1/ticker/bookTicker` body and adds the ticks of known symbols.
    pub fn push_rest_book_tickers(&mut self, registry: &SymbolRegistry, body: &[u8]) -> Result<usize, IngestError> {
        let ticks = parse::parse_rest_book_tickers(body)?;
        Ok(ticks
            .iter()
            .map(|t| self.with_symbol(registry, &t.symbol, |batch, symbol| batch.push_tick(symbol, t.tick)))
            .sum())
    }

    /// Parses a `GET /fapi/v1/ticker/price` body and adds the traded-price ticks of known
    /// symbols (they correct open bars; see [`crate::merge_book::MergeBook::merge_tick`]).
    pub fn push_rest_price_tickers(&mut self, registry: &SymbolRegistry, body: &[u8]) -> Result<usize, IngestError> {
        let ticks = parse::parse_rest_price_tickers(body)?;
        Ok(ticks
            .iter()
            .map(|t| self.with_symbol(registry, &t.symbol, |batch, symbol| batch.push_tick(symbol, t.tick)))
            .sum())
    }

    /// Parses a `GET /fapi/v3/account` (or v2) body and adds its positions and balances.
    pub fn push_account(&mut self, registry: &SymbolRegistry, body: &[u8]) -> Result<usize, IngestError> {
        let account = parse::parse_account(body)?;
        Ok(self.push_positions(registry, &account.positions) + self.push_balances(&account.balances))
    }

    /// Parses a `GET /fapi/v3/positionRisk` (or v2) body and adds its positions.
    pub fn push_position_risk(&mut self, registry: &SymbolRegistry, body: &[u8]) -> Result<usize, IngestError> {
        let positions = parse::parse_position_risk(body)?;
        Ok(self.push_positions(registry, &positions))
    }

    /// Parses a user-data message; an `ACCOUNT_UPDATE` adds its positions and balances, any other
    /// event adds nothing (order events go to the trader and the recorders, not the merge book).
    pub fn push_user_event(&mut self, registry: &SymbolRegistry, bytes: &[u8]) -> Result<usize, IngestError> {
        match parse::parse_user_event(bytes)? {
            UserEvent::AccountUpdate(update) => {
                Ok(self.push_positions(registry, &update.positions) + self.push_balances(&update.balances))
            }
            _ => Ok(0),
        }
    }

    /// Encodes the records as an Ingest frame (the header's kind is set to Ingest).
    pub fn encode<'e>(&self, encoder: &'e mut FrameEncoder, header: &FrameHeader) -> Result<&'e [u8], FrameError> {
        let header = FrameHeader {
            kind: FrameKind::Ingest,
            ..*header
        };
        encoder.encode_deltas(&header, &self.records)
    }

    fn push_positions(&mut self, registry: &SymbolRegistry, positions: &[SymbolPosition]) -> usize {
        positions
            .iter()
            .map(|p| {
                self.with_symbol(registry, &p.symbol, |batch, symbol| {
                    batch.push_position(symbol, p.position)
                })
            })
            .sum()
    }

    fn push_balances(&mut self, balances: &[Balance]) -> usize {
        self.records
            .extend(balances.iter().map(|&balance| Delta::Balance { balance }));
        balances.len()
    }

    /// Runs `add` with the symbol's id, or counts the symbol as unknown; returns records added.
    fn with_symbol(
        &mut self,
        registry: &SymbolRegistry,
        name: &crate::symbol::Symbol,
        add: impl FnOnce(&mut Self, SymbolId),
    ) -> usize {
        match registry.id(name) {
            Some(id) => {
                add(self, id);
                1
            }
            None => {
                self.unknown_symbols += 1;
                0
            }
        }
    }
}

/// A record the hub refused, with the input (frame or message of the batch) it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedRecord {
    /// Index of the frame or message in the batch.
    pub input: usize,
    /// `kline`, `tick`, `position`, `balance` or `banlist`.
    pub entity: &'static str,
    pub refusal: Refusal,
}

/// An input of a batch that could not be used at all (undecodable frame, unparsable payload).
#[derive(Debug)]
pub struct InputFailure {
    /// Index of the frame or message in the batch.
    pub input: usize,
    pub error: IngestError,
}

/// What a batch push of raw messages added to an encoder's records.
#[derive(Debug, Default)]
pub struct PushReport {
    /// Records added.
    pub added: usize,
    /// Messages that could not be parsed (the others were added).
    pub failures: Vec<InputFailure>,
}

/// What a batch of inputs (Ingest frames, raw exchange messages, a REST poll) did to the merge
/// book. Counts of every merge are added up here and nowhere else.
#[derive(Debug, Default)]
pub struct IngestReport {
    /// Records that changed the book (each produced one or more deltas).
    pub changed: usize,
    /// Records that carried nothing the book did not already hold.
    pub unchanged: usize,
    /// Records that lost against the stored value (older, closed bar, fewer trades, ...).
    pub dropped: usize,
    /// Records refused, each with its reason; they changed nothing.
    pub refused: Vec<RefusedRecord>,
    /// Inputs that could not be decoded or parsed.
    pub failures: Vec<InputFailure>,
}

impl IngestReport {
    /// Counts the result of merging one record of input `input`.
    pub fn count(&mut self, input: usize, record: &Delta, result: Result<MergeOutcome, Refusal>) {
        self.count_entity(input, entity_name(record), result);
    }

    /// Counts the result of merging one record of input `input`, an `entity` (`kline`, ...).
    pub fn count_entity(&mut self, input: usize, entity: &'static str, result: Result<MergeOutcome, Refusal>) {
        match result {
            Ok(MergeOutcome::Changed) => self.changed += 1,
            Ok(MergeOutcome::Unchanged) => self.unchanged += 1,
            Ok(MergeOutcome::Dropped(_)) => self.dropped += 1,
            Err(refusal) => self.refused.push(RefusedRecord { input, entity, refusal }),
        }
    }

    /// Records an input that could not be used.
    pub fn fail(&mut self, input: usize, error: IngestError) {
        self.failures.push(InputFailure { input, error });
    }

    /// Records merged (changed + unchanged + dropped + refused).
    pub fn records(&self) -> usize {
        self.changed + self.unchanged + self.dropped + self.refused.len()
    }

    pub fn clear(&mut self) {
        *self = IngestReport::default();
    }
}

/// Checks one record with `admission`, then merges it. Deltas for a real change are appended to
/// `out`; a refused record changes nothing. A [`Delta::PositionsComplete`] merged on its own lists
/// nothing, so it sets every older held position flat: merge it with its positions through
/// [`merge_records`].
pub fn merge_record(
    book: &mut MergeBook,
    record: &Delta,
    from: Provenance,
    admission: &Admission,
    out: &mut Vec<Delta>,
) -> Result<MergeOutcome, Refusal> {
    merge_listed(book, record, &[], from, admission, out)
}

/// [`merge_record`] with the `(symbol, side)` of every position of the record's batch, which a
/// [`Delta::PositionsComplete`] keeps as they are.
fn merge_listed(
    book: &mut MergeBook,
    record: &Delta,
    listed: &[(SymbolId, PositionSide)],
    from: Provenance,
    admission: &Admission,
    out: &mut Vec<Delta>,
) -> Result<MergeOutcome, Refusal> {
    admission.check(record)?;
    let outcome = match record {
        Delta::Kline {
            symbol,
            interval,
            kline,
        } => book.merge_kline(*symbol, *interval, kline, from, out),
        Delta::Tick { symbol, tick } => book.merge_tick(*symbol, tick, from, out),
        Delta::Position { symbol, position } => book.merge_position(*symbol, position, from, out),
        Delta::Balance { balance } => book.merge_balance(balance, from, out),
        Delta::BanList(list) => Ok(book.set_ban_list(list.clone(), from, out)),
        Delta::Mark { symbol, mark } => book.merge_mark(*symbol, mark, from, out),
        Delta::PositionsComplete { as_of } => book.apply_positions_complete(listed, *as_of, from, out),
    };
    Ok(outcome?)
}

/// Merges records one by one (a refused one is reported, the rest still apply), counting them as
/// input `input` of `report`. The hub calls it for a decoded Ingest frame, and directly on an
/// [`IngestBatch`] when a collector runs as a task inside the hub's process (no frame between).
pub fn merge_records(
    book: &mut MergeBook,
    records: &[Delta],
    from: Provenance,
    admission: &Admission,
    out: &mut Vec<Delta>,
    input: usize,
    report: &mut IngestReport,
) {
    // A full positions list keeps what its batch lists: collected only when a batch has one.
    let listed: Vec<(SymbolId, PositionSide)> = if records.iter().any(|r| matches!(r, Delta::PositionsComplete { .. }))
    {
        records
            .iter()
            .filter_map(|r| match r {
                Delta::Position { symbol, position } => Some((*symbol, position.side)),
                _ => None,
            })
            .collect()
    } else {
        Vec::new()
    };
    book.prefetch_for(records);
    for record in records {
        let result = merge_listed(book, record, &listed, from, admission, out);
        report.count(input, record, result);
    }
}

/// Applies a decoded Ingest frame to the merge book, crediting its records to `from` (the hub
/// sets the source to the peer that sent the frame, whatever the frame claims, and the receive
/// time to its own clock). Deltas for every real change are appended to `out`.
pub fn merge_ingest(
    book: &mut MergeBook,
    frame: &Frame,
    from: Provenance,
    admission: &Admission,
    out: &mut Vec<Delta>,
    input: usize,
    report: &mut IngestReport,
) -> Result<(), IngestError> {
    let records = match (&frame.header.kind, &frame.payload) {
        (FrameKind::Ingest, FramePayload::Deltas(records)) => records,
        (kind, _) => return Err(IngestError::NotIngest { kind: kind.as_str() }),
    };
    merge_records(book, records, from, admission, out, input, report);
    Ok(())
}

/// Decodes `bytes` and applies it with [`merge_ingest`]; an undecodable frame is reported as a
/// failure of input `input`, not returned.
pub fn merge_ingest_bytes(
    book: &mut MergeBook,
    bytes: &[u8],
    from: Provenance,
    admission: &Admission,
    out: &mut Vec<Delta>,
    input: usize,
    report: &mut IngestReport,
) {
    let result = crate::frame::decode_frame(bytes)
        .map_err(IngestError::from)
        .and_then(|frame| merge_ingest(book, &frame, from, admission, out, input, report));
    if let Err(error) = result {
        report.fail(input, error);
    }
}

/// A `GET /fapi/v1/klines` body of one series as polled.
#[derive(Clone, Copy, Debug)]
pub struct RestKlinesPoll<'a> {
    pub symbol: SymbolId,
    pub interval: Interval,
    pub body: &'a [u8],
    /// The exchange's time of the response: rows closing before it are closed.
    pub server_time_ms: i64,
}

/// Parses a REST klines poll and merges its bars, for a collector running inside the hub's
/// process: the same result as [`IngestBatch::push_rest_klines`] followed by [`merge_records`]
/// (every bar checked and merged on its own), without copying the bars into records. `memory`
/// keeps each series' last body between polls, so the rows a poll repeats are not parsed again
/// ([`RestPollMemory`]). A body that does not parse merges nothing and is returned as the error.
pub fn merge_rest_klines(
    book: &mut MergeBook,
    poll: RestKlinesPoll<'_>,
    from: Provenance,
    admission: &Admission,
    memory: &mut RestPollMemory,
    out: &mut Vec<Delta>,
    report: &mut IngestReport,
) -> Result<(), IngestError> {
    let rows = memory.parse(poll.symbol, poll.interval, poll.body, poll.server_time_ms)?;
    for kline in rows {
        let result = admission
            .check_kline(poll.symbol, kline)
            .and_then(|()| Ok(book.merge_kline(poll.symbol, poll.interval, kline, from, out)?));
        report.count_entity(0, "kline", result);
    }
    Ok(())
}

/// A collector's Ingest frames: exchange payloads resolved to the hub's symbol ids (the registry
/// is the hub's, in its order), encoded as frames numbered 1, 2, ... per encoder.
pub struct IngestEncoder {
    registry: SymbolRegistry,
    batch: IngestBatch,
    encoder: FrameEncoder,
    next_seq: u64,
}

impl IngestEncoder {
    /// An encoder whose symbol ids are the positions of `symbols`.
    pub fn new(symbols: impl IntoIterator<Item = Symbol>) -> IngestEncoder {
        let mut encoder = IngestEncoder {
            registry: SymbolRegistry::new(),
            batch: IngestBatch::new(),
            encoder: FrameEncoder::new(),
            next_seq: 1,
        };
        encoder.add_symbols(symbols);
        encoder
    }

    /// Appends symbols to the registry (ids continue; known names keep theirs).
    pub fn add_symbols(&mut self, symbols: impl IntoIterator<Item = Symbol>) {
        for symbol in symbols {
            self.registry.intern(symbol);
        }
    }

    pub fn registry(&self) -> &SymbolRegistry {
        &self.registry
    }

    /// The records waiting to be sent.
    pub fn batch(&self) -> &IngestBatch {
        &self.batch
    }

    /// The batch, to push records already keyed by id.
    pub fn batch_mut(&mut self) -> &mut IngestBatch {
        &mut self.batch
    }

    /// See [`IngestBatch::push_market_event`].
    pub fn push_market_event(&mut self, bytes: &[u8]) -> Result<usize, IngestError> {
        self.batch.push_market_event(&self.registry, bytes)
    }

    /// Pushes many websocket messages in one call: a message that does not parse is a failure of
    /// its index (the others still count), so one bad message never loses a batch.
    pub fn push_market_events<'m>(&mut self, messages: impl IntoIterator<Item = &'m [u8]>) -> PushReport {
        let mut report = PushReport::default();
        for (input, message) in messages.into_iter().enumerate() {
            match self.batch.push_market_event(&self.registry, message) {
                Ok(n) => report.added += n,
                Err(error) => report.failures.push(InputFailure { input, error }),
            }
        }
        report
    }

    /// See [`IngestBatch::push_rest_book_tickers`].
    pub fn push_rest_book_tickers(&mut self, body: &[u8]) -> Result<usize, IngestError> {
        self.batch.push_rest_book_tickers(&self.registry, body)
    }

    /// See [`IngestBatch::push_mark_prices`].
    pub fn push_mark_prices(&mut self, bytes: &[u8]) -> Result<usize, IngestError> {
        self.batch.push_mark_prices(&self.registry, bytes)
    }

    /// See [`IngestBatch::push_premium_index`].
    pub fn push_premium_index(&mut self, body: &[u8]) -> Result<usize, IngestError> {
        self.batch.push_premium_index(&self.registry, body)
    }

    /// See [`IngestBatch::push_rest_price_tickers`].
    pub fn push_rest_price_tickers(&mut self, body: &[u8]) -> Result<usize, IngestError> {
        self.batch.push_rest_price_tickers(&self.registry, body)
    }

    /// See [`IngestBatch::push_account`].
    pub fn push_account(&mut self, body: &[u8]) -> Result<usize, IngestError> {
        self.batch.push_account(&self.registry, body)
    }

    /// See [`IngestBatch::push_position_risk`].
    pub fn push_position_risk(&mut self, body: &[u8]) -> Result<usize, IngestError> {
        self.batch.push_position_risk(&self.registry, body)
    }

    /// See [`IngestBatch::push_user_event`].
    pub fn push_user_event(&mut self, bytes: &[u8]) -> Result<usize, IngestError> {
        self.batch.push_user_event(&self.registry, bytes)
    }

    /// Adds bars of the symbol named `symbol` (an aggregator's); returns the bars added (none
    /// when the registry does not know the symbol, which is counted).
    pub fn push_named_klines(&mut self, symbol: &Symbol, interval: Interval, klines: &[Kline]) -> usize {
        match self.registry.id(symbol) {
            Some(id) => {
                self.batch.push_klines(id, interval, klines);
                klines.len()
            }
            None => {
                self.batch.unknown_symbols += 1;
                0
            }
        }
    }

    /// Encodes the waiting records as one Ingest frame from `source` and clears them; `None`
    /// when there is nothing to send. The bytes live until the next call. Records the wire cannot
    /// carry (a value past its range) fail the whole frame: they are dropped with the error, so
    /// one bad record never blocks every frame after it.
    pub fn take_frame(&mut self, source: SourceId, sent_at: i64) -> Result<Option<&[u8]>, FrameError> {
        if self.batch.is_empty() {
            return Ok(None);
        }
        let header = FrameHeader {
            kind: FrameKind::Ingest,
            stream: 0,
            seq: self.next_seq,
            source,
            received_at: sent_at,
            chunk: Chunk::WHOLE,
            turn: 0,
        };
        let bytes = match self.batch.encode(&mut self.encoder, &header) {
            Ok(bytes) => bytes,
            Err(error) => {
                self.batch.clear();
                return Err(error);
            }
        };
        self.batch.clear();
        self.next_seq += 1;
        Ok(Some(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::decode_frame;
    use crate::merge_book::MergeBookConfig;
    use crate::parse::samples;
    use crate::symbol::Name;
    use crate::{Decimal, PositionSide, SourceId};

    fn registry(names: &[&str]) -> SymbolRegistry {
        let mut r = SymbolRegistry::new();
        for n in names {
            r.intern(Name::new(n).unwrap());
        }
        r
    }

    /// Any registered-or-not id at any time: these tests are about merging, not admission.
    fn lenient() -> Admission {
        Admission {
            symbols: u32::MAX,
            now: 0,
            rules: crate::admission::AdmissionRules {
                max_future_ms: i64::MAX,
                max_age_ms: i64::MAX,
            },
        }
    }

    fn header(source: u16) -> FrameHeader {
        FrameHeader {
            kind: FrameKind::Ingest,
            stream: 0,
            seq: 1,
            source: SourceId(source),
            received_at: 5,
            chunk: crate::frame::Chunk::WHOLE,
            turn: 0,
        }
    }

    #[test]
    fn market_events_resolve_symbols_and_skip_unknown_ones() {
        let reg = registry(&["SUSHIUSDT", "CTKUSDT"]);
        let mut batch = IngestBatch::new();
        assert_eq!(batch.push_market_event(&reg, samples::KLINE.as_bytes()).unwrap(), 1);
        assert_eq!(
            batch.push_market_event(&reg, samples::BOOK_TICKER.as_bytes()).unwrap(),
            1
        );
        // BTCUSDT is not registered: skipped and counted, not an error.
        assert_eq!(
            batch
                .push_market_event(&reg, samples::KLINE_NO_TRADES.as_bytes())
                .unwrap(),
            0
        );
        assert_eq!(batch.unknown_symbols(), 1);
        assert!(matches!(
            batch.records()[0],
            Delta::Kline {
                symbol: SymbolId(1),
                interval: Interval::M1,
                ..
            }
        ));
        assert!(matches!(
            batch.records()[1],
            Delta::Tick {
                symbol: SymbolId(0),
                ..
            }
        ));
        let err = batch
            .push_market_event(&reg, samples::AGG_TRADE.as_bytes())
            .unwrap_err();
        assert_eq!(err.reason(), "not_mergeable");
        let err = batch.push_market_event(&reg, b"{\"e\":\"kline\"").unwrap_err();
        assert_eq!(err.reason(), "truncated");
        assert_eq!(batch.len(), 2);
    }

    #[test]
    fn rest_and_account_payloads_become_records() {
        let reg = registry(&["BTCUSDT"]);
        let mut batch = IngestBatch::new();
        assert_eq!(
            batch
                .push_rest_klines(SymbolId(0), Interval::M1, samples::REST_KLINES.as_bytes(), 0)
                .unwrap(),
            2
        );
        // SUSHIUSDT is not registered.
        assert_eq!(
            batch
                .push_rest_book_tickers(&reg, samples::REST_BOOK_TICKERS.as_bytes())
                .unwrap(),
            1
        );
        assert_eq!(batch.push_account(&reg, samples::ACCOUNT_V3.as_bytes()).unwrap(), 2);
        assert_eq!(
            batch.push_user_event(&reg, samples::ACCOUNT_UPDATE.as_bytes()).unwrap(),
            4
        );
        assert_eq!(
            batch
                .push_user_event(&reg, samples::ORDER_TRADE_UPDATE.as_bytes())
                .unwrap(),
            0
        );
        assert_eq!(
            batch
                .push_position_risk(&reg, samples::POSITION_RISK_V2.as_bytes())
                .unwrap(),
            1
        );
        assert_eq!(batch.len(), 10);
        batch.clear();
        assert!(batch.is_empty());
        assert_eq!(batch.unknown_symbols(), 1);
    }

    fn held(side: PositionSide, amount: &str, update_time: i64) -> Position {
        Position {
            side,
            amount: Decimal::parse(amount).unwrap(),
            entry_price: None,
            break_even_price: None,
            unrealized_pnl: None,
            mark_price: None,
            isolated_wallet: None,
            update_time,
        }
    }

    /// Issue 13: v3 leaves flat symbols out, so a position closed while the user stream was down
    /// must become flat from the next full list, through the Ingest frame like any record.
    #[test]
    fn a_full_positions_list_sets_held_positions_it_leaves_out_flat() {
        let (btc, eth, sol) = (SymbolId(0), SymbolId(1), SymbolId(2));
        let mut book = MergeBook::new(MergeBookConfig::default()).unwrap();
        let from = Provenance {
            source: SourceId(4),
            received_at: 9,
        };
        let mut out = Vec::new();
        let mut report = IngestReport::default();
        // From the user stream: BTC long at 100, ETH short opened at 300 (after the list below).
        for (symbol, position) in [
            (btc, held(PositionSide::Both, "0.5", 100)),
            (eth, held(PositionSide::Both, "-1", 300)),
        ] {
            let record = Delta::Position { symbol, position };
            merge_record(&mut book, &record, from, &lenient(), &mut out).unwrap();
        }
        // The list as of 200 holds SOL only; it crosses the wire.
        let mut batch = IngestBatch::new();
        batch.push_position(sol, held(PositionSide::Both, "2", 150));
        batch.mark_positions_complete(200);
        let mut encoder = FrameEncoder::new();
        let frame = decode_frame(batch.encode(&mut encoder, &header(4)).unwrap()).unwrap();
        let FramePayload::Deltas(records) = &frame.payload else {
            panic!("an Ingest frame carries records")
        };
        assert_eq!(records.last(), Some(&Delta::PositionsComplete { as_of: 200 }));
        out.clear();
        merge_ingest(&mut book, &frame, from, &lenient(), &mut out, 0, &mut report).unwrap();
        let amount = |s: SymbolId| {
            book.position(s, PositionSide::Both)
                .map(|(p, _)| (p.amount.to_string(), p.update_time))
        };
        assert_eq!(amount(btc), Some(("0".to_string(), 200)));
        assert_eq!(amount(eth), Some(("-1".to_string(), 300)));
        assert_eq!(amount(sol), Some(("2".to_string(), 150)));
        assert_eq!(out.len(), 2, "SOL's record and BTC set flat: {out:?}");
        assert_eq!(report.changed, 2);
        // The same list again changes nothing: a flat position gets no delta.
        out.clear();
        merge_ingest(&mut book, &frame, from, &lenient(), &mut out, 0, &mut report).unwrap();
        assert!(out.is_empty(), "{out:?}");
        // Only an Ingest frame may carry it.
        let delta = FrameHeader {
            kind: FrameKind::Delta,
            ..header(4)
        };
        assert!(matches!(
            encoder.encode_deltas(&delta, batch.records()),
            Err(FrameError::KindMismatch { .. })
        ));
    }

    #[test]
    fn a_positions_list_from_the_future_is_refused() {
        let admission = Admission {
            symbols: 10,
            now: 1_000_000,
            rules: crate::admission::AdmissionRules::default(),
        };
        let mut book = MergeBook::new(MergeBookConfig::default()).unwrap();
        let from = Provenance::default();
        let far = Delta::PositionsComplete { as_of: i64::MAX / 2 };
        let refusal = merge_record(&mut book, &far, from, &admission, &mut Vec::new()).unwrap_err();
        assert_eq!(refusal.reason(), "time_in_future");
    }

    #[test]
    fn rest_klines_merge_directly_as_through_a_batch() {
        let from = Provenance {
            source: SourceId(3),
            received_at: 9,
        };
        let mut via_batch = MergeBook::new(MergeBookConfig::default()).unwrap();
        let mut direct = via_batch.clone();
        let (mut batch, mut memory) = (IngestBatch::new(), RestPollMemory::new());
        let (mut batch_out, mut direct_out) = (Vec::new(), Vec::new());
        let newer = samples::replaced(samples::REST_KLINES, ",48,", ",49,");
        // The sample's first row is a weekly bar: as a 1m bar it is refused; the second merges,
        // then is unchanged, then changes with one more trade.
        for (body, server_time) in [
            (samples::REST_KLINES, 0),
            (samples::REST_KLINES, 0),
            (newer.as_str(), 0),
            (newer.as_str(), i64::MAX),
        ] {
            batch
                .push_rest_klines(SymbolId(2), Interval::M1, body.as_bytes(), server_time)
                .unwrap();
            let mut expected = IngestReport::default();
            merge_records(
                &mut via_batch,
                batch.records(),
                from,
                &lenient(),
                &mut batch_out,
                0,
                &mut expected,
            );
            batch.clear();
            let mut counts = IngestReport::default();
            merge_rest_klines(
                &mut direct,
                RestKlinesPoll {
                    symbol: SymbolId(2),
                    interval: Interval::M1,
                    body: body.as_bytes(),
                    server_time_ms: server_time,
                },
                from,
                &lenient(),
                &mut memory,
                &mut direct_out,
                &mut counts,
            )
            .unwrap();
            assert_eq!(format!("{counts:?}"), format!("{expected:?}"));
        }
        // The repeated polls took their unchanged rows from the series' last body.
        assert_eq!(memory.stats().parsed_rows + memory.stats().reused_rows, 8);
        assert_eq!(memory.stats().reused_rows, 5);
        assert_eq!(format!("{direct_out:?}"), format!("{batch_out:?}"));
        assert_eq!(direct_out.len(), 3);
        assert_eq!(
            direct.klines(SymbolId(2), Interval::M1),
            via_batch.klines(SymbolId(2), Interval::M1)
        );
        assert_eq!(direct.stats(), via_batch.stats());
        assert_eq!(direct.stats().klines.rejected_invalid, 4);
        // A body that does not parse merges nothing.
        let error = merge_rest_klines(
            &mut direct,
            RestKlinesPoll {
                symbol: SymbolId(2),
                interval: Interval::M1,
                body: b"[[1",
                server_time_ms: 0,
            },
            from,
            &lenient(),
            &mut memory,
            &mut direct_out,
            &mut IngestReport::default(),
        )
        .unwrap_err();
        assert_eq!(error.reason(), "truncated");
        assert_eq!(direct.stats(), via_batch.stats());
        assert_eq!(direct_out.len(), 3);
    }

    #[test]
    fn a_batch_the_wire_cannot_carry_is_dropped_with_the_error_and_the_next_one_encodes() {
        let mut encoder = IngestEncoder::new([Name::new("CTKUSDT").unwrap()]);
        let reg = registry(&["CTKUSDT"]);
        let mut probe = IngestBatch::new();
        probe.push_market_event(&reg, samples::KLINE.as_bytes()).unwrap();
        let mut bar = match probe.records()[0] {
            Delta::Kline { kline, .. } => kline,
            _ => unreachable!(),
        };
        // 1e-18 beside prices of 20 digits: no i64 mantissa holds both at one scale.
        bar.low = Decimal::parse("0.000000000000000001").unwrap();
        bar.high = Decimal::parse("99999999999999999999").unwrap();
        encoder.batch_mut().push_klines(SymbolId(0), Interval::M1, &[bar]);
        assert!(encoder.take_frame(SourceId(1), 5).is_err());
        assert_eq!(encoder.batch().len(), 0);
        encoder.push_market_event(samples::KLINE.as_bytes()).unwrap();
        let bytes = encoder.take_frame(SourceId(1), 5).unwrap().unwrap().to_vec();
        assert_eq!(decode_frame(&bytes).unwrap().header.seq, 1);
    }

    #[test]
    fn an_ingest_frame_merges_record_by_record() {
        let reg = registry(&["CTKUSDT", "SUSHIUSDT", "BTCUSDT"]);
        let mut batch = IngestBatch::new();
        batch.push_market_event(&reg, samples::KLINE.as_bytes()).unwrap();
        batch.push_market_event(&reg, samples::KLINE.as_bytes()).unwrap();
        batch.push_user_event(&reg, samples::ACCOUNT_UPDATE.as_bytes()).unwrap();
        // An invalid bar (high below low) must be refused alone.
        let mut bad = match batch.records()[0] {
            Delta::Kline { kline, .. } => kline,
            _ => unreachable!(),
        };
        bad.open_time += 60_000;
        bad.close_time += 60_000;
        bad.high = Decimal::parse("0.5").unwrap();
        batch.push_klines(SymbolId(0), Interval::M1, &[bad]);

        let mut encoder = FrameEncoder::new();
        let bytes = batch.encode(&mut encoder, &header(7)).unwrap().to_vec();
        let mut book = MergeBook::new(MergeBookConfig::default()).unwrap();
        let mut deltas = Vec::new();
        let from = Provenance {
            source: SourceId(7),
            received_at: 1_000,
        };
        let mut counts = IngestReport::default();
        merge_ingest_bytes(&mut book, &bytes, from, &lenient(), &mut deltas, 3, &mut counts);
        assert!(counts.failures.is_empty());
        assert_eq!(counts.changed, 5, "kline, 2 balances, 2 positions");
        assert_eq!(counts.unchanged, 1, "the kline sent twice");
        assert_eq!(counts.refused.len(), 1);
        assert_eq!(
            (
                counts.refused[0].input,
                counts.refused[0].entity,
                counts.refused[0].refusal.reason()
            ),
            (3, "kline", "invalid_kline")
        );
        assert_eq!(counts.records(), 7);
        assert_eq!(deltas.len(), 5);
        let (position, from) = book.position(SymbolId(2), PositionSide::Long).unwrap();
        assert_eq!(position.amount.to_string(), "20");
        assert_eq!(
            from,
            Provenance {
                source: SourceId(7),
                received_at: 1_000
            }
        );

        // Only Ingest frames are merged.
        let delta_frame = encoder
            .encode_deltas(
                &FrameHeader {
                    kind: FrameKind::Delta,
                    ..header(7)
                },
                &deltas,
            )
            .unwrap()
            .to_vec();
        let frame = decode_frame(&delta_frame).unwrap();
        let mut report = IngestReport::default();
        let err = merge_ingest(&mut book, &frame, from, &lenient(), &mut Vec::new(), 0, &mut report).unwrap_err();
        assert_eq!(err.reason(), "not_ingest");
        merge_ingest_bytes(&mut book, b"garbage", from, &lenient(), &mut Vec::new(), 4, &mut report);
        assert_eq!(report.failures.len(), 1);
        assert_eq!(
            (report.failures[0].input, report.failures[0].error.reason()),
            (4, "bad_identifier")
        );
    }
}
