//! Admission of records into the hub's merge book: registered symbols and exchange times the hub's clock can vouch for.
//!
//! The merge book refuses records that are malformed (a bar whose high is below its low) or whose
//! values the wire cannot carry. What it cannot judge alone is checked here, before a record
//! reaches it:
//!
//! - **Symbol ids** must be ids the hub registered. An id beyond the registry would make the book
//!   allocate a table for a symbol nobody can name; a collector sending ids up to 65,535 took the
//!   hub from 74 MB to 1.6 GB.
//! - **Exchange times** must lie in a window around the hub's clock: not later than
//!   `now + max_future_ms`, not earlier than `now − max_age_ms`. Ticks, positions and balances
//!   merge by newest exchange time, so one record stamped in the future (a time in microseconds
//!   is one, by a factor of 1,000) would win every later merge and freeze the value for the
//!   hub's lifetime. An absurdly old time is a unit or parsing error of the same kind.
//!   Positions and balances may carry 0: the exchange reports `updateTime: 0` for what never
//!   changed, and such a record loses to every real one.
//!
//! A refused record is counted by its [`Refusal::reason`] label and never changes the book.

use crate::delta::Delta;
use crate::market::Kline;
use crate::merge_book::MergeError;
use crate::symbol::SymbolId;

/// How far ahead of the hub's clock an exchange time may be by default: exchange and hub clocks
/// agree within milliseconds when both run NTP; 30 s leaves room for a badly set host without
/// letting a value from the future freeze an entity for long.
pub const DEFAULT_MAX_FUTURE_MS: i64 = 30_000;

/// How far behind the hub's clock an exchange time may be by default: ten years, which covers
/// any window the hub keeps (45 monthly bars are under four years).
pub const DEFAULT_MAX_AGE_MS: i64 = 3_653 * 86_400_000;

/// The time window of [`Admission`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdmissionRules {
    /// Largest allowed `time − now`, ms.
    pub max_future_ms: i64,
    /// Largest allowed `now − time`, ms.
    pub max_age_ms: i64,
}

impl Default for AdmissionRules {
    fn default() -> Self {
        AdmissionRules {
            max_future_ms: DEFAULT_MAX_FUTURE_MS,
            max_age_ms: DEFAULT_MAX_AGE_MS,
        }
    }
}

/// What a record must satisfy to enter the book at one moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Admission {
    /// Symbol ids must be below this (the registry's size).
    pub symbols: u32,
    /// The hub's clock, Unix ms.
    pub now: i64,
    pub rules: AdmissionRules,
}

/// Why a record was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("symbol id {} is not registered (the registry holds {registered} symbols)", symbol.0)]
    UnknownSymbol { symbol: SymbolId, registered: u32 },
    #[error("{field} {time} is more than {max_future_ms} ms after the hub's clock {now} (a time in µs or ns?)")]
    TimeInFuture {
        field: &'static str,
        time: i64,
        now: i64,
        max_future_ms: i64,
    },
    #[error("{field} {time} is more than {max_age_ms} ms before the hub's clock {now} (a time in seconds?)")]
    TimeTooOld {
        field: &'static str,
        time: i64,
        now: i64,
        max_age_ms: i64,
    },
    /// The merge book refused it (malformed, or not representable on the wire).
    #[error(transparent)]
    Merge(#[from] MergeError),
}

impl Refusal {
    /// A stable short label for counters, logs and replies to the sender.
    pub fn reason(&self) -> &'static str {
        match self {
            Refusal::UnknownSymbol { .. } => "unknown_symbol",
            Refusal::TimeInFuture { .. } => "time_in_future",
            Refusal::TimeTooOld { .. } => "time_too_old",
            Refusal::Merge(e) => e.reason(),
        }
    }
}

/// Every label [`Refusal::reason`] can return, for documentation and counters.
pub const REFUSAL_REASONS: [&str; 8] = [
    "unknown_symbol",
    "time_in_future",
    "time_too_old",
    "invalid_kline",
    "invalid_tick",
    "invalid_mark",
    "unrepresentable",
    "symbol_out_of_range",
];

