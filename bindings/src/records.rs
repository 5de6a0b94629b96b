//! Core records as plain JS objects (decimals as exact strings) and back.

use crate::error::fail;
use napi::{Env, Result};
use napi_derive::napi;
use tributary_core::{
    AggTrade, Balance, BanList, Decimal, Kline, Mark, MarkPrice, Name, Position, PositionSide, SymbolId, Tick,
};

/// Parses a decimal string from JS; the error names the field.
fn decimal(env: &Env, field: &str, text: &str) -> Result<Decimal> {
    Decimal::parse(text).map_err(|e| fail(env, "invalid_decimal", format!("{field}: {text:?}: {e}")))
}

fn optional_decimal(env: &Env, field: &str, text: &Option<String>) -> Result<Option<Decimal>> {
    text.as_deref().map(|t| decimal(env, field, t)).transpose()
}

fn optional_string(value: Option<Decimal>) -> Option<String> {
    value.map(|d| d.to_string())
}

/// Largest integer a JS number holds exactly (`Number.MAX_SAFE_INTEGER`).
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// An integer field from JS: a JS number is a double, so anything but a whole number within
/// ±(2^53 − 1) would be silently truncated or rounded on its way to an i64; it is refused instead.
fn integer(env: &Env, field: &str, value: f64) -> Result<i64> {
    if value.is_finite() && value.fract() == 0.0 && value.abs() <= MAX_SAFE_INTEGER {
        Ok(value as i64)
    } else {
        Err(fail(
            env,
            "invalid_value",
            format!("{field}: {value} is not a whole number within ±(2^53 − 1)"),
        ))
    }
}

/// An unsigned integer field from JS (see [`integer`]).
fn unsigned(env: &Env, field: &str, value: f64) -> Result<u64> {
    let v = integer(env, field, value)?;
    u64::try_from(v).map_err(|_| fail(env, "invalid_value", format!("{field}: {v} is negative")))
}

fn optional_unsigned(env: &Env, field: &str, value: Option<f64>) -> Result<Option<u64>> {
    value.map(|v| unsigned(env, field, v)).transpose()
}

/// An integer for JS. Exact up to 2^53; the core's counts, ids and times stay far below it.
fn number(value: i64) -> f64 {
    value as f64
}

/// A kline; decimals are exact strings.
#[napi(object)]
#[derive(Clone)]
pub struct KlineObject {
    pub open_time: f64,
    pub close_time: f64,
    pub open: String,
    pub high: String,
    pub low: String,
    pub close: String,
    pub volume: String,
    pub quote_volume: String,
    pub trades: f64,
    pub taker_buy_volume: String,
    pub taker_buy_quote_volume: String,
    pub first_trade_id: Option<f64>,
    pub last_trade_id: Option<f64>,
    pub closed: bool,
    /// Exchange time of the newest information in the bar; 0 when unknown.
    pub as_of: f64,
}

impl From<&Kline> for KlineObject {
    fn from(k: &Kline) -> Self {
        KlineObject {
            open_time: number(k.open_time),
            close_time: number(k.close_time),
            open: k.open.to_string(),
            high: k.high.to_string(),
            low: k.low.to_string(),
            close: k.close.to_string(),
            volume: k.volume.to_string(),
            quote_volume: k.quote_volume.to_string(),
            trades: k.trades as f64,
            taker_buy_volume: k.taker_buy_volume.to_string(),
            taker_buy_quote_volume: k.taker_buy_quote_volume.to_string(),
            first_trade_id: k.first_trade_id.map(|v| v as f64),
            last_trade_id: k.last_trade_id.map(|v| v as f64),
            closed: k.closed,
            as_of: number(k.as_of),
        }
    }
}

impl KlineObject {
    /// The core kline; a bad decimal or a negative count is a JS error naming the field.
    pub fn to_core(&self, env: &Env) -> Result<Kline> {
        Ok(Kline {
            open_time: integer(env, "openTime", self.open_time)?,
            close_time: integer(env, "closeTime", self.close_time)?,
            open: decimal(env, "open", &self.open)?,
            high: decimal(env, "high", &self.high)?,
            low: decimal(env, "low", &self.low)?,
            close: decimal(env, "close", &self.close)?,
            volume: decimal(env, "volume", &self.volume)?,
            quote_volume: decimal(env, "quoteVolume", &self.quote_volume)?,
            trades: unsigned(env, "trades", self.trades)?,
            taker_buy_volume: decimal(env, "takerBuyVolume", &self.taker_buy_volume)?,
            taker_buy_quote_volume: decimal(env, "takerBuyQuoteVolume", &self.taker_buy_quote_volume)?,
            first_trade_id: optional_unsigned(env, "firstTradeId", self.first_trade_id)?,
            last_trade_id: optional_unsigned(env, "lastTradeId", self.last_trade_id)?,
            closed: self.closed,
            as_of: integer(env, "asOf", self.as_of)?,
        })
    }
}

