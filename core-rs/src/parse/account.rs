//! REST account bodies: `GET /fapi/v3/account` (and v2) and `GET /fapi/v3/positionRisk` (and v2).

use super::error::{
    check_len, decimal, from_serde, invalid, name, optional_decimal, optional_non_negative, ParseError,
};
use super::MAX_REST_BYTES;
use crate::account::{AccountSnapshot, Balance, Position, PositionSide, SymbolPosition};
use serde::Deserialize;

const ACCOUNT: &str = "account";
const POSITION_RISK: &str = "positionRisk";

/// A `positionSide` value; the side is strict because positions are keyed by it.
pub(crate) fn position_side(kind: &'static str, field: &'static str, text: &str) -> Result<PositionSide, ParseError> {
    text.parse()
        .map_err(|_| invalid(kind, field, text, "unknown position side"))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawAccount<'a> {
    #[serde(borrow)]
    assets: Vec<RawAsset<'a>>,
    #[serde(borrow)]
    positions: Vec<RawAccountPosition<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawAsset<'a> {
    asset: &'a str,
    wallet_balance: &'a str,
    #[serde(borrow, default)]
    unrealized_profit: Option<&'a str>,
    #[serde(borrow, default)]
    cross_wallet_balance: Option<&'a str>,
    #[serde(borrow, default)]
    available_balance: Option<&'a str>,
    update_time: i64,
}

/// Account positions: v3 has no `entryPrice`/`breakEvenPrice`, v2 has both; neither has a mark price.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawAccountPosition<'a> {
    symbol: &'a str,
    position_side: &'a str,
    position_amt: &'a str,
    #[serde(borrow, default)]
    unrealized_profit: Option<&'a str>,
    #[serde(borrow, default)]
    entry_price: Option<&'a str>,
    #[serde(borrow, default)]
    break_even_price: Option<&'a str>,
    #[serde(borrow, default)]
    isolated_wallet: Option<&'a str>,
    update_time: i64,
}

/// Parses a `GET /fapi/v3/account` or `/fapi/v2/account` body into its positions and balances,
/// each with its own `updateTime`. Fields the version lacks are `None`.
pub fn parse_account(bytes: &[u8]) -> Result<AccountSnapshot, ParseError> {
    check_len(bytes, MAX_REST_BYTES)?;
    let raw: RawAccount<'_> = serde_json::from_slice(bytes).map_err(|e| from_serde(ACCOUNT, bytes, e))?;
    let balances = raw
        .assets
        .into_iter()
        .map(|a| {
            Ok(Balance {
                asset: name(ACCOUNT, "asset", a.asset)?,
                wallet_balance: decimal(ACCOUNT, "walletBalance", a.wallet_balance)?,
                cross_wallet_balance: optional_decimal(ACCOUNT, "crossWalletBalance", a.cross_wallet_balance)?,
                available_balance: optional_decimal(ACCOUNT, "availableBalance", a.available_balance)?,
                unrealized_pnl: optional_decimal(ACCOUNT, "unrealizedProfit", a.unrealized_profit)?,
                update_time: a.update_time,
            })
        })
        .collect::<Result<Vec<_>, ParseError>>()?;
    let positions = raw
        .positions
        .into_iter()
        .map(|p| {
            Ok(SymbolPosition {
                symbol: name(ACCOUNT, "symbol", p.symbol)?,
                position: Position {
                    side: position_side(ACCOUNT, "positionSide", p.position_side)?,
                    amount: decimal(ACCOUNT, "positionAmt", p.position_amt)?,
                    entry_price: optional_non_negative(ACCOUNT, "entryPrice", p.entry_price)?,
                    break_even_price: optional_non_negative(ACCOUNT, "breakEvenPrice", p.break_even_price)?,
                    unrealized_pnl: optional_decimal(ACCOUNT, "unrealizedProfit", p.unrealized_profit)?,
                    mark_price: None,
                    isolated_wallet: optional_decimal(ACCOUNT, "isolatedWallet", p.isolated_wallet)?,
                    update_time: p.update_time,
                },
            })
        })
        .collect::<Result<Vec<_>, ParseError>>()?;
    Ok(AccountSnapshot { positions, balances })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPositionRisk<'a> {
    symbol: &'a str,
    position_side: &'a str,
    position_amt: &'a str,
    #[serde(borrow, default)]
    entry_price: Option<&'a str>,
    #[serde(borrow, default)]
    break_even_price: Option<&'a str>,
    #[serde(borrow, default)]
    mark_price: Option<&'a str>,
    #[serde(rename = "unRealizedProfit", borrow, default)]
    unrealized_profit: Option<&'a str>,
    #[serde(borrow, default)]
    isolated_wallet: Option<&'a str>,
    update_time: i64,
}