/// The entity kind of a record, as named in refusals and topics.
pub fn entity_name(record: &Delta) -> &'static str {
    match record {
        Delta::Kline { .. } => "kline",
        Delta::Tick { .. } => "tick",
        Delta::Position { .. } => "position",
        Delta::Balance { .. } => "balance",
        Delta::BanList(_) => "banlist",
        Delta::Mark { .. } => "mark",
        Delta::PositionsComplete { .. } => "positions_complete",
    }
}

impl Admission {
    /// Checks a record's symbol ids and exchange times.
    pub fn check(&self, record: &Delta) -> Result<(), Refusal> {
        match record {
            Delta::Kline { symbol, kline, .. } => self.check_kline(*symbol, kline),
            Delta::Tick { symbol, tick } => {
                self.symbol(*symbol)?;
                self.time("tick.time", tick.time)
            }
            Delta::Position { symbol, position } => {
                self.symbol(*symbol)?;
                self.time_or_zero("position.update_time", position.update_time)
            }
            Delta::Balance { balance } => self.time_or_zero("balance.update_time", balance.update_time),
            Delta::BanList(list) => list.symbols.iter().try_for_each(|&s| self.symbol(s)),
            Delta::Mark { symbol, mark } => {
                self.symbol(*symbol)?;
                self.time("mark.time", mark.time)
            }
            // A time in the future would set positions opened later flat.
            Delta::PositionsComplete { as_of } => self.time("positions_complete.as_of", *as_of),
        }
    }

    /// Checks a kline of `symbol` (what [`Admission::check`] does for a kline record).
    pub fn check_kline(&self, symbol: SymbolId, kline: &Kline) -> Result<(), Refusal> {
        self.symbol(symbol)?;
        self.time("kline.open_time", kline.open_time)?;
        if kline.as_of != 0 {
            self.time("kline.as_of", kline.as_of)?;
        }
        Ok(())
    }

    fn symbol(&self, symbol: SymbolId) -> Result<(), Refusal> {
        if symbol.0 < self.symbols {
            Ok(())
        } else {
            Err(Refusal::UnknownSymbol {
                symbol,
                registered: self.symbols,
            })
        }
    }

    fn time(&self, field: &'static str, time: i64) -> Result<(), Refusal> {
        let AdmissionRules {
            max_future_ms,
            max_age_ms,
        } = self.rules;
        if time > self.now.saturating_add(max_future_ms) {
            return Err(Refusal::TimeInFuture {
                field,
                time,
                now: self.now,
                max_future_ms,
            });
        }
        if time < self.now.saturating_sub(max_age_ms) {
            return Err(Refusal::TimeTooOld {
                field,
                time,
                now: self.now,
                max_age_ms,
            });
        }
        Ok(())
    }

