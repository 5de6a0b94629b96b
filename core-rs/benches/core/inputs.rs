//! Bench inputs: messages of the real capture in shared/data when it is present, deterministic
//! synthetic payloads otherwise, plus generated REST windows and trading days.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use tributary_core::market::{AggTrade, Kline};
use tributary_core::parse::{parse_kline_event, parse_market_event, parse_rest_klines, MarketEvent};
use tributary_core::{Decimal, Interval, Name, Symbol};

/// The capture of the USD-M combined stream (see shared/data/README.md).
const CAPTURE: &str = "usdm-ws-capture-2021-07-22.txt";

/// The official one-day aggTrades dump (see shared/data/README.md).
pub const AGG_TRADES_DAY: &str = "BTCUSD_PERP-aggTrades-2026-05-08.csv";

/// Bars in a REST klines window (the seed's `limit=45`).
pub const REST_WINDOW: usize = 45;

/// Trades in a generated day: about one every 864 ms, like the real BTCUSD_PERP dump (105,280).
pub const DAY_TRADES: usize = 100_000;

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 86_400_000;

/// The shared data folder beside the repository (as the integration tests locate it), if present.
pub fn shared_data_dir() -> Option<PathBuf> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    [manifest.join("../../shared/data"), manifest.join("../shared/data")]
        .into_iter()
        .find(|dir| dir.is_dir())
}

/// Websocket market messages, each in the combined-stream envelope as Binance sends it.
pub struct Messages {
    /// Where they came from, for the bench log.
    pub origin: String,
    pub agg_trade: String,
    pub book_ticker: String,
    /// An open 1m kline and the previous version of the same bar (fewer trades).
    pub kline: String,
    pub kline_previous: String,
    /// Every supported market event of the capture in arrival order (synthetic: a short mix).
    pub stream: Vec<String>,
}

/// The messages every group uses, loaded (and their origin logged) once.
pub fn messages() -> &'static Messages {
    static MESSAGES: OnceLock<Messages> = OnceLock::new();
    MESSAGES.get_or_init(|| {
        let messages = Messages::load();
        eprintln!("inputs: {}", messages.origin);
        messages
    })
}

impl Messages {
    /// The capture's messages when shared/data is present, else synthetic ones.
    fn load() -> Messages {
        let Some(path) = shared_data_dir().map(|dir| dir.join(CAPTURE)) else {
            eprintln!("SKIP: real capture: shared/data not found next to the repository; synthetic payloads");
            return Messages::synthetic();
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => Messages::from_capture(&text).unwrap_or_else(|| {
                eprintln!(
                    "SKIP: real capture: {} lacks a needed message; synthetic payloads",
                    path.display()
                );
                Messages::synthetic()
            }),
            Err(error) => {
                eprintln!("SKIP: real capture: {}: {error}; synthetic payloads", path.display());
                Messages::synthetic()
            }
        }
    }

    /// The first aggTrade and bookTicker, the first kline update that follows an earlier version
    /// of its bar, and every supported market event.
    fn from_capture(text: &str) -> Option<Messages> {
        let mut agg_trade = None;
        let mut book_ticker = None;
        let mut kline_pair: Option<(String, String)> = None;
        // Latest version seen of each bar: (symbol, open time) → (message, trades).
        let mut bars: HashMap<(Symbol, i64), (&str, u64)> = HashMap::new();
        let mut stream = Vec::new();
        // Line 1 is the subscription URL; the others are `<local seconds>: <raw JSON>`.
        for line in text.lines().skip(1) {
            let Some((_, json)) = line.split_once(": ") else {
                continue;
            };
            let Ok(event) = parse_market_event(json.as_bytes()) else {
                continue; // depthUpdate
            };
            stream.push(json.to_owned());
            match event {
                MarketEvent::AggTrade(_) => {
                    agg_trade.get_or_insert_with(|| json.to_owned());
                }
                MarketEvent::BookTicker(_) => {
                    book_ticker.get_or_insert_with(|| json.to_owned());
                }
                MarketEvent::Kline(event) if event.interval == Interval::M1 => {
                    let key = (event.symbol, event.kline.open_time);
                    if let Some(&(previous, trades)) = bars.get(&key) {
                        if kline_pair.is_none() && trades < event.kline.trades && !event.kline.closed {
                            kline_pair = Some((json.to_owned(), previous.to_owned()));
                        }
                    }
                    bars.insert(key, (json, event.kline.trades));
                }
                MarketEvent::Kline(_) | MarketEvent::MarkPrice(_) => {}
            }
        }
        let (kline, kline_previous) = kline_pair?;
        Some(Messages {
            origin: format!("real capture shared/data/{CAPTURE} ({} market events)", stream.len()),
            agg_trade: agg_trade?,
            book_ticker: book_ticker?,
            kline,
            kline_previous,
            stream,
        })
    }

