//! `GET /fapi/v1/exchangeInfo`: server time, rate limits, and every symbol with its filters.

use super::error::{check_len, from_serde, invalid, name, non_negative, schema, ParseError};
use super::wire::{wire_enum, FlexInt};
use super::MAX_REST_BYTES;
use crate::decimal::Decimal;
use crate::filters::{LotSizeFilter, PercentPriceFilter, PriceFilter, SymbolFilters};
use crate::symbol::{Asset, Symbol};
use serde::Deserialize;

const EXCHANGE_INFO: &str = "exchangeInfo";

wire_enum! {
    /// `rateLimitType`.
    RateLimitType {
        RequestWeight => "REQUEST_WEIGHT",
        Orders => "ORDERS",
        RawRequests => "RAW_REQUESTS",
    }
}

wire_enum! {
    /// Unit of a rate-limit window.
    RateLimitInterval {
        Second => "SECOND",
        Minute => "MINUTE",
        Day => "DAY",
    }
}

wire_enum! {
    /// `contractType`; delisted or pending symbols may carry `""` (kept as `Other("")`).
    ContractType {
        Perpetual => "PERPETUAL",
        CurrentMonth => "CURRENT_MONTH",
        NextMonth => "NEXT_MONTH",
        CurrentQuarter => "CURRENT_QUARTER",
        NextQuarter => "NEXT_QUARTER",
        PerpetualDelivering => "PERPETUAL_DELIVERING",
    }
}

wire_enum! {
    /// Symbol `status`.
    SymbolStatus {
        Trading => "TRADING",
        PendingTrading => "PENDING_TRADING",
        PreDelivering => "PRE_DELIVERING",
        Delivering => "DELIVERING",
        Delivered => "DELIVERED",
        PreSettle => "PRE_SETTLE",
        Settling => "SETTLING",
        Close => "CLOSE",
    }
}

wire_enum! {
    /// `underlyingType`: `INDEX` marks index-like contracts such as BTCDOM and DEFI.
    UnderlyingType {
        Coin => "COIN",
        Index => "INDEX",
        PreMarket => "PREMARKET",
    }
}

/// One request or order rate limit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateLimit {
    pub kind: RateLimitType,
    pub interval: RateLimitInterval,
    pub interval_num: u32,
    pub limit: u32,
}

impl RateLimit {
    /// Length of the window in milliseconds; `None` for an unknown interval unit.
    pub fn window_ms(&self) -> Option<i64> {
        let unit = match self.interval {
            RateLimitInterval::Second => 1_000,
            RateLimitInterval::Minute => 60_000,
            RateLimitInterval::Day => 86_400_000,
            RateLimitInterval::Other(_) => return None,
        };
        Some(unit * i64::from(self.interval_num))
    }
}

/// One contract as exchangeInfo describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SymbolInfo {
    pub symbol: Symbol,
    /// `None` when the exchange sends an empty pair.
    pub pair: Option<Symbol>,
    pub contract_type: ContractType,
    pub status: SymbolStatus,
    pub base_asset: Asset,
    pub quote_asset: Asset,
    pub margin_asset: Asset,
    pub underlying_type: UnderlyingType,
    pub price_precision: u32,
    pub quantity_precision: u32,
    pub onboard_date: Option<i64>,
    pub delivery_date: Option<i64>,
    pub filters: SymbolFilters,
}

impl SymbolInfo {
    /// The universe rule (DESIGN.md 2): trading, perpetual, quoted in USDT, not index-like.
    pub fn is_tradable_usdt_perpetual(&self) -> bool {
        self.status == SymbolStatus::Trading
            && self.contract_type == ContractType::Perpetual
            && self.quote_asset.as_str() == "USDT"
            && self.underlying_type != UnderlyingType::Index
    }
}

/// The parsed exchangeInfo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExchangeInfo {
    pub server_time: i64,
    pub rate_limits: Vec<RateLimit>,
    pub symbols: Vec<SymbolInfo>,
}

impl ExchangeInfo {
    /// The symbol named `name`, if listed.
    pub fn symbol(&self, name: &str) -> Option<&SymbolInfo> {
        self.symbols.iter().find(|s| s.symbol.as_str() == name)
    }

    /// Symbols passing [`SymbolInfo::is_tradable_usdt_perpetual`], in exchange order.
    pub fn tradable_usdt_perpetuals(&self) -> impl Iterator<Item = &SymbolInfo> {
        self.symbols.iter().filter(|s| s.is_tradable_usdt_perpetual())
    }