    /// Like `time`, but 0 ("never updated", as the exchange reports it) passes.
    fn time_or_zero(&self, field: &'static str, time: i64) -> Result<(), Refusal> {
        if time == 0 {
            Ok(())
        } else {
            self.time(field, time)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::{Balance, Position, PositionSide};
    use crate::decimal::Decimal;
    use crate::delta::BanList;
    use crate::interval::Interval;
    use crate::market::Tick;
    use crate::symbol::Name;

    const NOW: i64 = 1_767_225_600_000; // 2026-01-01

    fn admission() -> Admission {
        Admission {
            symbols: 5,
            now: NOW,
            rules: AdmissionRules::default(),
        }
    }

    fn one() -> Decimal {
        Decimal::from_int(1)
    }

    fn kline(open_time: i64, as_of: i64) -> Delta {
        let p = one();
        Delta::Kline {
            symbol: SymbolId(4),
            interval: Interval::M1,
            kline: Kline {
                open_time,
                close_time: open_time + 59_999,
                open: p,
                high: p,
                low: p,
                close: p,
                volume: p,
                quote_volume: p,
                trades: 1,
                taker_buy_volume: p,
                taker_buy_quote_volume: p,
                first_trade_id: None,
                last_trade_id: None,
                closed: false,
                as_of,
            },
        }
    }

    fn tick(symbol: u32, time: i64) -> Delta {
        Delta::Tick {
            symbol: SymbolId(symbol),
            tick: Tick {
                bid: one(),
                bid_qty: one(),
                ask: one(),
                ask_qty: one(),
                last: None,
                time,
                update_id: None,
            },
        }
    }

    fn position(update_time: i64) -> Delta {
        Delta::Position {
            symbol: SymbolId(0),
            position: Position {
                side: PositionSide::Both,
                amount: one(),
                entry_price: None,
                break_even_price: None,
                unrealized_pnl: None,
                mark_price: None,
                isolated_wallet: None,
                update_time,
            },
        }
    }

    fn balance(update_time: i64) -> Delta {
        Delta::Balance {
            balance: Balance {
                asset: Name::new("USDT").unwrap(),
                wallet_balance: one(),
                cross_wallet_balance: None,
                available_balance: None,
                unrealized_pnl: None,
                update_time,
            },
        }
    }

    fn reason(record: &Delta) -> Option<&'static str> {
        admission().check(record).err().map(|r| r.reason())
    }

    #[test]
    fn registered_symbols_pass_and_others_are_unknown() {
        assert_eq!(reason(&tick(4, NOW)), None);
        assert_eq!(reason(&tick(5, NOW)), Some("unknown_symbol"));
        assert_eq!(reason(&tick(65_535, NOW)), Some("unknown_symbol"));
        assert_eq!(
            reason(&Delta::BanList(BanList::new(false, vec![SymbolId(1), SymbolId(9)]))),
            Some("unknown_symbol")
        );
        assert_eq!(reason(&Delta::BanList(BanList::new(true, vec![]))), None);
    }

    #[test]
    fn times_must_lie_in_the_window_around_the_hub_clock() {
        let max_future = DEFAULT_MAX_FUTURE_MS;
        assert_eq!(reason(&tick(0, NOW + max_future)), None);
        assert_eq!(reason(&tick(0, NOW + max_future + 1)), Some("time_in_future"));
        // Milliseconds read as microseconds and nanoseconds.
        assert_eq!(reason(&tick(0, NOW * 1_000)), Some("time_in_future"));
        assert_eq!(reason(&position(NOW * 1_000_000)), Some("time_in_future"));
        assert_eq!(reason(&balance(NOW * 1_000)), Some("time_in_future"));
        assert_eq!(reason(&balance(i64::MAX)), Some("time_in_future"));
        // Seconds read as milliseconds, and the distant past.
        assert_eq!(reason(&tick(0, NOW / 1_000)), Some("time_too_old"));
        assert_eq!(reason(&tick(0, i64::MIN)), Some("time_too_old"));
        assert_eq!(reason(&kline(NOW - DEFAULT_MAX_AGE_MS, 0)), None);
        assert_eq!(
            reason(&kline(NOW - DEFAULT_MAX_AGE_MS - 60_000, 0)),
            Some("time_too_old")
        );
        // A bar's as_of is checked when known.
        assert_eq!(reason(&kline(NOW - 60_000, NOW * 1_000)), Some("time_in_future"));
        assert_eq!(reason(&kline(NOW - 60_000, 0)), None);
        assert_eq!(reason(&kline(NOW + 3_600_000, 0)), Some("time_in_future"));
    }

    #[test]
    fn positions_and_balances_never_updated_carry_zero() {
        assert_eq!(reason(&position(0)), None);
        assert_eq!(reason(&balance(0)), None);
        assert_eq!(reason(&tick(0, 0)), Some("time_too_old"));
    }

    #[test]
    fn refusals_name_the_field_and_the_clock() {
        let refusal = admission().check(&tick(0, NOW * 1_000)).unwrap_err();
        let text = refusal.to_string();
        assert!(text.contains("tick.time") && text.contains(&NOW.to_string()), "{text}");
        for r in [
            Refusal::UnknownSymbol {
                symbol: SymbolId(1),
                registered: 0,
            },
            refusal,
        ] {
            assert!(REFUSAL_REASONS.contains(&r.reason()));
        }
    }
}
