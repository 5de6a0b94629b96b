//! User-data stream events: `ACCOUNT_UPDATE`, `ORDER_TRADE_UPDATE`, `ALGO_UPDATE`,
//! `listenKeyExpired`, and every other valid event as `Other`.

use super::account::position_side;
use super::envelope::{deserialize_event, event_type, locate, Located};
use super::error::{
    check_len, decimal, id, invalid, name, non_negative, optional_decimal, optional_non_negative, ParseError,
};
use super::order::{
    AlgoStatus, AlgoType, ExecutionType, OrderStatus, OrderType, PriceMatch, SelfTradePrevention, TimeInForce,
    WorkingType,
};
use super::wire::{FlexInt, OptionalId};
use super::MAX_EVENT_BYTES;
use crate::account::{Balance, Position, Side, SymbolPosition};
use crate::decimal::Decimal;
use crate::symbol::{Asset, Symbol};
use serde::Deserialize;
use std::borrow::Cow;

const USER_EVENT: &str = "user event";
const ACCOUNT_UPDATE: &str = "ACCOUNT_UPDATE";
const ORDER_TRADE_UPDATE: &str = "ORDER_TRADE_UPDATE";
const ALGO_UPDATE: &str = "ALGO_UPDATE";
const LISTEN_KEY_EXPIRED: &str = "listenKeyExpired";

/// Longest event type accepted for [`UserEvent::Other`]; real ones are short upper-case words.
const MAX_EVENT_TYPE_LEN: usize = 64;

/// One user-data stream event.
// Variants are moved once after parsing; the order records already own heap strings.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserEvent {
    AccountUpdate(AccountUpdate),
    OrderTradeUpdate(OrderUpdate),
    AlgoUpdate(AlgoUpdate),
    /// The listen key expired: the stream must be recreated.
    ListenKeyExpired {
        event_time: i64,
    },
    /// A valid event this core does not model (`TRADE_LITE`, `MARGIN_CALL`,
    /// `ACCOUNT_CONFIG_UPDATE`, ...). Not an error.
    Other {
        event_type: String,
        event_time: i64,
    },
}

/// `ACCOUNT_UPDATE`: the balances and positions that changed. Every row's `update_time` is the
/// transaction time `T`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountUpdate {
    pub event_time: i64,
    pub transaction_time: i64,
    /// Why the account changed (`m`: `ORDER`, `FUNDING_FEE`, `DEPOSIT`, ...), verbatim.
    pub reason: String,
    pub balances: Vec<Balance>,
    pub positions: Vec<SymbolPosition>,
}

/// `ORDER_TRADE_UPDATE`: the state of one order after a change, with the fill that caused it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderUpdate {
    pub event_time: i64,
    pub transaction_time: i64,
    pub symbol: Symbol,
    /// `c`; `autoclose-…` for liquidations, `adl_autoclose` for ADL.
    pub client_order_id: String,
    pub side: Side,
    pub order_type: OrderType,
    pub time_in_force: TimeInForce,
    pub original_quantity: Decimal,
    /// `p`; 0 for market orders.
    pub price: Decimal,
    pub average_price: Decimal,
    /// `sp`; `None` when the payload omits it.
    pub stop_price: Option<Decimal>,
    pub execution_type: ExecutionType,
    pub status: OrderStatus,
    pub order_id: u64,
    pub last_filled_quantity: Decimal,
    pub cumulative_filled_quantity: Decimal,
    pub last_filled_price: Decimal,
    /// `N`/`n`: pushed only when the update carries a commission.
    pub commission_asset: Option<Asset>,
    pub commission: Option<Decimal>,
    /// `T` of the order object.
    pub trade_time: i64,
    /// `t`; `None` when 0 (no trade in this update).
    pub trade_id: Option<u64>,
    pub is_maker: bool,
    pub reduce_only: bool,
    pub working_type: WorkingType,
    pub original_order_type: OrderType,
    pub position_side: crate::account::PositionSide,
    pub close_position: bool,
    /// `AP` and `cr`: trailing-stop orders only.
    pub activation_price: Option<Decimal>,
    pub callback_rate: Option<Decimal>,
    pub realized_profit: Decimal,
    pub self_trade_prevention: Option<SelfTradePrevention>,
    pub price_match: Option<PriceMatch>,
    /// `gtd`; `None` when 0 (not a GTD order).
    pub good_till_date: Option<i64>,
}

