//! Account records: positions and balances with the exchange time each describes.

use crate::decimal::Decimal;
use crate::symbol::{Asset, Symbol};
use std::fmt;
use std::str::FromStr;

/// Order side.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    Buy,
    Sell,
}

impl Side {
    pub const fn as_str(self) -> &'static str {
        match self {
            Side::Buy => "BUY",
            Side::Sell => "SELL",
        }
    }
}

impl FromStr for Side {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "BUY" => Ok(Side::Buy),
            "SELL" => Ok(Side::Sell),
            other => Err(format!("unknown side {other:?}")),
        }
    }
}

/// Position side: `Both` in one-way mode, `Long`/`Short` in hedge mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum PositionSide {
    Both = 0,
    Long = 1,
    Short = 2,
}

impl PositionSide {
    pub const fn as_str(self) -> &'static str {
        match self {
            PositionSide::Both => "BOTH",
            PositionSide::Long => "LONG",
            PositionSide::Short => "SHORT",
        }
    }

    pub fn from_code(code: u8) -> Option<PositionSide> {
        match code {
            0 => Some(PositionSide::Both),
            1 => Some(PositionSide::Long),
            2 => Some(PositionSide::Short),
            _ => None,
        }
    }
}

impl fmt::Display for PositionSide {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PositionSide {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "BOTH" => Ok(PositionSide::Both),
            "LONG" => Ok(PositionSide::Long),
            "SHORT" => Ok(PositionSide::Short),
            other => Err(format!("unknown position side {other:?}")),
        }
    }
}

/// One position as a source reported it. Fields a source does not carry are `None`
/// (account v3 has no entry price; `ACCOUNT_UPDATE` has no mark price).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    pub side: PositionSide,
    /// Signed size in contracts: negative is short in one-way mode.
    pub amount: Decimal,
    pub entry_price: Option<Decimal>,
    pub break_even_price: Option<Decimal>,
    pub unrealized_pnl: Option<Decimal>,
    pub mark_price: Option<Decimal>,
    pub isolated_wallet: Option<Decimal>,
    /// Exchange time of the position (`updateTime`, or `T` of an `ACCOUNT_UPDATE`), Unix ms.
    pub update_time: i64,
}

/// A position with its symbol, as parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SymbolPosition {
    pub symbol: Symbol,
    pub position: Position,
}

/// One margin asset's balance as a source reported it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Balance {
    pub asset: Asset,
    pub wallet_balance: Decimal,
    pub cross_wallet_balance: Option<Decimal>,
    pub available_balance: Option<Decimal>,
    pub unrealized_pnl: Option<Decimal>,
    /// Exchange time of the balance, Unix ms.
    pub update_time: i64,
}

/// Positions and balances read together (REST `account`).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct AccountSnapshot {
    pub positions: Vec<SymbolPosition>,
    pub balances: Vec<Balance>,
}
