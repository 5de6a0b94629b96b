//! Keeps one delta per entity per turn: the newest version, so a frame never carries rows it immediately supersedes.
//!
//! The merge book emits a delta for every accepted change, so an open bar that changes ten times
//! within one hub turn yields ten deltas for the same `(symbol, interval, open_time)`. Under the
//! merge rule the last accepted version is the entity's value after the turn, and entities are
//! independent (docs/protocol.md), so a subscriber applying only the last one ends in the same
//! state. Each entity keeps the position of its first change in the turn with the value of its
//! last, so a series' rows stay in the order their bars first changed.

use crate::account::PositionSide;
use crate::delta::Delta;
use crate::interval::Interval;
use crate::symbol::{Name, SymbolId};
use crate::word_map::WordMap;

/// What one delta is a version of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Entity {
    Kline(SymbolId, Interval, i64),
    Tick(SymbolId),
    Position(SymbolId, PositionSide),
    Balance(Name),
    BanList,
    Mark(SymbolId),
    /// Never pending (the merge emits the positions it sets flat instead); keyed for completeness.
    PositionsComplete(i64),
}

fn entity(delta: &Delta) -> Entity {
    match delta {
        Delta::Kline {
            symbol,
            interval,
            kline,
        } => Entity::Kline(*symbol, *interval, kline.open_time),
        Delta::Tick { symbol, .. } => Entity::Tick(*symbol),
        Delta::Position { symbol, position } => Entity::Position(*symbol, position.side),
        Delta::Balance { balance } => Entity::Balance(balance.asset),
        Delta::BanList(_) => Entity::BanList,
        Delta::Mark { symbol, .. } => Entity::Mark(*symbol),
        Delta::PositionsComplete { as_of } => Entity::PositionsComplete(*as_of),
    }
}

/// Reusable state of [`Coalescer::coalesce`] (its table keeps its capacity between turns).
#[derive(Default)]
pub struct Coalescer {
    /// Entity → its position among the deltas kept so far.
    kept: WordMap<Entity, usize>,
}

impl Coalescer {
    pub fn new() -> Coalescer {
        Coalescer::default()
    }

    /// Leaves one delta per entity in `deltas`, the last of each, at the position of the first;
    /// returns how many superseded deltas were removed.
    pub fn coalesce(&mut self, deltas: &mut Vec<Delta>) -> usize {
        if deltas.len() < 2 {
            return 0;
        }
        self.kept.clear();
        let mut write = 0;
        for read in 0..deltas.len() {
            match self.kept.entry(entity(&deltas[read])) {
                std::collections::hash_map::Entry::Occupied(at) => {
                    // `*at.get() < write <= read`: the newer version takes the older one's place;
                    // the older one lands past `write` and is cut off below.
                    deltas.swap(*at.get(), read);
                }
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(write);
                    // Until a first duplicate, every delta is already in its place (a swap would
                    // still copy it three times).
                    if write != read {
                        deltas.swap(write, read);
                    }
                    write += 1;
                }
            }
        }
        let removed = deltas.len() - write;
        deltas.truncate(write);
        removed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Balance;
    use crate::decimal::Decimal;
    use crate::delta::BanList;
    use crate::market::{Kline, Tick};

    fn kline(symbol: u32, open_time: i64, trades: u64) -> Delta {
        let price = Decimal::parse("100").unwrap();
        Delta::Kline {
            symbol: SymbolId(symbol),
            interval: Interval::M1,
            kline: Kline {
                open_time,
                close_time: open_time + 59_999,
                open: price,
                high: price,
                low: price,
                close: price,
                volume: Decimal::ZERO,
                quote_volume: Decimal::ZERO,
                trades,
                taker_buy_volume: Decimal::ZERO,
                taker_buy_quote_volume: Decimal::ZERO,
                first_trade_id: None,
                last_trade_id: None,
                closed: false,
                as_of: open_time,
            },
        }
    }

    fn tick(symbol: u32, time: i64) -> Delta {
        let one = Decimal::parse("1").unwrap();
        Delta::Tick {
            symbol: SymbolId(symbol),
            tick: Tick {
                bid: one,
                bid_qty: one,
                ask: one,
                ask_qty: one,
                last: None,
                time,
                update_id: None,
            },
        }
    }

    fn trades(delta: &Delta) -> u64 {
        match delta {
            Delta::Kline { kline, .. } => kline.trades,
            _ => 0,
        }
    }

    #[test]
    fn keeps_the_newest_version_at_the_first_position() {
        let mut deltas = vec![
            kline(1, 0, 1),
            tick(1, 5),
            kline(2, 0, 1),
            kline(1, 0, 2),
            kline(1, 60_000, 1),
            kline(1, 0, 3),
            tick(1, 6),
        ];
        let removed = Coalescer::new().coalesce(&mut deltas);
        assert_eq!(removed, 3);
        assert_eq!(deltas.len(), 4);
        assert_eq!(
            trades(&deltas[0]),
            3,
            "bar 0 of symbol 1 at its first place, newest version"
        );
        assert!(matches!(deltas[1], Delta::Tick { tick, .. } if tick.time == 6));
        assert!(matches!(
            deltas[2],
            Delta::Kline {
                symbol: SymbolId(2),
                ..
            }
        ));
        assert!(matches!(deltas[3], Delta::Kline { kline, .. } if kline.open_time == 60_000));
    }

    #[test]
    fn distinct_entities_are_left_alone() {
        let usdt = Name::new("USDT").unwrap();
        let balance = |asset: Name, wallet: &str| Delta::Balance {
            balance: Balance {
                asset,
                wallet_balance: Decimal::parse(wallet).unwrap(),
                cross_wallet_balance: None,
                available_balance: None,
                unrealized_pnl: None,
                update_time: 1,
            },
        };
        let mut deltas = vec![
            kline(1, 0, 1),
            kline(1, 60_000, 1),
            balance(usdt, "1"),
            balance(Name::new("BNB").unwrap(), "2"),
            Delta::BanList(BanList::new(false, vec![SymbolId(3)])),
        ];
        let before = deltas.clone();
        let mut coalescer = Coalescer::new();
        assert_eq!(coalescer.coalesce(&mut deltas), 0);
        assert_eq!(deltas, before);
        // The table is reused: a second turn is coalesced on its own.
        let mut next = vec![balance(usdt, "1"), balance(usdt, "3")];
        assert_eq!(coalescer.coalesce(&mut next), 1);
        assert_eq!(next, vec![balance(usdt, "3")]);
    }
}
