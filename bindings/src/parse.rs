//! Binance payload parsers for JS: raw bytes in, plain objects with exact decimal strings out.

use crate::error::fail;
use crate::records::{AggTradeObject, BalanceObject, KlineObject, MarkPriceObject, PositionObject, TickObject};
use napi::bindgen_prelude::BufferSlice;
use napi::{Env, Result};
use napi_derive::napi;
use tributary_core::parse::{self, AlgoUpdate, MarketEvent, OrderUpdate, ParseError, UserEvent};
use tributary_core::{Decimal, KlineEvent, SymbolPosition, SymbolTick};

fn parse_failed(env: &Env, error: ParseError) -> napi::Error {
    fail(env, error.reason(), error)
}

fn opt(value: Option<Decimal>) -> Option<String> {
    value.map(|d| d.to_string())
}

/// A websocket `kline` event.
#[napi(object)]
pub struct KlineEventObject {
    pub symbol: String,
    pub interval: String,
    pub event_time: i64,
    pub kline: KlineObject,
}

impl From<&KlineEvent> for KlineEventObject {
    fn from(e: &KlineEvent) -> Self {
        KlineEventObject {
            symbol: e.symbol.to_string(),
            interval: e.interval.as_str().to_owned(),
            event_time: e.event_time,
            kline: (&e.kline).into(),
        }
    }
}

/// A tick with its symbol (`bookTicker` event or REST row).
#[napi(object)]
pub struct SymbolTickObject {
    pub symbol: String,
    pub tick: TickObject,
}

impl From<&SymbolTick> for SymbolTickObject {
    fn from(t: &SymbolTick) -> Self {
        SymbolTickObject {
            symbol: t.symbol.to_string(),
            tick: (&t.tick).into(),
        }
    }
}

/// A position with its symbol.
#[napi(object)]
pub struct SymbolPositionObject {
    pub symbol: String,
    pub position: PositionObject,
}

impl From<&SymbolPosition> for SymbolPositionObject {
    fn from(p: &SymbolPosition) -> Self {
        SymbolPositionObject {
            symbol: p.symbol.to_string(),
            position: (&p.position).into(),
        }
    }
}

/// One market event; exactly the field named by `kind` is present.
#[napi(object)]
pub struct MarketEventObject {
    #[napi(ts_type = "'aggTrade' | 'kline' | 'bookTicker' | 'markPrice'")]
    pub kind: String,
    pub agg_trade: Option<AggTradeObject>,
    pub kline: Option<KlineEventObject>,
    pub book_ticker: Option<SymbolTickObject>,
    pub mark_price: Option<MarkPriceObject>,
}

impl From<&MarketEvent> for MarketEventObject {
    fn from(e: &MarketEvent) -> Self {
        let mut o = MarketEventObject {
            kind: String::new(),
            agg_trade: None,
            kline: None,
            book_ticker: None,
            mark_price: None,
        };
        match e {
            MarketEvent::AggTrade(t) => {
                o.kind = "aggTrade".into();
                o.agg_trade = Some(t.into());
            }
            MarketEvent::Kline(k) => {
                o.kind = "kline".into();
                o.kline = Some(k.into());
            }
            MarketEvent::BookTicker(t) => {
                o.kind = "bookTicker".into();
                o.book_ticker = Some(t.into());
            }
            MarketEvent::MarkPrice(m) => {
                o.kind = "markPrice".into();
                o.mark_price = Some(m.into());
            }
        }
        o
    }
}

/// A parse failure inside a batch: the message's position, the reason label and the message.
#[napi(object)]
pub struct ParseFailure {
    pub index: u32,
    pub code: String,
    pub message: String,
}

impl ParseFailure {
    /// The failure of input `index` with the core's reason label and message.
    pub fn new(index: usize, code: &str, error: &impl std::fmt::Display) -> Self {
        ParseFailure {
            index: index as u32,
            code: code.to_owned(),
            message: error.to_string(),
        }
    }
}

/// A batch of market events: the parsed ones in order, and the failures.
#[napi(object)]
pub struct MarketEventBatch {
    pub events: Vec<MarketEventObject>,
    pub failures: Vec<ParseFailure>,
}

/// Parses one websocket market message (plain event or combined-stream envelope).
#[napi]
pub fn parse_market_event(env: Env, message: &[u8]) -> Result<MarketEventObject> {
    parse::parse_market_event(message)
        .map(|e| (&e).into())
        .map_err(|e| parse_failed(&env, e))
}

/// Parses many market messages in one call; failures are reported beside the events, never thrown.
#[napi]
pub fn parse_market_events(messages: Vec<BufferSlice>) -> MarketEventBatch {
    let mut batch = MarketEventBatch {
        events: Vec::with_capacity(messages.len()),
        failures: Vec::new(),
    };
    for (index, message) in messages.iter().enumerate() {
        match parse::parse_market_event(message) {
            Ok(e) => batch.events.push((&e).into()),
            Err(e) => batch.failures.push(ParseFailure::new(index, e.reason(), &e)),
        }
    }
    batch
}