    /// The `REQUEST_WEIGHT` limit per window, the budget the REST pollers pace against.
    pub fn request_weight_limit(&self) -> Option<&RateLimit> {
        self.rate_limits.iter().find(|r| r.kind == RateLimitType::RequestWeight)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawExchangeInfo<'a> {
    server_time: i64,
    #[serde(borrow, default)]
    rate_limits: Vec<RawRateLimit<'a>>,
    #[serde(borrow)]
    symbols: Vec<RawSymbol<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRateLimit<'a> {
    rate_limit_type: &'a str,
    interval: &'a str,
    interval_num: u32,
    limit: u32,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSymbol<'a> {
    symbol: &'a str,
    #[serde(default)]
    pair: &'a str,
    #[serde(default)]
    contract_type: &'a str,
    status: &'a str,
    base_asset: &'a str,
    quote_asset: &'a str,
    margin_asset: &'a str,
    #[serde(default)]
    underlying_type: &'a str,
    price_precision: u32,
    quantity_precision: u32,
    #[serde(default)]
    onboard_date: Option<i64>,
    #[serde(default)]
    delivery_date: Option<i64>,
    #[serde(borrow, default)]
    filters: Vec<RawFilter<'a>>,
}

/// Every field any known filter uses; which are required depends on `filterType`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawFilter<'a> {
    filter_type: &'a str,
    #[serde(borrow, default)]
    min_price: Option<&'a str>,
    #[serde(borrow, default)]
    max_price: Option<&'a str>,
    #[serde(borrow, default)]
    tick_size: Option<&'a str>,
    #[serde(borrow, default)]
    min_qty: Option<&'a str>,
    #[serde(borrow, default)]
    max_qty: Option<&'a str>,
    #[serde(borrow, default)]
    step_size: Option<&'a str>,
    #[serde(borrow, default)]
    notional: Option<&'a str>,
    #[serde(borrow, default)]
    min_notional: Option<&'a str>,
    #[serde(default)]
    limit: Option<u32>,
    #[serde(borrow, default)]
    multiplier_up: Option<&'a str>,
    #[serde(borrow, default)]
    multiplier_down: Option<&'a str>,
    #[serde(default)]
    multiplier_decimal: Option<FlexInt>,
}

/// Parses a `GET /fapi/v1/exchangeInfo` body. Unknown filter types are ignored; a known filter
/// missing one of its fields is a schema error naming the symbol and field.
pub fn parse_exchange_info(bytes: &[u8]) -> Result<ExchangeInfo, ParseError> {
    check_len(bytes, MAX_REST_BYTES)?;
    let raw: RawExchangeInfo<'_> = serde_json::from_slice(bytes).map_err(|e| from_serde(EXCHANGE_INFO, bytes, e))?;
    let rate_limits = raw
        .rate_limits
        .iter()
        .map(|r| RateLimit {
            kind: RateLimitType::from_wire(r.rate_limit_type),
            interval: RateLimitInterval::from_wire(r.interval),
            interval_num: r.interval_num,
            limit: r.limit,
        })
        .collect();
    let symbols = raw
        .symbols
        .iter()
        .map(symbol_info)
        .collect::<Result<Vec<_>, ParseError>>()?;
    Ok(ExchangeInfo {
        server_time: raw.server_time,
        rate_limits,
        symbols,
    })
}