    /// Made-up BTCUSDT messages in the shapes of the capture.
    fn synthetic() -> Messages {
        let agg_trade = r#"{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":1700000011873,"a":1893047265,"s":"BTCUSDT","p":"37118.60","q":"0.124","f":4129380412,"l":4129380414,"T":1700000011869,"m":true}}"#;
        let book_ticker = r#"{"stream":"btcusdt@bookTicker","data":{"e":"bookTicker","u":3448120937711,"s":"BTCUSDT","b":"37118.50","B":"5.318","a":"37118.60","A":"0.941","T":1700000011870,"E":1700000011874}}"#;
        let kline_previous = r#"{"stream":"btcusdt@kline_1m","data":{"e":"kline","E":1700000009502,"s":"BTCUSDT","k":{"t":1699999980000,"T":1700000039999,"s":"BTCUSDT","i":"1m","f":4129378950,"L":4129380377,"o":"37102.30","c":"37117.90","h":"37124.00","l":"37097.10","v":"86.412","n":1428,"x":false,"q":"3206817.61520","V":"47.935","Q":"1778907.42030","B":"0"}}}"#;
        let kline = r#"{"stream":"btcusdt@kline_1m","data":{"e":"kline","E":1700000011874,"s":"BTCUSDT","k":{"t":1699999980000,"T":1700000039999,"s":"BTCUSDT","i":"1m","f":4129378950,"L":4129380414,"o":"37102.30","c":"37118.60","h":"37124.00","l":"37097.10","v":"88.107","n":1465,"x":false,"q":"3269733.12900","V":"48.771","Q":"1809937.18330","B":"0"}}}"#;
        let stream = [agg_trade, book_ticker, kline_previous, agg_trade, book_ticker, kline]
            .map(str::to_owned)
            .to_vec();
        Messages {
            origin: "synthetic BTCUSDT payloads".to_owned(),
            agg_trade: agg_trade.to_owned(),
            book_ticker: book_ticker.to_owned(),
            kline: kline.to_owned(),
            kline_previous: kline_previous.to_owned(),
            stream,
        }
    }

    /// The kline message's symbol and bar.
    pub fn kline_bar(&self) -> (Symbol, Kline) {
        let event = parse_kline_event(self.kline.as_bytes()).expect("the bench's kline message parses");
        (event.symbol, event.kline)
    }

    /// The previous version of the same bar.
    pub fn kline_previous_bar(&self) -> Kline {
        parse_kline_event(self.kline_previous.as_bytes())
            .expect("the bench's previous kline message parses")
            .kline
    }
}

/// The event inside a combined-stream envelope `{"stream":"...","data":{...}}`: the raw form.
pub fn raw_event(enveloped: &str) -> &str {
    enveloped
        .split_once(r#""data":"#)
        .and_then(|(_, rest)| rest.strip_suffix('}'))
        .expect("an enveloped message")
}

/// A `ACCOUNT_UPDATE` after a fill: the margin asset's balance and the symbol's one-way position.
pub const ACCOUNT_UPDATE: &str = r#"{"e":"ACCOUNT_UPDATE","E":1700000011901,"T":1700000011897,"a":{"m":"ORDER","B":[{"a":"USDT","wb":"10412.58316044","cw":"10412.58316044","bc":"0"}],"P":[{"s":"BTCUSDT","pa":"0.250","ep":"37104.28","bep":"37122.83214","cr":"-1528.40271500","up":"3.58000000","mt":"cross","iw":"0","ps":"BOTH"}]}}"#;

/// Deterministic pseudo-random numbers (xorshift64*): the same inputs on every run.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `0..n` (`n > 0`; the modulo bias is irrelevant here).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn decimal(mantissa: i128, scale: u8) -> Decimal {
    Decimal::new(mantissa, scale).expect("generated decimals are in range")
}