/// `ALGO_UPDATE`: a conditional order placed through `/fapi/v1/algoOrder` changed state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlgoUpdate {
    pub event_time: i64,
    pub transaction_time: i64,
    pub client_algo_id: String,
    pub algo_id: u64,
    pub algo_type: AlgoType,
    pub order_type: OrderType,
    pub symbol: Symbol,
    pub side: Side,
    pub position_side: crate::account::PositionSide,
    pub time_in_force: TimeInForce,
    pub quantity: Decimal,
    pub status: AlgoStatus,
    /// `ai`: the matching-engine order id once triggered.
    pub order_id: Option<u64>,
    /// `ap`, `aq`, `act`: the triggered order in the matching engine, when there is one.
    pub average_price: Option<Decimal>,
    pub executed_quantity: Option<Decimal>,
    pub actual_order_type: Option<OrderType>,
    pub trigger_price: Option<Decimal>,
    pub price: Option<Decimal>,
    pub self_trade_prevention: Option<SelfTradePrevention>,
    pub working_type: Option<WorkingType>,
    pub price_match: Option<PriceMatch>,
    pub close_position: bool,
    pub price_protect: bool,
    pub reduce_only: bool,
    /// `tt`; `None` when 0 (not triggered).
    pub trigger_time: Option<i64>,
    /// `gtd`; `None` when 0.
    pub good_till_date: Option<i64>,
    /// `rm`: why the order failed, when it did.
    pub reject_reason: Option<String>,
    /// `cr`: trailing-stop orders only.
    pub callback_rate: Option<Decimal>,
}

/// Parses a user-data event, raw or in a combined-stream envelope, dispatching on `"e"`.
pub fn parse_user_event(bytes: &[u8]) -> Result<UserEvent, ParseError> {
    check_len(bytes, MAX_EVENT_BYTES)?;
    let located = locate(bytes);
    let event = event_type(USER_EVENT, bytes, located)?;
    match event.as_ref() {
        ACCOUNT_UPDATE => account_update_at(bytes, located).map(UserEvent::AccountUpdate),
        ORDER_TRADE_UPDATE => order_update_at(bytes, located).map(UserEvent::OrderTradeUpdate),
        ALGO_UPDATE => algo_update_at(bytes, located).map(UserEvent::AlgoUpdate),
        LISTEN_KEY_EXPIRED => {
            let header: RawHeader = deserialize_event(LISTEN_KEY_EXPIRED, bytes, located.enveloped)?;
            Ok(UserEvent::ListenKeyExpired {
                event_time: header.event_time.0,
            })
        }
        other => {
            if other.is_empty() || other.len() > MAX_EVENT_TYPE_LEN {
                return Err(invalid(USER_EVENT, "e", other, "not an event type"));
            }
            let header: RawHeader = deserialize_event(USER_EVENT, bytes, located.enveloped)?;
            Ok(UserEvent::Other {
                event_type: other.to_owned(),
                event_time: header.event_time.0,
            })
        }
    }
}

/// The event time of any event; `listenKeyExpired` sends it as a string.
#[derive(Deserialize)]
struct RawHeader {
    #[serde(rename = "E")]
    event_time: FlexInt,
}

fn side(kind: &'static str, field: &'static str, text: &str) -> Result<Side, ParseError> {
    text.parse().map_err(|_| invalid(kind, field, text, "unknown side"))
}

/// A time that uses 0 for "not set".
fn optional_time(value: Option<i64>) -> Option<i64> {
    value.filter(|&t| t != 0)
}

#[derive(Deserialize)]
struct RawAccountUpdate<'a> {
    #[serde(rename = "E")]
    event_time: FlexInt,
    #[serde(rename = "T")]
    transaction_time: i64,
    #[serde(borrow)]
    a: RawAccountData<'a>,
}

