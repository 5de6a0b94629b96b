//! Tributary's native core: exact market types, Binance payload parsers, the hub's merge book,
//! the trader's book, the bar aggregator and the hub frame codec. No Node dependency.

pub mod account;
pub mod admission;
pub mod aggregator;
pub mod aggtrades_csv;
pub mod book_changes;
pub mod book_layout;
mod cache_hint;
pub mod coalesce;
pub mod decimal;
pub mod delta;
pub mod filters;
pub mod frame;
pub mod gathered;
pub mod hub_book;
pub mod ingest;
pub mod interval;
pub mod kline_bases;
pub mod kline_csv;
pub mod market;
pub mod merge_book;
pub mod parse;
pub mod stream_bars;
mod swar;
pub mod symbol;
pub mod topic;
pub mod trader_book;
mod word_map;

pub use account::{AccountSnapshot, Balance, Position, PositionSide, Side, SymbolPosition};
pub use decimal::{Decimal, DecimalError};
pub use delta::{BanList, Delta, KlineWindow, Provenance, Snapshot, SourceId};
pub use interval::Interval;
pub use market::{AggTrade, Kline, KlineEvent, Mark, MarkPrice, SymbolTick, Tick};
pub use symbol::{Asset, Name, Symbol, SymbolId, SymbolRegistry};