/// Parses a `GET /fapi/v3/positionRisk` or `/fapi/v2/positionRisk` body (an array of positions).
pub fn parse_position_risk(bytes: &[u8]) -> Result<Vec<SymbolPosition>, ParseError> {
    check_len(bytes, MAX_REST_BYTES)?;
    let rows: Vec<RawPositionRisk<'_>> =
        serde_json::from_slice(bytes).map_err(|e| from_serde(POSITION_RISK, bytes, e))?;
    rows.into_iter()
        .map(|p| {
            Ok(SymbolPosition {
                symbol: name(POSITION_RISK, "symbol", p.symbol)?,
                position: Position {
                    side: position_side(POSITION_RISK, "positionSide", p.position_side)?,
                    amount: decimal(POSITION_RISK, "positionAmt", p.position_amt)?,
                    entry_price: optional_non_negative(POSITION_RISK, "entryPrice", p.entry_price)?,
                    break_even_price: optional_non_negative(POSITION_RISK, "breakEvenPrice", p.break_even_price)?,
                    unrealized_pnl: optional_decimal(POSITION_RISK, "unRealizedProfit", p.unrealized_profit)?,
                    mark_price: optional_non_negative(POSITION_RISK, "markPrice", p.mark_price)?,
                    isolated_wallet: optional_decimal(POSITION_RISK, "isolatedWallet", p.isolated_wallet)?,
                    update_time: p.update_time,
                },
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decimal::Decimal;
    use crate::parse::samples::{self, assert_prefixes_truncated, reason_of, replaced};

    fn d(s: &str) -> Option<Decimal> {
        Some(Decimal::parse(s).unwrap())
    }

    #[test]
    fn account_v3() {
        let a = parse_account(samples::ACCOUNT_V3.as_bytes()).unwrap();
        assert_eq!(a.balances.len(), 1);
        let b = &a.balances[0];
        assert_eq!(b.asset.as_str(), "USDT");
        assert_eq!(b.wallet_balance.to_string(), "23.72469206");
        assert_eq!(b.cross_wallet_balance, d("23.72469206"));
        assert_eq!(b.available_balance, d("23.72469206"));
        assert_eq!(b.unrealized_pnl.unwrap().to_string(), "-0.51000000");
        assert_eq!(b.update_time, 1625474304765);
        assert_eq!(a.positions.len(), 1);
        let p = &a.positions[0];
        assert_eq!(p.symbol.as_str(), "BTCUSDT");
        assert_eq!(p.position.side, PositionSide::Both);
        assert_eq!(p.position.amount.to_string(), "-1.000");
        assert_eq!(p.position.entry_price, None);
        assert_eq!(p.position.break_even_price, None);
        assert_eq!(p.position.mark_price, None);
        assert_eq!(p.position.unrealized_pnl, d("-0.51000000"));
        assert_eq!(p.position.isolated_wallet, d("0"));
        assert_eq!(p.position.update_time, 1625474304766);
    }

    #[test]
    fn account_v2() {
        let a = parse_account(samples::ACCOUNT_V2.as_bytes()).unwrap();
        let p = &a.positions[0];
        assert_eq!(p.position.side, PositionSide::Long);
        assert_eq!(p.position.amount.to_string(), "0.010");
        assert_eq!(p.position.entry_price.unwrap().to_string(), "31000.10");
        assert_eq!(p.position.break_even_price.unwrap().to_string(), "31012.5");
        assert_eq!(p.position.isolated_wallet, None);
        assert_eq!(p.position.update_time, 1625474304767);
        assert_eq!(a.balances[0].update_time, 1625474304765);
    }

    #[test]
    fn account_errors() {
        assert_prefixes_truncated(samples::ACCOUNT_V3, parse_account);
        let cases = [
            (
                "\"positionSide\":\"BOTH\"",
                "\"positionSide\":\"BOTHS\"",
                "invalid_value",
            ),
            ("\"positionAmt\":\"-1.000\",", "", "schema"),
            (
                "\"walletBalance\":\"23.72469206\"",
                "\"walletBalance\":23.72469206",
                "schema",
            ),
            ("\"updateTime\":1625474304765", "\"updateTime\":null", "schema"),
            (
                "\"crossWalletBalance\":\"23.72469206\"",
                "\"crossWalletBalance\":\"1e5\"",
                "invalid_decimal",
            ),
            ("\"asset\":\"USDT\"", "\"asset\":\"US DT\"", "invalid_name"),
            ("\"positions\":[", "\"positions\":{\"x\":[", "schema"),
        ];
        for (from, to, reason) in cases {
            let bad = replaced(samples::ACCOUNT_V3, from, to);
            assert_eq!(reason_of(parse_account(bad.as_bytes())), reason, "{to}");
        }
    }

    #[test]
    fn position_risk_v3_and_v2() {
        let v3 = parse_position_risk(samples::POSITION_RISK_V3.as_bytes()).unwrap();
        let p = &v3[0];
        assert_eq!(p.symbol.as_str(), "ADAUSDT");
        assert_eq!(p.position.side, PositionSide::Both);
        assert_eq!(p.position.amount.to_string(), "30");
        assert_eq!(p.position.entry_price.unwrap().to_string(), "0.385");
        assert_eq!(p.position.break_even_price.unwrap().to_string(), "0.385077");
        assert_eq!(p.position.mark_price.unwrap().to_string(), "0.41047590");
        assert_eq!(p.position.unrealized_pnl.unwrap().to_string(), "0.76427700");
        assert_eq!(p.position.isolated_wallet, d("0"));
        assert_eq!(p.position.update_time, 1720736417660);
        let v2 = parse_position_risk(samples::POSITION_RISK_V2.as_bytes()).unwrap();
        let p = &v2[0];
        assert_eq!(p.position.side, PositionSide::Short);
        assert_eq!(p.position.amount.to_string(), "0.000");
        assert_eq!(p.position.entry_price.unwrap().to_string(), "0.00000");
        assert_eq!(p.position.mark_price.unwrap().to_string(), "6679.50671178");
        assert_eq!(p.position.unrealized_pnl.unwrap().to_string(), "0.00000000");
        assert_eq!(p.position.update_time, 0);
        assert_prefixes_truncated(samples::POSITION_RISK_V2, parse_position_risk);
        let negative_mark = replaced(
            samples::POSITION_RISK_V2,
            "\"markPrice\":\"6679.50671178\"",
            "\"markPrice\":\"-1\"",
        );
        assert_eq!(
            reason_of(parse_position_risk(negative_mark.as_bytes())),
            "invalid_value"
        );
        // An object where the array belongs.
        assert_eq!(
            reason_of(parse_position_risk(
                samples::POSITION_RISK_V2.trim_start_matches('[').as_bytes()
            )),
            "schema"
        );
        assert_eq!(reason_of(parse_position_risk(b"{}")), "schema");
    }
}