/// A `GET /fapi/v1/klines?interval=1m&limit=45` body whose newest row is the bar of `newest`,
/// priced around its open in the same price and quantity scales (a random walk of ±0.05 % steps),
/// and a server time inside that bar, so every row but the newest is closed.
pub fn rest_klines_body(newest: &Kline) -> (String, i64) {
    let price_scale = newest.open.scale();
    let qty_scale = newest.volume.scale();
    let mut price = newest.open.mantissa();
    let step = (price / 2000).max(1) as u64;
    let mut rng = Rng::new(0x5eed_0045);
    let mut rows = Vec::with_capacity(REST_WINDOW);
    for n in 0..REST_WINDOW as i64 {
        let open_time = newest.open_time - (REST_WINDOW as i64 - 1 - n) * MINUTE_MS;
        let open = price;
        let mut high = open;
        let mut low = open;
        for _ in 0..4 {
            price = (price + rng.below(2 * step + 1) as i128 - step as i128).max(step as i128 * 10);
            high = high.max(price);
            low = low.min(price);
        }
        let close = price;
        let volume = 1000 + rng.below(200_000) as i128;
        let vwap = low + (high - low) / 2;
        let buy_volume = volume * (20 + rng.below(61) as i128) / 100;
        let trades = 40 + rng.below(2000);
        let d = |m: i128| decimal(m, price_scale);
        let (volume, buy_volume) = (decimal(volume, qty_scale), decimal(buy_volume, qty_scale));
        let quote = volume.checked_mul(&d(vwap)).expect("small product");
        let buy_quote = buy_volume.checked_mul(&d(vwap)).expect("small product");
        rows.push(format!(
            r#"[{open_time},"{}","{}","{}","{}","{volume}",{},"{quote}",{trades},"{buy_volume}","{buy_quote}","0"]"#,
            d(open),
            d(high),
            d(low),
            d(close),
            open_time + MINUTE_MS - 1,
        ));
    }
    (format!("[{}]", rows.join(",")), newest.open_time + 31_415)
}

/// The parsed REST window of [`rest_klines_body`].
pub fn rest_window(newest: &Kline) -> Vec<Kline> {
    let (body, server_time) = rest_klines_body(newest);
    parse_rest_klines(body.as_bytes(), server_time).expect("the generated REST body parses")
}

/// A generated day of BTCUSDT aggTrades from 2023-11-14 00:00 UTC: ids consecutive, 1–3
/// underlying trades each, 0–1.7 s apart, prices a random walk on the 0.10 tick, quantities
/// 0.001–2.000 skewed small.
pub fn synthetic_day() -> Vec<AggTrade> {
    let symbol = btcusdt();
    let mut rng = Rng::new(0xda7_0001);
    let mut time = 1_699_920_000_000;
    let mut price: i128 = 371_186; // tenths
    let mut first_trade_id = 4_129_000_000;
    (0..DAY_TRADES as u64)
        .map(|n| {
            time += rng.below(1728) as i64;
            price += rng.below(7) as i128 - 3;
            let quantity = 1 + rng.below(2000) * rng.below(2000) / 2000;
            let last_trade_id = first_trade_id + rng.below(3);
            let trade = AggTrade {
                symbol,
                id: 1_893_000_000 + n,
                price: decimal(price, 1),
                quantity: decimal(quantity as i128, 3),
                first_trade_id,
                last_trade_id,
                trade_time: time,
                event_time: time + 4,
                buyer_is_maker: rng.below(2) == 0,
            };
            first_trade_id = last_trade_id + 1;
            trade
        })
        .collect()
}

/// `trades` as a data.binance.vision aggTrades CSV dump, header row included.
pub fn agg_trades_csv(trades: &[AggTrade]) -> Vec<u8> {
    let mut csv =
        String::from("agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker\n");
    for t in trades {
        csv.push_str(&format!(
            "{},{},{},{},{},{},{}\n",
            t.id, t.price, t.quantity, t.first_trade_id, t.last_trade_id, t.trade_time, t.buyer_is_maker
        ));
    }
    csv.into_bytes()
}

/// `trade` of [`synthetic_day`] moved `cycles` days later, its ids following the previous cycle's
/// without a gap, so a day can be replayed for as long as a benchmark runs.
pub fn replayed(trade: &AggTrade, cycles: u64) -> AggTrade {
    // A day holds DAY_TRADES aggTrades of at most 3 underlying trades each.
    let trade_id_shift = cycles * 3 * DAY_TRADES as u64;
    AggTrade {
        id: trade.id + cycles * DAY_TRADES as u64,
        first_trade_id: trade.first_trade_id + trade_id_shift,
        last_trade_id: trade.last_trade_id + trade_id_shift,
        trade_time: trade.trade_time + cycles as i64 * DAY_MS,
        event_time: trade.event_time + cycles as i64 * DAY_MS,
        ..*trade
    }
}

pub fn btcusdt() -> Symbol {
    Name::new("BTCUSDT").expect("a valid symbol")
}
