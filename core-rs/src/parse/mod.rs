//! Binance payload parsers: bytes as received in, typed records or typed errors out (DESIGN.md 3.1).
//!
//! Every parser takes the payload bytes exactly as received, checks their length first, and never
//! panics. Websocket market events (`aggTrade`, `kline`, `bookTicker`, `markPriceUpdate`) borrow
//! their decimal strings from the input and parse without heap allocation; websocket parsers accept
//! both a raw event and the combined-stream envelope `{"stream":"...","data":{...}}`.

mod account;
mod envelope;
mod error;
mod exchange_info;
mod fast;
mod market;
mod order;
mod rest;
mod rest_memory;
#[cfg(test)]
pub(crate) mod samples;
mod user_data;
mod wire;

pub use account::{parse_account, parse_position_risk};
pub use error::ParseError;
pub use exchange_info::{
    parse_exchange_info, ContractType, ExchangeInfo, RateLimit, RateLimitInterval, RateLimitType, SymbolInfo,
    SymbolStatus, UnderlyingType,
};
pub use market::{
    parse_agg_trade, parse_book_ticker, parse_kline_event, parse_mark_price, parse_mark_price_array,
    parse_market_event, MarketEvent,
};
pub use order::{
    AlgoStatus, AlgoType, ExecutionType, OrderStatus, OrderType, PriceMatch, SelfTradePrevention, TimeInForce,
    WorkingType,
};
pub use rest::{
    parse_premium_index, parse_rest_agg_trades, parse_rest_book_tickers, parse_rest_klines, parse_rest_klines_into,
    parse_rest_price_tickers,
};
pub use rest_memory::{RestPollMemory, RestPollMemoryStats, MAX_HELD_BYTES as MAX_REST_MEMORY_BYTES};
pub use user_data::{parse_user_event, AccountUpdate, AlgoUpdate, OrderUpdate, UserEvent};

/// Largest websocket event accepted, in bytes.
pub const MAX_EVENT_BYTES: usize = 1 << 20;

