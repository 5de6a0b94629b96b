//! Exchange symbol filters (tick size, step size, min/max, min notional): snap and check orders before sending.

use crate::account::Side;
use crate::decimal::Decimal;
use std::fmt;

/// `PRICE_FILTER`. A zero in any field disables that rule, as on the exchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PriceFilter {
    pub min_price: Decimal,
    pub max_price: Decimal,
    pub tick_size: Decimal,
}

/// `LOT_SIZE` or `MARKET_LOT_SIZE`. A zero in any field disables that rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LotSizeFilter {
    pub min_qty: Decimal,
    pub max_qty: Decimal,
    pub step_size: Decimal,
}

/// `PERCENT_PRICE`: how far from the mark price a limit order may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PercentPriceFilter {
    pub multiplier_up: Decimal,
    pub multiplier_down: Decimal,
    pub multiplier_decimal: u32,
}

/// The trading rules of one symbol from exchangeInfo. An absent filter imposes nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct SymbolFilters {
    pub price: Option<PriceFilter>,
    pub lot_size: Option<LotSizeFilter>,
    pub market_lot_size: Option<LotSizeFilter>,
    /// `MIN_NOTIONAL.notional`: price × quantity must reach it.
    pub min_notional: Option<Decimal>,
    pub max_num_orders: Option<u32>,
    pub max_num_algo_orders: Option<u32>,
    pub percent_price: Option<PercentPriceFilter>,
}

/// The filter a rejection comes from, named as exchangeInfo names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FilterKind {
    PriceFilter,
    LotSize,
    MarketLotSize,
    MinNotional,
    PercentPrice,
}

impl FilterKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            FilterKind::PriceFilter => "PRICE_FILTER",
            FilterKind::LotSize => "LOT_SIZE",
            FilterKind::MarketLotSize => "MARKET_LOT_SIZE",
            FilterKind::MinNotional => "MIN_NOTIONAL",
            FilterKind::PercentPrice => "PERCENT_PRICE",
        }
    }
}

impl fmt::Display for FilterKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an order would be rejected by a symbol filter, with the values involved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error("quantity {quantity} must be positive")]
    NonPositiveQuantity { quantity: Decimal },
    #[error("price {price} must be positive")]
    NonPositivePrice { price: Decimal },
    #[error("{filter} needs a price to check the order")]
    MissingPrice { filter: FilterKind },
    #[error("{filter}: quantity {quantity} is below minQty {min}")]
    QuantityBelowMin {
        filter: FilterKind,
        quantity: Decimal,
        min: Decimal,
    },
    #[error("{filter}: quantity {quantity} is above maxQty {max}")]
    QuantityAboveMax {
        filter: FilterKind,
        quantity: Decimal,
        max: Decimal,
    },
    #[error("{filter}: quantity {quantity} is not a multiple of stepSize {step}")]
    QuantityOffStep {
        filter: FilterKind,
        quantity: Decimal,
        step: Decimal,
    },
    #[error("PRICE_FILTER: price {price} is below minPrice {min}")]
    PriceBelowMin { price: Decimal, min: Decimal },
    #[error("PRICE_FILTER: price {price} is above maxPrice {max}")]
    PriceAboveMax { price: Decimal, max: Decimal },
    #[error("PRICE_FILTER: price {price} is not a multiple of tickSize {tick}")]
    PriceOffTick { price: Decimal, tick: Decimal },
    #[error("MIN_NOTIONAL: notional {notional} is below {min}")]
    NotionalBelowMin { notional: Decimal, min: Decimal },
    #[error("PERCENT_PRICE: buy price {price} is above {limit} (mark × multiplierUp)")]
    PriceAboveBand { price: Decimal, limit: Decimal },
    #[error("PERCENT_PRICE: sell price {price} is below {limit} (mark × multiplierDown)")]
    PriceBelowBand { price: Decimal, limit: Decimal },
    #[error("{filter}: values out of the exact range")]
    Overflow { filter: FilterKind },
}

impl FilterError {
    /// The filter that rejected the order; `None` for checks no filter owns (sign, missing price
    /// is attributed to the filter that needed it).
    pub fn filter(&self) -> Option<FilterKind> {
        match self {
            FilterError::NonPositiveQuantity { .. } | FilterError::NonPositivePrice { .. } => None,
            FilterError::MissingPrice { filter }
            | FilterError::QuantityBelowMin { filter, .. }
            | FilterError::QuantityAboveMax { filter, .. }
            | FilterError::QuantityOffStep { filter, .. }
            | FilterError::Overflow { filter } => Some(*filter),
            FilterError::PriceBelowMin { .. }
            | FilterError::PriceAboveMax { .. }
            | FilterError::PriceOffTick { .. } => Some(FilterKind::PriceFilter),
            FilterError::NotionalBelowMin { .. } => Some(FilterKind::MinNotional),
            FilterError::PriceAboveBand { .. } | FilterError::PriceBelowBand { .. } => Some(FilterKind::PercentPrice),
        }
    }
}

