//! A symbol's exchange filters as a JS class: snap prices and quantities to tick/step and check orders.

use crate::error::fail;
use napi::{Env, Result};
use napi_derive::napi;
use tributary_core::filters::{
    FilterError, LotSizeFilter, PercentPriceFilter, PriceFilter, SymbolFilters as CoreFilters,
};
use tributary_core::{Decimal, Side};

/// The filter fields of one exchangeInfo symbol as exact decimal strings (the shape
/// `parseExchangeInfo` returns); an absent group (`tickSize` unset, ...) imposes nothing.
#[napi(object)]
pub struct SymbolFilterFields {
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

/// Why an order would be refused: `filter` as exchangeInfo names it (`LOT_SIZE`, `MIN_NOTIONAL`,
/// ...; absent for sign checks), `reason` a stable label, `message` with the values involved.
#[napi(object)]
pub struct FilterViolation {
    pub filter: Option<String>,
    pub reason: String,
    pub message: String,
}

fn decimal(env: &Env, field: &str, text: &str) -> Result<Decimal> {
    Decimal::parse(text).map_err(|e| fail(env, "invalid_decimal", format!("{field}: {text:?}: {e}")))
}

fn optional(env: &Env, field: &str, text: &Option<String>) -> Result<Option<Decimal>> {
    text.as_deref().map(|t| decimal(env, field, t)).transpose()
}

fn parse_side(env: &Env, text: &str) -> Result<Side> {
    match text {
        "BUY" => Ok(Side::Buy),
        "SELL" => Ok(Side::Sell),
        other => Err(fail(
            env,
            "invalid_side",
            format!("side must be BUY or SELL, got {other:?}"),
        )),
    }
}

fn reason(error: &FilterError) -> &'static str {
    match error {
        FilterError::NonPositiveQuantity { .. } => "non_positive_quantity",
        FilterError::NonPositivePrice { .. } => "non_positive_price",
        FilterError::MissingPrice { .. } => "missing_price",
        FilterError::QuantityBelowMin { .. } => "quantity_below_min",
        FilterError::QuantityAboveMax { .. } => "quantity_above_max",
        FilterError::QuantityOffStep { .. } => "quantity_off_step",
        FilterError::PriceBelowMin { .. } => "price_below_min",
        FilterError::PriceAboveMax { .. } => "price_above_max",
        FilterError::PriceOffTick { .. } => "price_off_tick",
        FilterError::NotionalBelowMin { .. } => "notional_below_min",
        FilterError::PriceAboveBand { .. } => "price_above_band",
        FilterError::PriceBelowBand { .. } => "price_below_band",
        FilterError::Overflow { .. } => "overflow",
    }
}

fn violation(error: FilterError) -> FilterViolation {
    FilterViolation {
        filter: error.filter().map(|f| f.as_str().to_owned()),
        reason: reason(&error).to_owned(),
        message: error.to_string(),
    }
}

/// The trading filters of one symbol (core `SymbolFilters`): every call is the core's rule.
#[napi]
pub struct SymbolFilters {
    inner: CoreFilters,
}

#[napi]
impl SymbolFilters {
    /// Builds the filters from exact decimal strings; a bad decimal throws `invalid_decimal`.
    #[napi(constructor)]
    pub fn new(env: Env, fields: SymbolFilterFields) -> Result<Self> {
        let f = &fields;
        let price = match optional(&env, "tickSize", &f.tick_size)? {
            Some(tick_size) => Some(PriceFilter {
                tick_size,
                min_price: optional(&env, "minPrice", &f.min_price)?.unwrap_or(Decimal::ZERO),
                max_price: optional(&env, "maxPrice", &f.max_price)?.unwrap_or(Decimal::ZERO),
            }),
            None => None,
        };
        let lot = |step: &Option<String>, min: &Option<String>, max: &Option<String>, prefix: &str| {
            Ok::<_, napi::Error>(match optional(&env, &format!("{prefix}stepSize"), step)? {
                Some(step_size) => Some(LotSizeFilter {
                    step_size,
                    min_qty: optional(&env, &format!("{prefix}minQty"), min)?.unwrap_or(Decimal::ZERO),
                    max_qty: optional(&env, &format!("{prefix}maxQty"), max)?.unwrap_or(Decimal::ZERO),
                }),
                None => None,
            })
        };
        let lot_size = lot(&f.step_size, &f.min_qty, &f.max_qty, "")?;
        let market_lot_size = lot(&f.market_step_size, &f.market_min_qty, &f.market_max_qty, "market.")?;
        let percent_price = match (
            optional(&env, "multiplierUp", &f.multiplier_up)?,
            optional(&env, "multiplierDown", &f.multiplier_down)?,
        ) {
            (Some(up), Some(down)) => Some(PercentPriceFilter {
                multiplier_up: up,
                multiplier_down: down,
                multiplier_decimal: u32::from(up.scale().max(down.scale())),
            }),
            _ => None,
        };
        Ok(SymbolFilters {
            inner: CoreFilters {
                price,
                lot_size,
                market_lot_size,
                min_notional: optional(&env, "minNotional", &f.min_notional)?,
                max_num_orders: None,
                max_num_algo_orders: None,
                percent_price,
            },
        })
    }

    /// `qty` rounded down to the step of `MARKET_LOT_SIZE` (market orders, when the symbol has
    /// one) or `LOT_SIZE`; never up.
    #[napi]
    pub fn snap_quantity(&self, env: Env, qty: String, market: bool) -> Result<String> {
        let qty = decimal(&env, "quantity", &qty)?;
        Ok(self.inner.snap_quantity(qty, market).to_string())
    }

    /// `price` rounded to the tick toward the safe side: a buy down, a sell up.
    #[napi]
    pub fn snap_price(&self, env: Env, price: String, side: String) -> Result<String> {
        let price = decimal(&env, "price", &price)?;
        Ok(self.inner.snap_price(price, parse_side(&env, &side)?).to_string())
    }

    /// Checks an order against the lot filter, the price filter (limit orders) and MIN_NOTIONAL
    /// (price × qty; for market orders pass a reference price). `null` when it passes.
    #[napi]
    pub fn check_order(
        &self,
        env: Env,
        price: Option<String>,
        qty: String,
        market: bool,
    ) -> Result<Option<FilterViolation>> {
        let price = optional(&env, "price", &price)?;
        let qty = decimal(&env, "quantity", &qty)?;
        Ok(self.inner.check_order(price, qty, market).err().map(violation))
    }

    /// PERCENT_PRICE against the mark price; `null` when it passes.
    #[napi]
    pub fn check_percent_price(
        &self,
        env: Env,
        price: String,
        side: String,
        mark_price: String,
    ) -> Result<Option<FilterViolation>> {
        let price = decimal(&env, "price", &price)?;
        let mark = decimal(&env, "markPrice", &mark_price)?;
        Ok(self
            .inner
            .check_percent_price(price, parse_side(&env, &side)?, mark)
            .err()
            .map(violation))
    }
}