/// Largest REST body accepted, in bytes (exchangeInfo is the largest, well under this).
pub const MAX_REST_BYTES: usize = 16 << 20;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::symbol::Name;
    use proptest::prelude::*;

    /// Runs every parser on `bytes`. A panic fails the property; results are only checked for
    /// self-consistency (an error always has a reason).
    fn run_all(bytes: &[u8]) {
        fn reason<T>(r: Result<T, ParseError>) {
            if let Err(e) = r {
                assert!(!e.reason().is_empty());
                assert!(!e.to_string().is_empty());
            }
        }
        reason(parse_market_event(bytes));
        reason(parse_agg_trade(bytes));
        reason(parse_kline_event(bytes));
        reason(parse_book_ticker(bytes));
        reason(parse_mark_price(bytes));
        reason(parse_rest_klines(bytes, 1_626_992_760_000));
        reason(parse_rest_agg_trades(bytes, Name::new("BTCUSDT").unwrap()));
        reason(parse_rest_book_tickers(bytes));
        reason(parse_account(bytes));
        reason(parse_position_risk(bytes));
        reason(parse_user_event(bytes));
        reason(parse_exchange_info(bytes));
    }

    const ALL_SAMPLES: [&str; 23] = [
        samples::AGG_TRADE,
        samples::AGG_TRADE_RAW,
        samples::KLINE,
        samples::KLINE_NO_TRADES,
        samples::BOOK_TICKER,
        samples::MARK_PRICE,
        samples::DEPTH_UPDATE,
        samples::REST_KLINES,
        samples::REST_AGG_TRADES,
        samples::REST_BOOK_TICKER,
        samples::REST_BOOK_TICKERS,
        samples::ACCOUNT_V3,
        samples::ACCOUNT_V2,
        samples::POSITION_RISK_V3,
        samples::POSITION_RISK_V2,
        samples::ACCOUNT_UPDATE,
        samples::ORDER_TRADE_UPDATE,
        samples::ORDER_FILL,
        samples::ALGO_UPDATE,
        samples::LISTEN_KEY_EXPIRED,
        samples::TRADE_LITE,
        samples::EXCHANGE_INFO,
        r#"{"e":"kline","E":1,"s":"X","k":{"t":-9223372036854775808,"T":9223372036854775807,"s":"X","i":"1M","f":0,"L":0,"o":"1","c":"1","h":"1","l":"1","v":"0","n":0,"x":false,"q":"0","V":"0","Q":"0"}}"#,
    ];

    /// Bytes that keep mutated payloads close to the grammar, so mutations reach deep code paths.
    const JSON_BYTES: &[u8] = b"{}[]\":,-.0123456789eE+ \\tfnu\xff";

    #[derive(Debug, Clone)]
    enum Edit {
        Replace(usize, u8),
        Insert(usize, u8),
        Delete(usize),
        Truncate(usize),
        Duplicate(usize, usize),
    }

    fn edit() -> impl Strategy<Value = Edit> {
        let byte = prop_oneof![any::<u8>(), proptest::sample::select(JSON_BYTES)];
        prop_oneof![
            (any::<usize>(), byte.clone()).prop_map(|(i, b)| Edit::Replace(i, b)),
            (any::<usize>(), byte).prop_map(|(i, b)| Edit::Insert(i, b)),
            any::<usize>().prop_map(Edit::Delete),
            any::<usize>().prop_map(Edit::Truncate),
            (any::<usize>(), 1usize..40).prop_map(|(i, n)| Edit::Duplicate(i, n)),
        ]
    }

    fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
        for e in edits {
            let len = bytes.len().max(1);
            match *e {
                Edit::Replace(i, b) => {
                    if let Some(slot) = bytes.get_mut(i % len) {
                        *slot = b;
                    }
                }
                Edit::Insert(i, b) => bytes.insert(i % (bytes.len() + 1), b),
                Edit::Delete(i) => {
                    if !bytes.is_empty() {
                        bytes.remove(i % len);
                    }
                }
                Edit::Truncate(i) => bytes.truncate(i % len),
                Edit::Duplicate(i, n) => {
                    let start = i % len;
                    let end = (start + n).min(bytes.len());
                    let chunk = bytes.get(start..end).unwrap_or_default().to_vec();
                    bytes.splice(start..start, chunk);
                }
            }
        }
        bytes
    }

    /// True when some parser accepts the payload.
    fn accepted(bytes: &[u8]) -> bool {
        parse_market_event(bytes).is_ok()
            || parse_rest_klines(bytes, 0).is_ok()
            || parse_rest_agg_trades(bytes, Name::new("BTCUSDT").unwrap()).is_ok()
            || parse_rest_book_tickers(bytes).is_ok()
            || parse_account(bytes).is_ok()
            || parse_position_risk(bytes).is_ok()
            || parse_user_event(bytes).is_ok()
            || parse_exchange_info(bytes).is_ok()
    }

    #[test]
    fn mutation_seeds_are_valid_payloads() {
        // The mutations below start from payloads that parse (the user-event parser accepts any
        // event type as `UserEvent::Other`, so even the depthUpdate and the extreme kline count).
        for sample in ALL_SAMPLES {
            assert!(accepted(sample.as_bytes()), "{sample}");
            run_all(sample.as_bytes());
        }
        let extreme_kline = ALL_SAMPLES[ALL_SAMPLES.len() - 1].as_bytes();
        assert!(matches!(
            parse_market_event(extreme_kline),
            Err(ParseError::InvalidValue { field: "k.t", .. })
        ));
        assert!(!accepted(b""));
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            run_all(&bytes);
        }

        #[test]
        fn mutated_payloads_never_panic(
            sample in proptest::sample::select(ALL_SAMPLES.to_vec()),
            edits in proptest::collection::vec(edit(), 1..6),
        ) {
            run_all(&apply(sample.as_bytes().to_vec(), &edits));
        }

        #[test]
        fn enveloped_and_raw_events_agree(
            sample in proptest::sample::select(vec![samples::AGG_TRADE, samples::KLINE, samples::BOOK_TICKER]),
            stream in "[a-z@_0-9]{0,20}",
        ) {
            // Strip the capture's envelope, then wrap the same event in a new one, data first.
            let value: serde_json::Value = serde_json::from_str(sample).unwrap();
            let raw = value["data"].to_string();
            let rewrapped = format!(r#"{{"data":{raw},"stream":"{stream}"}}"#);
            let expected = parse_market_event(sample.as_bytes()).unwrap();
            prop_assert_eq!(parse_market_event(raw.as_bytes()), Ok(expected));
            prop_assert_eq!(parse_market_event(rewrapped.as_bytes()), Ok(expected));
        }
    }
}