impl SymbolFilters {
    /// The lot filter that applies: `MARKET_LOT_SIZE` for market orders when the symbol has one,
    /// else `LOT_SIZE`.
    fn lot(&self, market: bool) -> Option<(FilterKind, LotSizeFilter)> {
        if market {
            if let Some(lot) = self.market_lot_size {
                return Some((FilterKind::MarketLotSize, lot));
            }
        }
        self.lot_size.map(|lot| (FilterKind::LotSize, lot))
    }

    /// Rounds a quantity down to the applicable step (never up: an order must not grow). Without
    /// a step, or if the value is beyond exact range, the quantity is returned unchanged and
    /// [`SymbolFilters::check_order`] reports the problem.
    pub fn snap_quantity(&self, qty: Decimal, market: bool) -> Decimal {
        match self.lot(market) {
            Some((_, lot)) if lot.step_size.is_positive() => qty.snap_down(&lot.step_size).unwrap_or(qty),
            _ => qty,
        }
    }

    /// Rounds a price to the tick toward the safe side: a buy rounds down (never pays more), a
    /// sell rounds up (never receives less). Unchanged without a tick or beyond exact range.
    pub fn snap_price(&self, price: Decimal, side: Side) -> Decimal {
        match self.price {
            Some(filter) if filter.tick_size.is_positive() => {
                let snapped = match side {
                    Side::Buy => price.snap_down(&filter.tick_size),
                    Side::Sell => price.snap_up(&filter.tick_size),
                };
                snapped.unwrap_or(price)
            }
            _ => price,
        }
    }

    /// Checks an order against the lot filter (min, max, step), for limit orders the price filter
    /// (min, max, tick), and `MIN_NOTIONAL` (price × qty). For market orders pass a reference
    /// price (mark or last), used only for the notional check. `PERCENT_PRICE` needs the mark
    /// price: see [`SymbolFilters::check_percent_price`].
    pub fn check_order(&self, price: Option<Decimal>, qty: Decimal, market: bool) -> Result<(), FilterError> {
        if !qty.is_positive() {
            return Err(FilterError::NonPositiveQuantity { quantity: qty });
        }
        if let Some((filter, lot)) = self.lot(market) {
            check_lot(filter, &lot, qty)?;
        }
        if let Some(p) = price {
            if !p.is_positive() {
                return Err(FilterError::NonPositivePrice { price: p });
            }
        }
        if !market {
            if let Some(filter) = self.price {
                let p = price.ok_or(FilterError::MissingPrice {
                    filter: FilterKind::PriceFilter,
                })?;
                check_price(&filter, p)?;
            }
        }
        if let Some(min) = self.min_notional.filter(Decimal::is_positive) {
            let p = price.ok_or(FilterError::MissingPrice {
                filter: FilterKind::MinNotional,
            })?;
            let notional = p.checked_mul(&qty).ok_or(FilterError::Overflow {
                filter: FilterKind::MinNotional,
            })?;
            if notional < min {
                return Err(FilterError::NotionalBelowMin { notional, min });
            }
        }
        Ok(())
    }

    /// `PERCENT_PRICE` on futures: a buy may not be above `mark × multiplierUp`, a sell not below
    /// `mark × multiplierDown`.
    pub fn check_percent_price(&self, price: Decimal, side: Side, mark_price: Decimal) -> Result<(), FilterError> {
        let Some(band) = self.percent_price else {
            return Ok(());
        };
        let overflow = FilterError::Overflow {
            filter: FilterKind::PercentPrice,
        };
        match side {
            Side::Buy => {
                let limit = mark_price.checked_mul(&band.multiplier_up).ok_or(overflow)?;
                if band.multiplier_up.is_positive() && price > limit {
                    return Err(FilterError::PriceAboveBand { price, limit });
                }
            }
            Side::Sell => {
                let limit = mark_price.checked_mul(&band.multiplier_down).ok_or(overflow)?;
                if price < limit {
                    return Err(FilterError::PriceBelowBand { price, limit });
                }
            }
        }
        Ok(())
    }
}

fn check_lot(filter: FilterKind, lot: &LotSizeFilter, qty: Decimal) -> Result<(), FilterError> {
    if lot.min_qty.is_positive() && qty < lot.min_qty {
        return Err(FilterError::QuantityBelowMin {
            filter,
            quantity: qty,
            min: lot.min_qty,
        });
    }
    if lot.max_qty.is_positive() && qty > lot.max_qty {
        return Err(FilterError::QuantityAboveMax {
            filter,
            quantity: qty,
            max: lot.max_qty,
        });
    }
    if lot.step_size.is_positive() {
        let on_step = qty
            .is_multiple_of(&lot.step_size)
            .map_err(|_| FilterError::Overflow { filter })?;
        if !on_step {
            return Err(FilterError::QuantityOffStep {
                filter,
                quantity: qty,
                step: lot.step_size,
            });
        }
    }
    Ok(())
}