/// Parses a `GET /fapi/v1/klines` body; bars closing before `serverTimeMs` are marked closed.
#[napi]
pub fn parse_rest_klines(env: Env, body: &[u8], server_time_ms: i64) -> Result<Vec<KlineObject>> {
    parse::parse_rest_klines(body, server_time_ms)
        .map(|ks| ks.iter().map(Into::into).collect())
        .map_err(|e| parse_failed(&env, e))
}

/// Parses a `GET /fapi/v1/ticker/bookTicker` body (one object or an array).
#[napi]
pub fn parse_rest_book_tickers(env: Env, body: &[u8]) -> Result<Vec<SymbolTickObject>> {
    parse::parse_rest_book_tickers(body)
        .map(|ts| ts.iter().map(Into::into).collect())
        .map_err(|e| parse_failed(&env, e))
}

/// Positions and balances of a `GET /fapi/v3/account` (or v2) body.
#[napi(object)]
pub struct AccountObject {
    pub positions: Vec<SymbolPositionObject>,
    pub balances: Vec<BalanceObject>,
}

/// Parses a `GET /fapi/v3/account` or `/fapi/v2/account` body.
#[napi]
pub fn parse_account(env: Env, body: &[u8]) -> Result<AccountObject> {
    let account = parse::parse_account(body).map_err(|e| parse_failed(&env, e))?;
    Ok(AccountObject {
        positions: account.positions.iter().map(Into::into).collect(),
        balances: account.balances.iter().map(Into::into).collect(),
    })
}

/// Parses a `GET /fapi/v3/positionRisk` or `/fapi/v2/positionRisk` body.
#[napi]
pub fn parse_position_risk(env: Env, body: &[u8]) -> Result<Vec<SymbolPositionObject>> {
    parse::parse_position_risk(body)
        .map(|ps| ps.iter().map(Into::into).collect())
        .map_err(|e| parse_failed(&env, e))
}

/// An `ACCOUNT_UPDATE`: every position and balance carries the transaction time `T`.
#[napi(object)]
pub struct AccountUpdateObject {
    pub event_time: i64,
    pub transaction_time: i64,
    pub reason: String,
    pub balances: Vec<BalanceObject>,
    pub positions: Vec<SymbolPositionObject>,
}

/// An `ORDER_TRADE_UPDATE`; enum values are Binance's own strings.
#[napi(object)]
pub struct OrderUpdateObject {
    pub event_time: i64,
    pub transaction_time: i64,
    pub symbol: String,
    pub client_order_id: String,
    pub side: String,
    pub order_type: String,
    pub time_in_force: String,
    pub original_quantity: String,
    pub price: String,
    pub average_price: String,
    pub stop_price: Option<String>,
    pub execution_type: String,
    pub status: String,
    /// Binance order ids exceed 2^53: kept as a decimal string.
    pub order_id: String,
    pub last_filled_quantity: String,
    pub cumulative_filled_quantity: String,
    pub last_filled_price: String,
    pub commission_asset: Option<String>,
    pub commission: Option<String>,
    pub trade_time: i64,
    pub trade_id: Option<String>,
    pub is_maker: bool,
    pub reduce_only: bool,
    pub working_type: String,
    pub original_order_type: String,
    pub position_side: String,
    pub close_position: bool,
    pub activation_price: Option<String>,
    pub callback_rate: Option<String>,
    pub realized_profit: String,
    pub self_trade_prevention: Option<String>,
    pub price_match: Option<String>,
    pub good_till_date: Option<i64>,
}

impl From<&OrderUpdate> for OrderUpdateObject {
    fn from(o: &OrderUpdate) -> Self {
        OrderUpdateObject {
            event_time: o.event_time,
            transaction_time: o.transaction_time,
            symbol: o.symbol.to_string(),
            client_order_id: o.client_order_id.clone(),
            side: o.side.as_str().to_owned(),
            order_type: o.order_type.to_string(),
            time_in_force: o.time_in_force.to_string(),
            original_quantity: o.original_quantity.to_string(),
            price: o.price.to_string(),
            average_price: o.average_price.to_string(),
            stop_price: opt(o.stop_price),
            execution_type: o.execution_type.to_string(),
            status: o.status.to_string(),
            order_id: o.order_id.to_string(),
            last_filled_quantity: o.last_filled_quantity.to_string(),
            cumulative_filled_quantity: o.cumulative_filled_quantity.to_string(),
            last_filled_price: o.last_filled_price.to_string(),
            commission_asset: o.commission_asset.map(|a| a.to_string()),
            commission: opt(o.commission),
            trade_time: o.trade_time,
            trade_id: o.trade_id.map(|t| t.to_string()),
            is_maker: o.is_maker,
            reduce_only: o.reduce_only,
            working_type: o.working_type.to_string(),
            original_order_type: o.original_order_type.to_string(),
            position_side: o.position_side.as_str().to_owned(),
            close_position: o.close_position,
            activation_price: opt(o.activation_price),
            callback_rate: opt(o.callback_rate),
            realized_profit: o.realized_profit.to_string(),
            self_trade_prevention: o.self_trade_prevention.as_ref().map(|v| v.to_string()),
            price_match: o.price_match.as_ref().map(|v| v.to_string()),
            good_till_date: o.good_till_date,
        }
    }
}