fn symbol_info(raw: &RawSymbol<'_>) -> Result<SymbolInfo, ParseError> {
    const K: &str = EXCHANGE_INFO;
    let symbol = name(K, "symbol", raw.symbol)?;
    let pair = match raw.pair {
        "" => None,
        text => Some(name(K, "pair", text)?),
    };
    let mut filters = SymbolFilters::default();
    for f in &raw.filters {
        let need = |field: &'static str, value: Option<&str>| -> Result<Decimal, ParseError> {
            let text = value
                .ok_or_else(|| schema(K, format!("{} filter of {} lacks `{field}`", f.filter_type, raw.symbol)))?;
            non_negative(K, field, text)
        };
        match f.filter_type {
            "PRICE_FILTER" => {
                filters.price = Some(PriceFilter {
                    min_price: need("minPrice", f.min_price)?,
                    max_price: need("maxPrice", f.max_price)?,
                    tick_size: need("tickSize", f.tick_size)?,
                })
            }
            "LOT_SIZE" | "MARKET_LOT_SIZE" => {
                let lot = LotSizeFilter {
                    min_qty: need("minQty", f.min_qty)?,
                    max_qty: need("maxQty", f.max_qty)?,
                    step_size: need("stepSize", f.step_size)?,
                };
                if f.filter_type == "LOT_SIZE" {
                    filters.lot_size = Some(lot);
                } else {
                    filters.market_lot_size = Some(lot);
                }
            }
            // Futures name the field `notional`; spot's `minNotional` is accepted as well.
            "MIN_NOTIONAL" => filters.min_notional = Some(need("notional", f.notional.or(f.min_notional))?),
            "MAX_NUM_ORDERS" => filters.max_num_orders = Some(need_limit(raw.symbol, f)?),
            "MAX_NUM_ALGO_ORDERS" => filters.max_num_algo_orders = Some(need_limit(raw.symbol, f)?),
            "PERCENT_PRICE" => {
                let multiplier_decimal = match f.multiplier_decimal {
                    None => 0,
                    Some(FlexInt(d)) => u32::try_from(d)
                        .map_err(|_| invalid(K, "multiplierDecimal", d.to_string().as_str(), "must not be negative"))?,
                };
                filters.percent_price = Some(PercentPriceFilter {
                    multiplier_up: need("multiplierUp", f.multiplier_up)?,
                    multiplier_down: need("multiplierDown", f.multiplier_down)?,
                    multiplier_decimal,
                })
            }
            _ => {}
        }
    }
    Ok(SymbolInfo {
        symbol,
        pair,
        contract_type: ContractType::from_wire(raw.contract_type),
        status: SymbolStatus::from_wire(raw.status),
        base_asset: name(K, "baseAsset", raw.base_asset)?,
        quote_asset: name(K, "quoteAsset", raw.quote_asset)?,
        margin_asset: name(K, "marginAsset", raw.margin_asset)?,
        underlying_type: UnderlyingType::from_wire(raw.underlying_type),
        price_precision: raw.price_precision,
        quantity_precision: raw.quantity_precision,
        onboard_date: raw.onboard_date,
        delivery_date: raw.delivery_date,
        filters,
    })
}