#[derive(Deserialize)]
struct RawAccountData<'a> {
    #[serde(borrow)]
    m: Cow<'a, str>,
    #[serde(rename = "B", borrow, default)]
    balances: Vec<RawBalanceRow<'a>>,
    #[serde(rename = "P", borrow, default)]
    positions: Vec<RawPositionRow<'a>>,
}

#[derive(Deserialize)]
struct RawBalanceRow<'a> {
    a: &'a str,
    wb: &'a str,
    cw: &'a str,
}

#[derive(Deserialize)]
struct RawPositionRow<'a> {
    s: &'a str,
    pa: &'a str,
    ep: &'a str,
    #[serde(borrow, default)]
    bep: Option<&'a str>,
    up: &'a str,
    #[serde(borrow, default)]
    iw: Option<&'a str>,
    ps: &'a str,
}

fn account_update_at(bytes: &[u8], located: Located<'_>) -> Result<AccountUpdate, ParseError> {
    const K: &str = ACCOUNT_UPDATE;
    let raw: RawAccountUpdate<'_> = deserialize_event(K, bytes, located.enveloped)?;
    let time = raw.transaction_time;
    let balances = raw
        .a
        .balances
        .iter()
        .map(|b| {
            Ok(Balance {
                asset: name(K, "a.B.a", b.a)?,
                wallet_balance: decimal(K, "a.B.wb", b.wb)?,
                cross_wallet_balance: Some(decimal(K, "a.B.cw", b.cw)?),
                available_balance: None,
                unrealized_pnl: None,
                update_time: time,
            })
        })
        .collect::<Result<Vec<_>, ParseError>>()?;
    let positions = raw
        .a
        .positions
        .iter()
        .map(|p| {
            Ok(SymbolPosition {
                symbol: name(K, "a.P.s", p.s)?,
                position: Position {
                    side: position_side(K, "a.P.ps", p.ps)?,
                    amount: decimal(K, "a.P.pa", p.pa)?,
                    entry_price: Some(non_negative(K, "a.P.ep", p.ep)?),
                    break_even_price: optional_non_negative(K, "a.P.bep", p.bep)?,
                    unrealized_pnl: Some(decimal(K, "a.P.up", p.up)?),
                    mark_price: None,
                    isolated_wallet: optional_decimal(K, "a.P.iw", p.iw)?,
                    update_time: time,
                },
            })
        })
        .collect::<Result<Vec<_>, ParseError>>()?;
    Ok(AccountUpdate {
        event_time: raw.event_time.0,
        transaction_time: time,
        reason: raw.a.m.into_owned(),
        balances,
        positions,
    })
}

#[derive(Deserialize)]
struct RawOrderUpdate<'a> {
    #[serde(rename = "E")]
    event_time: FlexInt,
    #[serde(rename = "T")]
    transaction_time: i64,
    #[serde(borrow)]
    o: RawOrder<'a>,
}

#[derive(Deserialize)]
struct RawOrder<'a> {
    s: &'a str,
    #[serde(borrow)]
    c: Cow<'a, str>,
    #[serde(rename = "S")]
    side: &'a str,
    o: &'a str,
    f: &'a str,
    q: &'a str,
    p: &'a str,
    ap: &'a str,
    #[serde(borrow, default)]
    sp: Option<&'a str>,
    x: &'a str,
    #[serde(rename = "X")]
    status: &'a str,
    i: u64,
    l: &'a str,
    z: &'a str,
    #[serde(rename = "L")]
    last_price: &'a str,
    #[serde(rename = "N", borrow, default)]
    commission_asset: Option<&'a str>,
    #[serde(borrow, default)]
    n: Option<&'a str>,
    #[serde(rename = "T")]
    trade_time: i64,
    t: i64,
    m: bool,
    #[serde(rename = "R")]
    reduce_only: bool,
    wt: &'a str,
    ot: &'a str,
    ps: &'a str,
    cp: bool,
    #[serde(rename = "AP", borrow, default)]
    activation_price: Option<&'a str>,
    #[serde(borrow, default)]
    cr: Option<&'a str>,
    rp: &'a str,
    #[serde(rename = "V", borrow, default)]
    stp: Option<&'a str>,
    #[serde(borrow, default)]
    pm: Option<&'a str>,
    #[serde(default)]
    gtd: Option<i64>,
}