/// An `ALGO_UPDATE` (conditional orders placed through `/fapi/v1/algoOrder`).
#[napi(object)]
pub struct AlgoUpdateObject {
    pub event_time: i64,
    pub transaction_time: i64,
    pub client_algo_id: String,
    pub algo_id: String,
    pub algo_type: String,
    pub order_type: String,
    pub symbol: String,
    pub side: String,
    pub position_side: String,
    pub time_in_force: String,
    pub quantity: String,
    pub status: String,
    pub order_id: Option<String>,
    pub average_price: Option<String>,
    pub executed_quantity: Option<String>,
    pub actual_order_type: Option<String>,
    pub trigger_price: Option<String>,
    pub price: Option<String>,
    pub self_trade_prevention: Option<String>,
    pub working_type: Option<String>,
    pub price_match: Option<String>,
    pub close_position: bool,
    pub price_protect: bool,
    pub reduce_only: bool,
    pub trigger_time: Option<i64>,
    pub good_till_date: Option<i64>,
    pub reject_reason: Option<String>,
    pub callback_rate: Option<String>,
}

impl From<&AlgoUpdate> for AlgoUpdateObject {
    fn from(a: &AlgoUpdate) -> Self {
        AlgoUpdateObject {
            event_time: a.event_time,
            transaction_time: a.transaction_time,
            client_algo_id: a.client_algo_id.clone(),
            algo_id: a.algo_id.to_string(),
            algo_type: a.algo_type.to_string(),
            order_type: a.order_type.to_string(),
            symbol: a.symbol.to_string(),
            side: a.side.as_str().to_owned(),
            position_side: a.position_side.as_str().to_owned(),
            time_in_force: a.time_in_force.to_string(),
            quantity: a.quantity.to_string(),
            status: a.status.to_string(),
            order_id: a.order_id.map(|v| v.to_string()),
            average_price: opt(a.average_price),
            executed_quantity: opt(a.executed_quantity),
            actual_order_type: a.actual_order_type.as_ref().map(|v| v.to_string()),
            trigger_price: opt(a.trigger_price),
            price: opt(a.price),
            self_trade_prevention: a.self_trade_prevention.as_ref().map(|v| v.to_string()),
            working_type: a.working_type.as_ref().map(|v| v.to_string()),
            price_match: a.price_match.as_ref().map(|v| v.to_string()),
            close_position: a.close_position,
            price_protect: a.price_protect,
            reduce_only: a.reduce_only,
            trigger_time: a.trigger_time,
            good_till_date: a.good_till_date,
            reject_reason: a.reject_reason.clone(),
            callback_rate: opt(a.callback_rate),
        }
    }
}

/// One user-data event; the field named by `kind` is present (`other` carries only the type name).
#[napi(object)]
pub struct UserEventObject {
    #[napi(ts_type = "'accountUpdate' | 'orderTradeUpdate' | 'algoUpdate' | 'listenKeyExpired' | 'other'")]
    pub kind: String,
    pub event_type: String,
    pub event_time: i64,
    pub account_update: Option<AccountUpdateObject>,
    pub order_update: Option<OrderUpdateObject>,
    pub algo_update: Option<AlgoUpdateObject>,
}