/// Top of book with its exchange time.
#[napi(object)]
#[derive(Clone)]
pub struct TickObject {
    pub bid: String,
    pub bid_qty: String,
    pub ask: String,
    pub ask_qty: String,
    pub last: Option<String>,
    pub time: f64,
    pub update_id: Option<f64>,
}

impl From<&Tick> for TickObject {
    fn from(t: &Tick) -> Self {
        TickObject {
            bid: t.bid.to_string(),
            bid_qty: t.bid_qty.to_string(),
            ask: t.ask.to_string(),
            ask_qty: t.ask_qty.to_string(),
            last: optional_string(t.last),
            time: number(t.time),
            update_id: t.update_id.map(|v| v as f64),
        }
    }
}

impl TickObject {
    pub fn to_core(&self, env: &Env) -> Result<Tick> {
        Ok(Tick {
            bid: decimal(env, "bid", &self.bid)?,
            bid_qty: decimal(env, "bidQty", &self.bid_qty)?,
            ask: decimal(env, "ask", &self.ask)?,
            ask_qty: decimal(env, "askQty", &self.ask_qty)?,
            last: optional_decimal(env, "last", &self.last)?,
            time: integer(env, "time", self.time)?,
            update_id: optional_unsigned(env, "updateId", self.update_id)?,
        })
    }
}

/// Mark price, index price and funding of one symbol at exchange time `time` (the hub's mark
/// entity, from `!markPrice@arr@1s` or REST `premiumIndex`).
#[napi(object)]
#[derive(Clone)]
pub struct MarkObject {
    pub time: f64,
    pub mark_price: String,
    pub index_price: String,
    pub estimated_settle_price: String,
    pub funding_rate: String,
    pub next_funding_time: f64,
}

impl From<&Mark> for MarkObject {
    fn from(m: &Mark) -> Self {
        MarkObject {
            time: number(m.time),
            mark_price: m.mark_price.to_string(),
            index_price: m.index_price.to_string(),
            estimated_settle_price: m.estimated_settle_price.to_string(),
            funding_rate: m.funding_rate.to_string(),
            next_funding_time: number(m.next_funding_time),
        }
    }
}

impl MarkObject {
    pub fn to_core(&self, env: &Env) -> Result<Mark> {
        Ok(Mark {
            time: integer(env, "time", self.time)?,
            mark_price: decimal(env, "markPrice", &self.mark_price)?,
            index_price: decimal(env, "indexPrice", &self.index_price)?,
            estimated_settle_price: decimal(env, "estimatedSettlePrice", &self.estimated_settle_price)?,
            funding_rate: decimal(env, "fundingRate", &self.funding_rate)?,
            next_funding_time: integer(env, "nextFundingTime", self.next_funding_time)?,
        })
    }
}

/// `BOTH`, `LONG` or `SHORT`.
pub fn position_side(env: &Env, text: &str) -> Result<PositionSide> {
    text.parse::<PositionSide>().map_err(|e| fail(env, "invalid_value", e))
}

/// One position; `side` is `BOTH`, `LONG` or `SHORT`; absent fields were not in the source.
#[napi(object)]
#[derive(Clone)]
pub struct PositionObject {
    pub side: String,
    pub amount: String,
    pub entry_price: Option<String>,
    pub break_even_price: Option<String>,
    pub unrealized_pnl: Option<String>,
    pub mark_price: Option<String>,
    pub isolated_wallet: Option<String>,
    pub update_time: f64,
}

impl From<&Position> for PositionObject {
    fn from(p: &Position) -> Self {
        PositionObject {
            side: p.side.as_str().to_owned(),
            amount: p.amount.to_string(),
            entry_price: optional_string(p.entry_price),
            break_even_price: optional_string(p.break_even_price),
            unrealized_pnl: optional_string(p.unrealized_pnl),
            mark_price: optional_string(p.mark_price),
            isolated_wallet: optional_string(p.isolated_wallet),
            update_time: number(p.update_time),
        }
    }
}