fn order_update_at(bytes: &[u8], located: Located<'_>) -> Result<OrderUpdate, ParseError> {
    const K: &str = ORDER_TRADE_UPDATE;
    let raw: RawOrderUpdate<'_> = deserialize_event(K, bytes, located.enveloped)?;
    let o = raw.o;
    let commission_asset = match o.commission_asset {
        None | Some("") => None,
        Some(asset) => Some(name(K, "o.N", asset)?),
    };
    let trade_id = match o.t {
        0 => None,
        t => Some(id(K, "o.t", t)?),
    };
    Ok(OrderUpdate {
        event_time: raw.event_time.0,
        transaction_time: raw.transaction_time,
        symbol: name(K, "o.s", o.s)?,
        client_order_id: o.c.into_owned(),
        side: side(K, "o.S", o.side)?,
        order_type: OrderType::from_wire(o.o),
        time_in_force: TimeInForce::from_wire(o.f),
        original_quantity: non_negative(K, "o.q", o.q)?,
        price: non_negative(K, "o.p", o.p)?,
        average_price: non_negative(K, "o.ap", o.ap)?,
        stop_price: optional_non_negative(K, "o.sp", o.sp)?,
        execution_type: ExecutionType::from_wire(o.x),
        status: OrderStatus::from_wire(o.status),
        order_id: o.i,
        last_filled_quantity: non_negative(K, "o.l", o.l)?,
        cumulative_filled_quantity: non_negative(K, "o.z", o.z)?,
        last_filled_price: non_negative(K, "o.L", o.last_price)?,
        commission_asset,
        commission: optional_decimal(K, "o.n", o.n)?,
        trade_time: o.trade_time,
        trade_id,
        is_maker: o.m,
        reduce_only: o.reduce_only,
        working_type: WorkingType::from_wire(o.wt),
        original_order_type: OrderType::from_wire(o.ot),
        position_side: position_side(K, "o.ps", o.ps)?,
        close_position: o.cp,
        activation_price: optional_non_negative(K, "o.AP", o.activation_price)?,
        callback_rate: optional_non_negative(K, "o.cr", o.cr)?,
        realized_profit: decimal(K, "o.rp", o.rp)?,
        self_trade_prevention: o.stp.map(SelfTradePrevention::from_wire),
        price_match: o.pm.map(PriceMatch::from_wire),
        good_till_date: optional_time(o.gtd),
    })
}

#[derive(Deserialize)]
struct RawAlgoUpdate<'a> {
    #[serde(rename = "E")]
    event_time: FlexInt,
    #[serde(rename = "T")]
    transaction_time: i64,
    #[serde(borrow)]
    o: RawAlgo<'a>,
}

#[derive(Deserialize)]
struct RawAlgo<'a> {
    #[serde(borrow)]
    caid: Cow<'a, str>,
    aid: u64,
    at: &'a str,
    o: &'a str,
    s: &'a str,
    #[serde(rename = "S")]
    side: &'a str,
    ps: &'a str,
    f: &'a str,
    q: &'a str,
    #[serde(rename = "X")]
    status: &'a str,
    #[serde(default)]
    ai: Option<OptionalId>,
    #[serde(borrow, default)]
    ap: Option<&'a str>,
    #[serde(borrow, default)]
    aq: Option<&'a str>,
    #[serde(borrow, default)]
    act: Option<&'a str>,
    #[serde(borrow, default)]
    tp: Option<&'a str>,
    #[serde(borrow, default)]
    p: Option<&'a str>,
    #[serde(rename = "V", borrow, default)]
    stp: Option<&'a str>,
    #[serde(borrow, default)]
    wt: Option<&'a str>,
    #[serde(borrow, default)]
    pm: Option<&'a str>,
    #[serde(default)]
    cp: bool,
    #[serde(rename = "pP", default)]
    price_protect: bool,
    #[serde(rename = "R", default)]
    reduce_only: bool,
    #[serde(default)]
    tt: Option<i64>,
    #[serde(default)]
    gtd: Option<i64>,
    #[serde(borrow, default)]
    rm: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    cr: Option<&'a str>,
}