/// Parses one user-data stream message.
#[napi]
pub fn parse_user_event(env: Env, message: &[u8]) -> Result<UserEventObject> {
    let event = parse::parse_user_event(message).map_err(|e| parse_failed(&env, e))?;
    let mut o = UserEventObject {
        kind: String::new(),
        event_type: String::new(),
        event_time: 0,
        account_update: None,
        order_update: None,
        algo_update: None,
    };
    match &event {
        UserEvent::AccountUpdate(u) => {
            o.kind = "accountUpdate".into();
            o.event_type = "ACCOUNT_UPDATE".into();
            o.event_time = u.event_time;
            o.account_update = Some(AccountUpdateObject {
                event_time: u.event_time,
                transaction_time: u.transaction_time,
                reason: u.reason.clone(),
                balances: u.balances.iter().map(Into::into).collect(),
                positions: u.positions.iter().map(Into::into).collect(),
            });
        }
        UserEvent::OrderTradeUpdate(u) => {
            o.kind = "orderTradeUpdate".into();
            o.event_type = "ORDER_TRADE_UPDATE".into();
            o.event_time = u.event_time;
            o.order_update = Some(u.into());
        }
        UserEvent::AlgoUpdate(u) => {
            o.kind = "algoUpdate".into();
            o.event_type = "ALGO_UPDATE".into();
            o.event_time = u.event_time;
            o.algo_update = Some(u.into());
        }
        UserEvent::ListenKeyExpired { event_time } => {
            o.kind = "listenKeyExpired".into();
            o.event_type = "listenKeyExpired".into();
            o.event_time = *event_time;
        }
        UserEvent::Other { event_type, event_time } => {
            o.kind = "other".into();
            o.event_type = event_type.clone();
            o.event_time = *event_time;
        }
    }
    Ok(o)
}

/// One contract of exchangeInfo with its filters as exact decimal strings (absent filter: `null`).
#[napi(object)]
pub struct SymbolInfoObject {
    pub symbol: String,
    pub status: String,
    pub contract_type: String,
    pub underlying_type: String,
    pub base_asset: String,
    pub quote_asset: String,
    pub margin_asset: String,
    pub price_precision: u32,
    pub quantity_precision: u32,
    /// Trading, perpetual, quoted in USDT and not index-like: the universe rule.
    pub tradable: bool,
    pub tick_size: Option<String>,
    pub min_price: Option<String>,
    pub max_price: Option<String>,
    pub step_size: Option<String>,
    pub min_qty: Option<String>,
    pub max_qty: Option<String>,
    pub market_step_size: Option<String>,
    pub market_min_qty: Option<String>,
    pub market_max_qty: Option<String>,
    pub min_notional: Option<String>,
    pub multiplier_up: Option<String>,
    pub multiplier_down: Option<String>,
}

/// One rate limit of exchangeInfo; `window_ms` is null for an unknown unit.
#[napi(object)]
pub struct RateLimitObject {
    pub rate_limit_type: String,
    pub window_ms: Option<i64>,
    pub limit: u32,
}

/// A parsed `GET /fapi/v1/exchangeInfo`.
#[napi(object)]
pub struct ExchangeInfoObject {
    pub server_time: i64,
    pub rate_limits: Vec<RateLimitObject>,
    pub symbols: Vec<SymbolInfoObject>,
}

fn symbol_info_object(info: &parse::SymbolInfo) -> SymbolInfoObject {
    let f = &info.filters;
    SymbolInfoObject {
        symbol: info.symbol.as_str().to_owned(),
        status: info.status.as_str().to_owned(),
        contract_type: info.contract_type.as_str().to_owned(),
        underlying_type: info.underlying_type.as_str().to_owned(),
        base_asset: info.base_asset.as_str().to_owned(),
        quote_asset: info.quote_asset.as_str().to_owned(),
        margin_asset: info.margin_asset.as_str().to_owned(),
        price_precision: info.price_precision,
        quantity_precision: info.quantity_precision,
        tradable: info.is_tradable_usdt_perpetual(),
        tick_size: opt(f.price.map(|p| p.tick_size)),
        min_price: opt(f.price.map(|p| p.min_price)),
        max_price: opt(f.price.map(|p| p.max_price)),
        step_size: opt(f.lot_size.map(|l| l.step_size)),
        min_qty: opt(f.lot_size.map(|l| l.min_qty)),
        max_qty: opt(f.lot_size.map(|l| l.max_qty)),
        market_step_size: opt(f.market_lot_size.map(|l| l.step_size)),
        market_min_qty: opt(f.market_lot_size.map(|l| l.min_qty)),
        market_max_qty: opt(f.market_lot_size.map(|l| l.max_qty)),
        min_notional: opt(f.min_notional),
        multiplier_up: opt(f.percent_price.map(|p| p.multiplier_up)),
        multiplier_down: opt(f.percent_price.map(|p| p.multiplier_down)),
    }
}

/// Parses a `GET /fapi/v1/exchangeInfo` body: rate limits and every symbol with its filters.
#[napi]
pub fn parse_exchange_info(env: Env, body: &[u8]) -> Result<ExchangeInfoObject> {
    let info = parse::parse_exchange_info(body).map_err(|e| parse_failed(&env, e))?;
    Ok(ExchangeInfoObject {
        server_time: info.server_time,
        rate_limits: info
            .rate_limits
            .iter()
            .map(|r| RateLimitObject {
                rate_limit_type: r.kind.as_str().to_owned(),
                window_ms: r.window_ms(),
                limit: r.limit,
            })
            .collect(),
        symbols: info.symbols.iter().map(symbol_info_object).collect(),
    })
}