fn check_price(filter: &PriceFilter, price: Decimal) -> Result<(), FilterError> {
    if filter.min_price.is_positive() && price < filter.min_price {
        return Err(FilterError::PriceBelowMin {
            price,
            min: filter.min_price,
        });
    }
    if filter.max_price.is_positive() && price > filter.max_price {
        return Err(FilterError::PriceAboveMax {
            price,
            max: filter.max_price,
        });
    }
    if filter.tick_size.is_positive() {
        let on_tick = price
            .is_multiple_of(&filter.tick_size)
            .map_err(|_| FilterError::Overflow {
                filter: FilterKind::PriceFilter,
            })?;
        if !on_tick {
            return Err(FilterError::PriceOffTick {
                price,
                tick: filter.tick_size,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> Decimal {
        Decimal::parse(s).unwrap()
    }

    /// SUSHIUSDT's real filters (exchangeInfo 2021-07-22).
    fn sushi() -> SymbolFilters {
        SymbolFilters {
            price: Some(PriceFilter {
                min_price: d("0.1430"),
                max_price: d("500"),
                tick_size: d("0.0010"),
            }),
            lot_size: Some(LotSizeFilter {
                min_qty: d("1"),
                max_qty: d("10000000"),
                step_size: d("1"),
            }),
            market_lot_size: Some(LotSizeFilter {
                min_qty: d("1"),
                max_qty: d("100000"),
                step_size: d("1"),
            }),
            min_notional: Some(d("5")),
            max_num_orders: Some(200),
            max_num_algo_orders: Some(10),
            percent_price: Some(PercentPriceFilter {
                multiplier_up: d("1.1500"),
                multiplier_down: d("0.8500"),
                multiplier_decimal: 4,
            }),
        }
    }

    #[test]
    fn snaps_toward_the_safe_side() {
        let f = sushi();
        assert_eq!(f.snap_price(d("7.61149"), Side::Buy).to_string(), "7.6110");
        assert_eq!(f.snap_price(d("7.61101"), Side::Sell).to_string(), "7.6120");
        assert_eq!(f.snap_price(d("7.612"), Side::Sell).to_string(), "7.6120");
        assert_eq!(f.snap_quantity(d("12.9"), false).to_string(), "12");
        assert_eq!(f.snap_quantity(d("0.99"), true).to_string(), "0");
        // A step of 0.5, where the seed's float loop failed.
        let half = SymbolFilters {
            lot_size: Some(LotSizeFilter {
                min_qty: d("0.5"),
                max_qty: d("0"),
                step_size: d("0.5"),
            }),
            ..SymbolFilters::default()
        };
        assert_eq!(half.snap_quantity(d("10.74"), false).to_string(), "10.5");
        // Market orders fall back to LOT_SIZE when the symbol has no MARKET_LOT_SIZE.
        assert_eq!(half.snap_quantity(d("10.74"), true).to_string(), "10.5");
    }

    #[test]
    fn zero_means_no_constraint() {
        let open = SymbolFilters {
            price: Some(PriceFilter {
                min_price: d("0"),
                max_price: d("0"),
                tick_size: d("0"),
            }),
            lot_size: Some(LotSizeFilter {
                min_qty: d("0"),
                max_qty: d("0"),
                step_size: d("0"),
            }),
            min_notional: Some(d("0")),
            ..SymbolFilters::default()
        };
        assert_eq!(open.snap_price(d("1.23456789"), Side::Buy).to_string(), "1.23456789");
        assert_eq!(open.snap_quantity(d("0.0001"), false).to_string(), "0.0001");
        assert_eq!(open.check_order(Some(d("99999999.5")), d("0.0001"), false), Ok(()));
        assert_eq!(SymbolFilters::default().check_order(None, d("3"), false), Ok(()));
        assert_eq!(
            SymbolFilters::default().check_percent_price(d("1"), Side::Buy, d("100")),
            Ok(())
        );
    }

    #[test]
    fn check_order_names_the_filter_and_values() {
        let f = sushi();
        assert_eq!(f.check_order(Some(d("7.6110")), d("2"), false), Ok(()));
        assert_eq!(f.check_order(Some(d("7.6")), d("100000"), true), Ok(()));
        let cases = [
            (
                Some("7.6110"),
                "0",
                false,
                FilterError::NonPositiveQuantity { quantity: d("0") },
            ),
            (Some("-1"), "2", false, FilterError::NonPositivePrice { price: d("-1") }),
            (
                None,
                "2",
                false,
                FilterError::MissingPrice {
                    filter: FilterKind::PriceFilter,
                },
            ),
            (
                None,
                "2",
                true,
                FilterError::MissingPrice {
                    filter: FilterKind::MinNotional,
                },
            ),
            (
                Some("7.6110"),
                "0.5",
                false,
                FilterError::QuantityBelowMin {
                    filter: FilterKind::LotSize,
                    quantity: d("0.5"),
                    min: d("1"),
                },
            ),
            (
                Some("7.6110"),
                "100001",
                true,
                FilterError::QuantityAboveMax {
                    filter: FilterKind::MarketLotSize,
                    quantity: d("100001"),
                    max: d("100000"),
                },
            ),
            (
                Some("7.6110"),
                "2.5",
                false,
                FilterError::QuantityOffStep {
                    filter: FilterKind::LotSize,
                    quantity: d("2.5"),
                    step: d("1"),
                },
            ),
            (
                Some("0.1420"),
                "100",
                false,
                FilterError::PriceBelowMin {
                    price: d("0.1420"),
                    min: d("0.1430"),
                },
            ),
            (
                Some("500.001"),
                "1",
                false,
                FilterError::PriceAboveMax {
                    price: d("500.001"),
                    max: d("500"),
                },
            ),
            (
                Some("7.6115"),
                "2",
                false,
                FilterError::PriceOffTick {
                    price: d("7.6115"),
                    tick: d("0.0010"),
                },
            ),
            (
                Some("2.000"),
                "2",
                false,
                FilterError::NotionalBelowMin {
                    notional: d("4.000"),
                    min: d("5"),
                },
            ),
            // For market orders the price is a reference: off-tick is fine, notional still counts.
            (
                Some("2.00005"),
                "2",
                true,
                FilterError::NotionalBelowMin {
                    notional: d("4.00010"),
                    min: d("5"),
                },
            ),
        ];
        for (price, qty, market, expected) in cases {
            let got = f.check_order(price.map(d), d(qty), market);
            assert_eq!(got, Err(expected), "{price:?} {qty} {market}");
        }
        assert_eq!(f.check_order(Some(d("2.5")), d("2"), false), Ok(()));
        let err = f.check_order(Some(d("7.6115")), d("2"), false).unwrap_err();
        assert_eq!(err.filter(), Some(FilterKind::PriceFilter));
        assert_eq!(
            err.to_string(),
            "PRICE_FILTER: price 7.6115 is not a multiple of tickSize 0.0010"
        );
        assert_eq!(FilterError::NonPositiveQuantity { quantity: d("0") }.filter(), None);
    }

    #[test]
    fn percent_price_band() {
        let f = sushi();
        assert_eq!(f.check_percent_price(d("11.5"), Side::Buy, d("10")), Ok(()));
        assert_eq!(
            f.check_percent_price(d("11.51"), Side::Buy, d("10")),
            Err(FilterError::PriceAboveBand {
                price: d("11.51"),
                limit: d("11.5")
            })
        );
        assert_eq!(f.check_percent_price(d("8.5"), Side::Sell, d("10")), Ok(()));
        assert_eq!(
            f.check_percent_price(d("8.49"), Side::Sell, d("10")),
            Err(FilterError::PriceBelowBand {
                price: d("8.49"),
                limit: d("8.5")
            })
        );
    }

    proptest! {
        #[test]
        fn snapped_values_pass_the_step_checks(
            ticks in 1i128..10_000_000_000,
            scale in 0u8..9,
            step_units in 1i128..1000,
            step_scale in 0u8..6,
            buy in any::<bool>(),
        ) {
            let value = Decimal::new(ticks, scale).unwrap();
            let step = Decimal::new(step_units, step_scale).unwrap();
            let f = SymbolFilters {
                price: Some(PriceFilter { min_price: Decimal::ZERO, max_price: Decimal::ZERO, tick_size: step }),
                lot_size: Some(LotSizeFilter { min_qty: Decimal::ZERO, max_qty: Decimal::ZERO, step_size: step }),
                ..SymbolFilters::default()
            };
            let side = if buy { Side::Buy } else { Side::Sell };
            let price = f.snap_price(value, side);
            let safe_side = if buy { price <= value } else { price >= value };
            prop_assert!(safe_side);
            prop_assert!(price.checked_sub(&value).unwrap().abs() < step);
            let qty = f.snap_quantity(value, false);
            prop_assert!(qty <= value);
            if price.is_positive() && qty.is_positive() {
                prop_assert_eq!(f.check_order(Some(price), qty, false), Ok(()));
            }
        }
    }
}