impl PositionObject {
    pub fn to_core(&self, env: &Env) -> Result<Position> {
        Ok(Position {
            side: position_side(env, &self.side)?,
            amount: decimal(env, "amount", &self.amount)?,
            entry_price: optional_decimal(env, "entryPrice", &self.entry_price)?,
            break_even_price: optional_decimal(env, "breakEvenPrice", &self.break_even_price)?,
            unrealized_pnl: optional_decimal(env, "unrealizedPnl", &self.unrealized_pnl)?,
            mark_price: optional_decimal(env, "markPrice", &self.mark_price)?,
            isolated_wallet: optional_decimal(env, "isolatedWallet", &self.isolated_wallet)?,
            update_time: integer(env, "updateTime", self.update_time)?,
        })
    }
}

/// One margin asset's balance.
#[napi(object)]
#[derive(Clone)]
pub struct BalanceObject {
    pub asset: String,
    pub wallet_balance: String,
    pub cross_wallet_balance: Option<String>,
    pub available_balance: Option<String>,
    pub unrealized_pnl: Option<String>,
    pub update_time: f64,
}

impl From<&Balance> for BalanceObject {
    fn from(b: &Balance) -> Self {
        BalanceObject {
            asset: b.asset.to_string(),
            wallet_balance: b.wallet_balance.to_string(),
            cross_wallet_balance: optional_string(b.cross_wallet_balance),
            available_balance: optional_string(b.available_balance),
            unrealized_pnl: optional_string(b.unrealized_pnl),
            update_time: number(b.update_time),
        }
    }
}

impl BalanceObject {
    pub fn to_core(&self, env: &Env) -> Result<Balance> {
        Ok(Balance {
            asset: name(env, "asset", &self.asset)?,
            wallet_balance: decimal(env, "walletBalance", &self.wallet_balance)?,
            cross_wallet_balance: optional_decimal(env, "crossWalletBalance", &self.cross_wallet_balance)?,
            available_balance: optional_decimal(env, "availableBalance", &self.available_balance)?,
            unrealized_pnl: optional_decimal(env, "unrealizedPnl", &self.unrealized_pnl)?,
            update_time: integer(env, "updateTime", self.update_time)?,
        })
    }
}

/// A symbol or asset name from JS.
pub fn name(env: &Env, field: &str, text: &str) -> Result<Name> {
    Name::new(text).map_err(|e| fail(env, "invalid_name", format!("{field}: {text:?}: {e}")))
}

/// The ban list: `all` stops every symbol.
#[napi(object)]
#[derive(Clone)]
pub struct BanListObject {
    pub all: bool,
    pub symbols: Vec<u32>,
}

impl From<&BanList> for BanListObject {
    fn from(b: &BanList) -> Self {
        BanListObject {
            all: b.all,
            symbols: b.symbols.iter().map(|s| s.0).collect(),
        }
    }
}

impl BanListObject {
    pub fn to_core(&self) -> BanList {
        BanList::new(self.all, self.symbols.iter().map(|&s| SymbolId(s)).collect())
    }
}

/// One aggregate trade.
#[napi(object)]
pub struct AggTradeObject {
    pub symbol: String,
    pub id: i64,
    pub price: String,
    pub quantity: String,
    pub first_trade_id: i64,
    pub last_trade_id: i64,
    pub trade_time: i64,
    pub event_time: i64,
    pub buyer_is_maker: bool,
}

impl From<&AggTrade> for AggTradeObject {
    fn from(t: &AggTrade) -> Self {
        AggTradeObject {
            symbol: t.symbol.to_string(),
            id: t.id as i64,
            price: t.price.to_string(),
            quantity: t.quantity.to_string(),
            first_trade_id: t.first_trade_id as i64,
            last_trade_id: t.last_trade_id as i64,
            trade_time: t.trade_time,
            event_time: t.event_time,
            buyer_is_maker: t.buyer_is_maker,
        }
    }
}

/// A `markPriceUpdate` event.
#[napi(object)]
pub struct MarkPriceObject {
    pub symbol: String,
    pub event_time: i64,
    pub mark_price: String,
    pub index_price: String,
    pub estimated_settle_price: String,
    pub funding_rate: String,
    pub next_funding_time: i64,
}

impl From<&MarkPrice> for MarkPriceObject {
    fn from(m: &MarkPrice) -> Self {
        MarkPriceObject {
            symbol: m.symbol.to_string(),
            event_time: m.event_time,
            mark_price: m.mark_price.to_string(),
            index_price: m.index_price.to_string(),
            estimated_settle_price: m.estimated_settle_price.to_string(),
            funding_rate: m.funding_rate.to_string(),
            next_funding_time: m.next_funding_time,
        }
    }
}