fn need_limit(symbol: &str, f: &RawFilter<'_>) -> Result<u32, ParseError> {
    f.limit.ok_or_else(|| {
        schema(
            EXCHANGE_INFO,
            format!("{} filter of {symbol} lacks `limit`", f.filter_type),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::samples::{self, assert_prefixes_truncated, reason_of, replaced};

    fn d(s: &str) -> Decimal {
        Decimal::parse(s).unwrap()
    }

    #[test]
    fn symbols_rate_limits_and_filters() {
        let info = parse_exchange_info(samples::EXCHANGE_INFO.as_bytes()).unwrap();
        assert_eq!(info.server_time, 1626858243909);
        assert_eq!(
            info.rate_limits[0],
            RateLimit {
                kind: RateLimitType::RequestWeight,
                interval: RateLimitInterval::Minute,
                interval_num: 1,
                limit: 2400
            }
        );
        assert_eq!(info.request_weight_limit().unwrap().window_ms(), Some(60_000));
        assert_eq!(info.rate_limits[1].kind, RateLimitType::Orders);
        assert_eq!(info.rate_limits[1].window_ms(), Some(10_000));
        let sushi = info.symbol("SUSHIUSDT").unwrap();
        assert_eq!(sushi.pair.unwrap().as_str(), "SUSHIUSDT");
        assert_eq!(sushi.contract_type, ContractType::Perpetual);
        assert_eq!(sushi.status, SymbolStatus::Trading);
        assert_eq!(
            (
                sushi.base_asset.as_str(),
                sushi.quote_asset.as_str(),
                sushi.margin_asset.as_str()
            ),
            ("SUSHI", "USDT", "USDT")
        );
        assert_eq!(sushi.underlying_type, UnderlyingType::Coin);
        assert_eq!((sushi.price_precision, sushi.quantity_precision), (4, 0));
        assert_eq!(
            (sushi.onboard_date, sushi.delivery_date),
            (Some(1569398400000), Some(4133404800000))
        );
        let f = sushi.filters;
        let price = f.price.unwrap();
        assert_eq!(price.tick_size.to_string(), "0.0010");
        assert_eq!(price.min_price.to_string(), "0.1430");
        assert_eq!(price.max_price.to_string(), "500");
        let lot = f.lot_size.unwrap();
        assert_eq!(
            (lot.min_qty, lot.max_qty, lot.step_size),
            (d("1"), d("10000000"), d("1"))
        );
        assert_eq!(f.market_lot_size.unwrap().max_qty, d("100000"));
        assert_eq!(f.min_notional, Some(d("5")));
        assert_eq!((f.max_num_orders, f.max_num_algo_orders), (Some(200), Some(10)));
        let band = f.percent_price.unwrap();
        assert_eq!(band.multiplier_up.to_string(), "1.1500");
        assert_eq!(band.multiplier_down.to_string(), "0.8500");
        assert_eq!(band.multiplier_decimal, 4);
        assert!(sushi.is_tradable_usdt_perpetual());
        let dom = info.symbol("BTCDOMUSDT").unwrap();
        assert_eq!(dom.underlying_type, UnderlyingType::Index);
        assert!(!dom.is_tradable_usdt_perpetual());
        assert_eq!(dom.filters.price.unwrap().max_price, Decimal::ZERO);
        assert_eq!(dom.filters.lot_size, None);
        assert_eq!(info.tradable_usdt_perpetuals().count(), 1);
        assert!(info.symbol("ETHUSDT").is_none());
    }

    #[test]
    fn universe_rule_needs_every_condition() {
        let base = samples::EXCHANGE_INFO;
        for (from, to) in [
            ("\"status\":\"TRADING\"", "\"status\":\"SETTLING\""),
            ("\"contractType\":\"PERPETUAL\"", "\"contractType\":\"CURRENT_QUARTER\""),
            ("\"contractType\":\"PERPETUAL\"", "\"contractType\":\"\""),
            ("\"quoteAsset\":\"USDT\"", "\"quoteAsset\":\"BUSD\""),
            ("\"underlyingType\":\"COIN\"", "\"underlyingType\":\"INDEX\""),
        ] {
            let info = parse_exchange_info(replaced(base, from, to).as_bytes()).unwrap();
            assert!(!info.symbols[0].is_tradable_usdt_perpetual(), "{to}");
        }
        let pending =
            parse_exchange_info(replaced(base, "\"contractType\":\"PERPETUAL\"", "\"contractType\":\"\"").as_bytes())
                .unwrap();
        assert_eq!(pending.symbols[0].contract_type, ContractType::Other(String::new()));
        let no_pair =
            parse_exchange_info(replaced(base, "\"pair\":\"SUSHIUSDT\"", "\"pair\":\"\"").as_bytes()).unwrap();
        assert_eq!(no_pair.symbols[0].pair, None);
    }

    #[test]
    fn filter_errors() {
        let base = samples::EXCHANGE_INFO;
        let cases = [
            (",\"tickSize\":\"0.0010\"", "", "schema"),
            ("\"tickSize\":\"0.0010\"", "\"tickSize\":\"-0.001\"", "invalid_value"),
            ("\"stepSize\":\"1\"", "\"stepSize\":\"one\"", "invalid_decimal"),
            ("{\"limit\":200,", "{", "schema"),
            ("\"notional\":\"5\"", "\"notional\":5", "schema"),
            (
                "\"multiplierDecimal\":\"4\"",
                "\"multiplierDecimal\":\"-4\"",
                "invalid_value",
            ),
            ("\"symbol\":\"SUSHIUSDT\"", "\"symbol\":\"\"", "invalid_name"),
            ("\"serverTime\":1626858243909,", "", "schema"),
        ];
        for (from, to, reason) in cases {
            let bad = replaced(base, from, to);
            assert_eq!(reason_of(parse_exchange_info(bad.as_bytes())), reason, "{to}");
        }
        let numeric_decimal = replaced(base, "\"multiplierDecimal\":\"4\"", "\"multiplierDecimal\":4");
        assert_eq!(
            parse_exchange_info(numeric_decimal.as_bytes()).unwrap().symbols[0]
                .filters
                .percent_price
                .unwrap()
                .multiplier_decimal,
            4
        );
        let spot_style = replaced(base, "\"notional\":\"5\"", "\"minNotional\":\"5.5\"");
        assert_eq!(
            parse_exchange_info(spot_style.as_bytes()).unwrap().symbols[0]
                .filters
                .min_notional,
            Some(d("5.5"))
        );
        assert_prefixes_truncated(base, parse_exchange_info);
    }
}
