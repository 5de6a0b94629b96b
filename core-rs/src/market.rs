//! Market records: aggregate trades, klines and top-of-book ticks, as the core keeps them.

use crate::decimal::Decimal;
use crate::interval::Interval;
use crate::symbol::Symbol;

/// One Binance aggregate trade (`aggTrade` event, REST `aggTrades` row or a data.binance.vision CSV row).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AggTrade {
    pub symbol: Symbol,
    /// Aggregate trade id (`a`); strictly increasing per symbol.
    pub id: u64,
    pub price: Decimal,
    pub quantity: Decimal,
    /// First and last underlying trade ids (`f`, `l`); `last_trade_id >= first_trade_id`.
    pub first_trade_id: u64,
    pub last_trade_id: u64,
    /// Trade time (`T`), Unix ms.
    pub trade_time: i64,
    /// Event time (`E`), Unix ms; equals `trade_time` where the source has no event time.
    pub event_time: i64,
    /// `m`: true when the buyer was the maker, so the taker sold.
    pub buyer_is_maker: bool,
}

impl AggTrade {
    /// Underlying trades this aggregate trade stands for (`l − f + 1`).
    pub fn trade_count(&self) -> u64 {
        self.last_trade_id - self.first_trade_id + 1
    }
}

/// One kline (candlestick) with Binance's fields. Symbol and interval are the key it is stored
/// under, not part of the bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kline {
    pub open_time: i64,
    /// The last millisecond inside the bar (`open_time + length − 1`).
    pub close_time: i64,
    pub open: Decimal,
    pub high: Decimal,
    pub low: Decimal,
    pub close: Decimal,
    /// Base asset volume (`v`).
    pub volume: Decimal,
    /// Quote asset volume (`q`).
    pub quote_volume: Decimal,
    /// Underlying trade count (`n`).
    pub trades: u64,
    /// Volume and quote volume of trades whose taker bought (`V`, `Q`).
    pub taker_buy_volume: Decimal,
    pub taker_buy_quote_volume: Decimal,
    /// First and last underlying trade ids (`f`, `L`); `None` where the source has none (REST
    /// arrays) or the bar has no trades (Binance sends -1).
    pub first_trade_id: Option<u64>,
    pub last_trade_id: Option<u64>,
    /// `x`: the bar is final.
    pub closed: bool,
    /// Exchange time of the newest information in the bar (event time `E`, or a tick correction's
    /// time); 0 when unknown (REST).
    pub as_of: i64,
}

/// A kline together with the symbol and interval it belongs to (a websocket `kline` event).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KlineEvent {
    pub symbol: Symbol,
    pub interval: Interval,
    pub event_time: i64,
    pub kline: Kline,
}

/// Top of book for one symbol with the exchange time it describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tick {
    pub bid: Decimal,
    pub bid_qty: Decimal,
    pub ask: Decimal,
    pub ask_qty: Decimal,
    /// Last trade price where the source carries one.
    pub last: Option<Decimal>,
    /// Exchange time of the quote (`T` for bookTicker), Unix ms.
    pub time: i64,
    /// Book update id (`u` / `lastUpdateId`) where the source carries one.
    pub update_id: Option<u64>,
}

impl Tick {
    /// A tick that carries only the latest traded price (REST `ticker/price`, an aggTrade): an
    /// empty book (zero prices and quantities) and `last` at exchange time `time`.
    pub fn traded(last: Decimal, time: i64) -> Tick {
        Tick {
            bid: Decimal::ZERO,
            bid_qty: Decimal::ZERO,
            ask: Decimal::ZERO,
            ask_qty: Decimal::ZERO,
            last: Some(last),
            time,
            update_id: None,
        }
    }

    /// Whether the tick carries a book (either side's price or quantity non-zero); a tick made by
    /// [`Tick::traded`] does not.
    pub fn has_book(&self) -> bool {
        !(self.bid.is_zero() && self.ask.is_zero() && self.bid_qty.is_zero() && self.ask_qty.is_zero())
    }

    /// The exact bid/ask midpoint, for execution and display only: nothing traded there, so it
    /// never enters a kline. `None` when a book side is empty.
    pub fn midpoint(&self) -> Option<Decimal> {
        if !(self.bid.is_positive() && self.ask.is_positive()) {
            return None;
        }
        self.bid.checked_add(&self.ask)?.half().map(|m| m.normalized())
    }
}

/// A tick with its symbol (a `bookTicker` event or a REST `ticker/bookTicker` row).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SymbolTick {
    pub symbol: Symbol,
    pub tick: Tick,
}

/// Mark price, index price and funding of one symbol at one exchange time: the hub's mark entity
/// (from `markPriceUpdate` or REST `premiumIndex`), merged by `time` like a tick.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mark {
    /// Exchange time of the values (`E` of the event, `time` of premiumIndex), Unix ms.
    pub time: i64,
    pub mark_price: Decimal,
    pub index_price: Decimal,
    /// Estimated settle price (`P`); meaningful near delivery, else close to the index.
    pub estimated_settle_price: Decimal,
    /// The funding rate of the current period (`r`, `lastFundingRate`), a signed fraction.
    pub funding_rate: Decimal,
    /// When the next funding is settled, Unix ms.
    pub next_funding_time: i64,
}

/// A `markPriceUpdate` event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MarkPrice {
    pub symbol: Symbol,
    pub event_time: i64,
    pub mark_price: Decimal,
    pub index_price: Decimal,
    /// Estimated settle price (`P`).
    pub estimated_settle_price: Decimal,
    pub funding_rate: Decimal,
    pub next_funding_time: i64,
}

impl MarkPrice {
    /// The event's values as the hub's mark entity, timed by the event time.
    pub fn mark(&self) -> Mark {
        Mark {
            time: self.event_time,
            mark_price: self.mark_price,
            index_price: self.index_price,
            estimated_settle_price: self.estimated_settle_price,
            funding_rate: self.funding_rate,
            next_funding_time: self.next_funding_time,
        }
    }
}