fn algo_update_at(bytes: &[u8], located: Located<'_>) -> Result<AlgoUpdate, ParseError> {
    const K: &str = ALGO_UPDATE;
    let raw: RawAlgoUpdate<'_> = deserialize_event(K, bytes, located.enveloped)?;
    let o = raw.o;
    // Before the order reaches the matching engine `act` is absent, "" or "0".
    let actual_order_type = match o.act {
        None | Some("") | Some("0") => None,
        Some(text) => Some(OrderType::from_wire(text)),
    };
    Ok(AlgoUpdate {
        event_time: raw.event_time.0,
        transaction_time: raw.transaction_time,
        client_algo_id: o.caid.into_owned(),
        algo_id: o.aid,
        algo_type: AlgoType::from_wire(o.at),
        order_type: OrderType::from_wire(o.o),
        symbol: name(K, "o.s", o.s)?,
        side: side(K, "o.S", o.side)?,
        position_side: position_side(K, "o.ps", o.ps)?,
        time_in_force: TimeInForce::from_wire(o.f),
        quantity: non_negative(K, "o.q", o.q)?,
        status: AlgoStatus::from_wire(o.status),
        order_id: o.ai.and_then(|id| id.0),
        average_price: optional_non_negative(K, "o.ap", o.ap)?,
        executed_quantity: optional_non_negative(K, "o.aq", o.aq)?,
        actual_order_type,
        trigger_price: optional_non_negative(K, "o.tp", o.tp)?,
        price: optional_non_negative(K, "o.p", o.p)?,
        self_trade_prevention: o.stp.map(SelfTradePrevention::from_wire),
        working_type: o.wt.map(WorkingType::from_wire),
        price_match: o.pm.map(PriceMatch::from_wire),
        close_position: o.cp,
        price_protect: o.price_protect,
        reduce_only: o.reduce_only,
        trigger_time: optional_time(o.tt),
        good_till_date: optional_time(o.gtd),
        reject_reason: o.rm.filter(|r| !r.is_empty()).map(Cow::into_owned),
        callback_rate: optional_non_negative(K, "o.cr", o.cr)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::PositionSide;
    use crate::parse::samples::{self, assert_prefixes_truncated, reason_of, replaced};

    fn dec(s: &str) -> Decimal {
        Decimal::parse(s).unwrap()
    }

    #[test]
    fn account_update_rows_take_the_transaction_time() {
        let UserEvent::AccountUpdate(u) = parse_user_event(samples::ACCOUNT_UPDATE.as_bytes()).unwrap() else {
            panic!("not an account update");
        };
        assert_eq!((u.event_time, u.transaction_time), (1564745798939, 1564745798938));
        assert_eq!(u.reason, "ORDER");
        assert_eq!(u.balances.len(), 2);
        let b = &u.balances[0];
        assert_eq!(b.asset.as_str(), "USDT");
        assert_eq!(b.wallet_balance.to_string(), "122624.12345678");
        assert_eq!(b.cross_wallet_balance.unwrap().to_string(), "100.12345678");
        assert_eq!((b.available_balance, b.unrealized_pnl), (None, None));
        assert_eq!(b.update_time, 1564745798938);
        assert_eq!(u.positions.len(), 2);
        let p = &u.positions[1];
        assert_eq!(p.symbol.as_str(), "BTCUSDT");
        assert_eq!(p.position.side, PositionSide::Long);
        assert_eq!(p.position.amount.to_string(), "20");
        assert_eq!(p.position.entry_price.unwrap().to_string(), "6563.66500");
        assert_eq!(p.position.break_even_price.unwrap().to_string(), "6563.6");
        assert_eq!(p.position.unrealized_pnl.unwrap().to_string(), "2850.21200");
        assert_eq!(p.position.isolated_wallet.unwrap().to_string(), "13200.70726908");
        assert_eq!(p.position.mark_price, None);
        assert_eq!(p.position.update_time, 1564745798938);
        assert_eq!(u.positions[0].position.side, PositionSide::Both);
    }

    #[test]
    fn order_trade_update_every_field() {
        let UserEvent::OrderTradeUpdate(o) = parse_user_event(samples::ORDER_TRADE_UPDATE.as_bytes()).unwrap() else {
            panic!("not an order update");
        };
        assert_eq!((o.event_time, o.transaction_time), (1568879465651, 1568879465650));
        assert_eq!(o.symbol.as_str(), "BTCUSDT");
        assert_eq!(o.client_order_id, "TEST");
        assert_eq!(o.side, Side::Sell);
        assert_eq!(o.order_type, OrderType::TrailingStopMarket);
        assert_eq!(o.time_in_force, TimeInForce::Gtc);
        assert_eq!(o.original_quantity.to_string(), "0.001");
        assert_eq!(o.price.to_string(), "0");
        assert_eq!(o.average_price.to_string(), "0");
        assert_eq!(o.stop_price.unwrap().to_string(), "7103.04");
        assert_eq!(o.execution_type, ExecutionType::New);
        assert_eq!(o.status, OrderStatus::New);
        assert_eq!(o.order_id, 8886774);
        assert_eq!(o.last_filled_quantity, Decimal::ZERO);
        assert_eq!(o.cumulative_filled_quantity, Decimal::ZERO);
        assert_eq!(o.last_filled_price, Decimal::ZERO);
        assert_eq!(o.commission_asset.unwrap().as_str(), "USDT");
        assert_eq!(o.commission, Some(Decimal::ZERO));
        assert_eq!(o.trade_time, 1568879465650);
        assert_eq!(o.trade_id, None);
        assert!(!o.is_maker && !o.reduce_only && !o.close_position);
        assert_eq!(o.working_type, WorkingType::ContractPrice);
        assert_eq!(o.original_order_type, OrderType::TrailingStopMarket);
        assert_eq!(o.position_side, PositionSide::Long);
        assert_eq!(o.activation_price.unwrap().to_string(), "7476.89");
        assert_eq!(o.callback_rate.unwrap().to_string(), "5.0");
        assert_eq!(o.realized_profit, Decimal::ZERO);
        assert_eq!(o.self_trade_prevention, Some(SelfTradePrevention::ExpireTaker));
        assert_eq!(o.price_match, Some(PriceMatch::Opponent));
        assert_eq!(o.good_till_date, None);
    }

    #[test]
    fn order_fill_without_optional_fields() {
        let UserEvent::OrderTradeUpdate(o) = parse_user_event(samples::ORDER_FILL.as_bytes()).unwrap() else {
            panic!("not an order update");
        };
        assert_eq!(o.client_order_id, "m_abc123");
        assert_eq!(o.side, Side::Buy);
        assert_eq!(o.order_type, OrderType::Limit);
        assert_eq!(o.time_in_force, TimeInForce::Gtx);
        assert_eq!(o.execution_type, ExecutionType::Trade);
        assert_eq!(o.status, OrderStatus::PartiallyFilled);
        assert_eq!(o.last_filled_quantity, dec("5"));
        assert_eq!(o.last_filled_price.to_string(), "7.6110");
        assert_eq!(o.trade_id, Some(987654));
        assert!(o.is_maker);
        assert_eq!((o.commission_asset, o.commission, o.stop_price), (None, None, None));
        assert_eq!((o.activation_price, o.callback_rate), (None, None));
        assert_eq!(
            (o.self_trade_prevention, o.price_match, o.good_till_date),
            (None, None, None)
        );
        assert_eq!(o.realized_profit.to_string(), "-0.12000000");
        assert_eq!(o.position_side, PositionSide::Both);
    }

    #[test]
    fn unknown_enum_values_keep_the_record() {
        let odd = replaced(
            samples::ORDER_FILL,
            "\"X\":\"PARTIALLY_FILLED\"",
            "\"X\":\"PENDING_NEW\"",
        );
        let odd = replaced(&odd, "\"o\":\"LIMIT\"", "\"o\":\"ICEBERG\"");
        let odd = replaced(&odd, "\"wt\":\"CONTRACT_PRICE\"", "\"wt\":\"INDEX_PRICE\"");
        let UserEvent::OrderTradeUpdate(o) = parse_user_event(odd.as_bytes()).unwrap() else {
            panic!("not an order update");
        };
        assert_eq!(o.status, OrderStatus::Other("PENDING_NEW".to_owned()));
        assert_eq!(o.order_type, OrderType::Other("ICEBERG".to_owned()));
        assert_eq!(o.working_type, WorkingType::Other("INDEX_PRICE".to_owned()));
        // Side and position side are strict.
        let bad_side = replaced(samples::ORDER_FILL, "\"S\":\"BUY\"", "\"S\":\"HOLD\"");
        assert!(matches!(
            parse_user_event(bad_side.as_bytes()),
            Err(ParseError::InvalidValue { field: "o.S", .. })
        ));
        let bad_ps = replaced(samples::ORDER_FILL, "\"ps\":\"BOTH\"", "\"ps\":\"both\"");
        assert!(matches!(
            parse_user_event(bad_ps.as_bytes()),
            Err(ParseError::InvalidValue { field: "o.ps", .. })
        ));
    }

    #[test]
    fn algo_update_fields() {
        let UserEvent::AlgoUpdate(a) = parse_user_event(samples::ALGO_UPDATE.as_bytes()).unwrap() else {
            panic!("not an algo update");
        };
        // E is the event time and T the transaction time, as in every other event.
        assert_eq!((a.event_time, a.transaction_time), (1750515742303, 1750515742297));
        assert_eq!(a.client_algo_id, "Q5xaq5EGKgXXa0fD7fs0Ip");
        assert_eq!(a.algo_id, 2148719);
        assert_eq!(a.algo_type, AlgoType::Conditional);
        assert_eq!(a.order_type, OrderType::TakeProfit);
        assert_eq!(a.symbol.as_str(), "BNBUSDT");
        assert_eq!(a.side, Side::Sell);
        assert_eq!(a.position_side, PositionSide::Both);
        assert_eq!(a.time_in_force, TimeInForce::Gtc);
        assert_eq!(a.quantity.to_string(), "0.01");
        assert_eq!(a.status, AlgoStatus::Canceled);
        assert_eq!(a.order_id, None);
        assert_eq!(a.average_price.unwrap().to_string(), "0.00000");
        assert_eq!(a.executed_quantity.unwrap().to_string(), "0.00000");
        assert_eq!(a.actual_order_type, None);
        assert_eq!(a.trigger_price.unwrap().to_string(), "750");
        assert_eq!(a.price.unwrap().to_string(), "750");
        assert_eq!(a.self_trade_prevention, Some(SelfTradePrevention::ExpireMaker));
        assert_eq!(a.working_type, Some(WorkingType::ContractPrice));
        assert_eq!(a.price_match, Some(PriceMatch::None));
        assert!(!a.close_position && !a.price_protect && !a.reduce_only);
        assert_eq!((a.trigger_time, a.good_till_date), (None, None));
        assert_eq!(a.reject_reason.as_deref(), Some("Reduce Only reject"));
        assert_eq!(a.callback_rate, None);
    }

    #[test]
    fn triggered_algo_update() {
        let triggered = replaced(samples::ALGO_UPDATE, "\"ai\":\"\"", "\"ai\":\"8886775\"");
        let triggered = replaced(&triggered, "\"act\":\"0\"", "\"act\":\"LIMIT\"");
        let triggered = replaced(&triggered, "\"tt\":0", "\"tt\":1750515742400");
        let triggered = replaced(&triggered, "\"X\":\"CANCELED\"", "\"X\":\"TRIGGERED\"");
        let UserEvent::AlgoUpdate(a) = parse_user_event(triggered.as_bytes()).unwrap() else {
            panic!("not an algo update");
        };
        assert_eq!(a.order_id, Some(8886775));
        assert_eq!(a.actual_order_type, Some(OrderType::Limit));
        assert_eq!(a.trigger_time, Some(1750515742400));
        assert_eq!(a.status, AlgoStatus::Triggered);
        let numeric_id = replaced(samples::ALGO_UPDATE, "\"ai\":\"\"", "\"ai\":8886775");
        assert!(matches!(
            parse_user_event(numeric_id.as_bytes()),
            Ok(UserEvent::AlgoUpdate(AlgoUpdate {
                order_id: Some(8886775),
                ..
            }))
        ));
        let bad_id = replaced(samples::ALGO_UPDATE, "\"ai\":\"\"", "\"ai\":\"x1\"");
        assert_eq!(reason_of(parse_user_event(bad_id.as_bytes())), "schema");
    }

    #[test]
    fn listen_key_expired_and_other_events() {
        assert_eq!(
            parse_user_event(samples::LISTEN_KEY_EXPIRED.as_bytes()),
            Ok(UserEvent::ListenKeyExpired {
                event_time: 1736996475556
            })
        );
        assert_eq!(
            parse_user_event(samples::TRADE_LITE.as_bytes()),
            Ok(UserEvent::Other {
                event_type: "TRADE_LITE".to_owned(),
                event_time: 1721895408092
            })
        );
        let config =
            br#"{"e":"ACCOUNT_CONFIG_UPDATE","E":1611646737479,"T":1611646737476,"ac":{"s":"BTCUSDT","l":25}}"#;
        assert!(matches!(
            parse_user_event(config),
            Ok(UserEvent::Other {
                event_time: 1611646737479,
                ..
            })
        ));
        let untimed = br#"{"e":"MARGIN_CALL"}"#;
        assert_eq!(reason_of(parse_user_event(untimed)), "schema");
        let empty_type = br#"{"e":"","E":1}"#;
        assert_eq!(reason_of(parse_user_event(empty_type)), "invalid_value");
        assert_eq!(reason_of(parse_user_event(br#"{"result":null,"id":1}"#)), "schema");
    }

    #[test]
    fn user_event_errors() {
        for payload in [
            samples::ACCOUNT_UPDATE,
            samples::ORDER_TRADE_UPDATE,
            samples::ORDER_FILL,
            samples::ALGO_UPDATE,
            samples::LISTEN_KEY_EXPIRED,
            samples::TRADE_LITE,
        ] {
            assert_prefixes_truncated(payload, parse_user_event);
        }
        let cases = [
            (
                samples::ACCOUNT_UPDATE,
                "\"wb\":\"122624.12345678\"",
                "\"wb\":\"12e4\"",
                "invalid_decimal",
            ),
            (samples::ACCOUNT_UPDATE, "\"T\":1564745798938,", "", "schema"),
            (
                samples::ACCOUNT_UPDATE,
                "\"ps\":\"BOTH\"",
                "\"ps\":\"NONE\"",
                "invalid_value",
            ),
            (samples::ACCOUNT_UPDATE, "\"B\":[", "\"B\":{\"x\":[", "schema"),
            (
                samples::ORDER_TRADE_UPDATE,
                "\"i\":8886774",
                "\"i\":\"8886774\"",
                "schema",
            ),
            (
                samples::ORDER_TRADE_UPDATE,
                "\"q\":\"0.001\"",
                "\"q\":\"\"",
                "invalid_decimal",
            ),
            (
                samples::ORDER_TRADE_UPDATE,
                "\"q\":\"0.001\"",
                "\"q\":\"-0.001\"",
                "invalid_value",
            ),
            (samples::ORDER_TRADE_UPDATE, "\"t\":0", "\"t\":-1", "invalid_value"),
            (samples::ORDER_TRADE_UPDATE, "\"rp\":\"0\",", "", "schema"),
            (samples::ALGO_UPDATE, "\"aid\":2148719", "\"aid\":-1", "schema"),
            (
                samples::ALGO_UPDATE,
                "\"tp\":\"750\"",
                "\"tp\":\"abc\"",
                "invalid_decimal",
            ),
            (samples::ALGO_UPDATE, "\"s\":\"BNBUSDT\"", "\"s\":\"\"", "invalid_name"),
        ];
        for (payload, from, to, reason) in cases {
            let bad = replaced(payload, from, to);
            assert_eq!(reason_of(parse_user_event(bad.as_bytes())), reason, "{to}");
        }
        let big = vec![b' '; MAX_EVENT_BYTES + 1];
        assert_eq!(reason_of(parse_user_event(&big)), "oversize");
    }
}
