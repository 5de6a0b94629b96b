//! Sample payloads in the shapes Binance sends (captured or from the USD-M API docs), and the
//! checks every parser's tests share.

use super::ParseError;

/// A combined-stream aggTrade from the 2021-07-22 capture.
pub const AGG_TRADE: &str = r#"{"stream":"ctkusdt@aggTrade","data":{"e":"aggTrade","E":1626992741575,"a":16599292,"s":"CTKUSDT","p":"1.01100","q":"10","f":23961322,"l":23961322,"T":1626992741421,"m":false}}"#;

/// A raw aggTrade in the current docs' shape, with the newer `nq` field.
pub const AGG_TRADE_RAW: &str = r#"{"e":"aggTrade","E":123456789,"s":"BTCUSDT","a":5933014,"p":"0.001","q":"100","nq":"100","f":100,"l":105,"T":123456785,"m":true}"#;

/// A combined-stream kline from the capture.
pub const KLINE: &str = r#"{"stream":"ctkusdt@kline_1m","data":{"e":"kline","E":1626992741424,"s":"CTKUSDT","k":{"t":1626992700000,"T":1626992759999,"s":"CTKUSDT","i":"1m","f":23961275,"L":23961322,"o":"1.01000","c":"1.01100","h":"1.01100","l":"1.01000","v":"3917","n":48,"x":false,"q":"3957.89900","V":"1729","Q":"1748.01900","B":"0"}}}"#;

/// A raw 1h kline with no trades yet (`f`/`L` of -1), closed.
pub const KLINE_NO_TRADES: &str = r#"{"e":"kline","E":1626994800001,"s":"BTCUSDT","k":{"t":1626991200000,"T":1626994799999,"s":"BTCUSDT","i":"1h","f":-1,"L":-1,"o":"32100.5","c":"32100.5","h":"32100.5","l":"32100.5","v":"0","n":0,"x":true,"q":"0","V":"0","Q":"0","B":"0"}}"#;

/// A combined-stream bookTicker from the capture.
pub const BOOK_TICKER: &str = r#"{"stream":"sushiusdt@bookTicker","data":{"e":"bookTicker","u":600859600576,"s":"SUSHIUSDT","b":"7.6110","B":"2","a":"7.6120","A":"297","T":1626992741012,"E":1626992741017}}"#;

/// A raw markPriceUpdate (docs shape).
pub const MARK_PRICE: &str = r#"{"e":"markPriceUpdate","E":1562305380000,"s":"BTCUSDT","p":"11794.15000000","i":"11784.62659091","P":"11784.25641265","r":"-0.00038167","T":1562306400000}"#;

/// A depthUpdate from the capture: valid, but not a supported market event.
pub const DEPTH_UPDATE: &str = r#"{"stream":"akrousdt@depth@100ms","data":{"e":"depthUpdate","E":1626992741077,"T":1626992740974,"s":"AKROUSDT","U":600859599831,"u":600859599831,"pu":600859598737,"b":[],"a":[["0.01737","437848"]]}}"#;

/// `GET /fapi/v1/klines`: the docs row and a second 1m row.
pub const REST_KLINES: &str = r#"[[1499040000000,"0.01634790","0.80000000","0.01575800","0.01577100","148976.11427815",1499644799999,"2434.19055334",308,"1756.87402397","28.46694368","17928899.62484339"],[1626992700000,"1.01000","1.01100","1.01000","1.01100","3917",1626992759999,"3957.89900",48,"1729","1748.01900","0"]]"#;

/// `GET /fapi/v1/aggTrades` (docs shape).
pub const REST_AGG_TRADES: &str = r#"[{"a":26129,"p":"0.01633102","q":"4.70443515","f":27781,"l":27781,"T":1498793709153,"m":true},{"a":26130,"p":"0.01633200","q":"1","f":27782,"l":27790,"T":1498793709160,"m":false}]"#;

/// `GET /fapi/v1/ticker/bookTicker?symbol=BTCUSDT` (docs shape).
pub const REST_BOOK_TICKER: &str = r#"{"symbol":"BTCUSDT","bidPrice":"4.00000000","bidQty":"431.00000000","askPrice":"4.00000200","askQty":"9.00000000","time":1589437530011,"lastUpdateId":1027024}"#;

/// `GET /fapi/v1/ticker/bookTicker` for all symbols.
pub const REST_BOOK_TICKERS: &str = r#"[{"symbol":"BTCUSDT","bidPrice":"4.00000000","bidQty":"431.00000000","askPrice":"4.00000200","askQty":"9.00000000","time":1589437530011,"lastUpdateId":1027024},{"symbol":"SUSHIUSDT","bidPrice":"7.6110","bidQty":"2","askPrice":"7.6120","askQty":"297","time":1626992741012,"lastUpdateId":600859600576}]"#;

/// `GET /fapi/v1/ticker/price` for all symbols (latest traded price).
pub const REST_PRICE_TICKERS: &str = r#"[{"symbol":"BTCUSDT","price":"6000.01","time":1589437530011},{"symbol":"SUSHIUSDT","price":"7.6115","time":1626992741012}]"#;

/// `GET /fapi/v3/account`: positions without entry price.
pub const ACCOUNT_V3: &str = r#"{"totalInitialMargin":"0.00000000","totalMaintMargin":"0.00000000","totalWalletBalance":"103.12345678","totalUnrealizedProfit":"0.00000000","totalMarginBalance":"103.12345678","totalPositionInitialMargin":"0.00000000","totalOpenOrderInitialMargin":"0.00000000","totalCrossWalletBalance":"103.12345678","totalCrossUnPnl":"0.00000000","availableBalance":"103.12345678","maxWithdrawAmount":"103.12345678","assets":[{"asset":"USDT","walletBalance":"23.72469206","unrealizedProfit":"-0.51000000","marginBalance":"23.21469206","maintMargin":"0.00000000","initialMargin":"0.00000000","positionInitialMargin":"0.00000000","openOrderInitialMargin":"0.00000000","crossWalletBalance":"23.72469206","crossUnPnl":"0.00000000","availableBalance":"23.72469206","maxWithdrawAmount":"23.72469206","updateTime":1625474304765}],"positions":[{"symbol":"BTCUSDT","positionSide":"BOTH","positionAmt":"-1.000","unrealizedProfit":"-0.51000000","isolatedMargin":"0.00000000","notional":"-31000","isolatedWallet":"0","initialMargin":"0","maintMargin":"0","updateTime":1625474304766}]}"#;

/// `GET /fapi/v2/account`: positions with entry and break-even prices.
pub const ACCOUNT_V2: &str = r#"{"feeTier":0,"canTrade":true,"updateTime":0,"assets":[{"asset":"USDT","walletBalance":"23.72469206","unrealizedProfit":"0.00000000","marginBalance":"23.72469206","maintMargin":"0.00000000","initialMargin":"0.00000000","positionInitialMargin":"0.00000000","openOrderInitialMargin":"0.00000000","crossWalletBalance":"23.72469206","crossUnPnl":"0.00000000","availableBalance":"23.72469206","maxWithdrawAmount":"23.72469206","marginAvailable":true,"updateTime":1625474304765}],"positions":[{"symbol":"BTCUSDT","initialMargin":"0","maintMargin":"0","unrealizedProfit":"0.00000000","positionInitialMargin":"0","openOrderInitialMargin":"0","leverage":"100","isolated":true,"entryPrice":"31000.10","breakEvenPrice":"31012.5","maxNotional":"250000","bidNotional":"0","askNotional":"0","positionSide":"LONG","positionAmt":"0.010","updateTime":1625474304767}]}"#;

/// `GET /fapi/v3/positionRisk`.
pub const POSITION_RISK_V3: &str = r#"[{"symbol":"ADAUSDT","positionSide":"BOTH","positionAmt":"30","entryPrice":"0.385","breakEvenPrice":"0.385077","markPrice":"0.41047590","unRealizedProfit":"0.76427700","liquidationPrice":"0","isolatedMargin":"0","notional":"12.31427700","marginAsset":"USDT","isolatedWallet":"0","initialMargin":"0.61571385","maintMargin":"0.08004280","positionInitialMargin":"0.61571385","openOrderInitialMargin":"0","adl":2,"bidNotional":"0","askNotional":"0","updateTime":1720736417660}]"#;

/// `GET /fapi/v2/positionRisk`.
pub const POSITION_RISK_V2: &str = r#"[{"entryPrice":"0.00000","breakEvenPrice":"0.0","marginType":"isolated","isAutoAddMargin":"false","isolatedMargin":"0.00000000","leverage":"10","liquidationPrice":"0","markPrice":"6679.50671178","maxNotionalValue":"20000000","positionAmt":"0.000","notional":"0","isolatedWallet":"0","symbol":"BTCUSDT","unRealizedProfit":"0.00000000","positionSide":"SHORT","updateTime":0}]"#;

/// `ACCOUNT_UPDATE` (docs shape).
pub const ACCOUNT_UPDATE: &str = r#"{"e":"ACCOUNT_UPDATE","E":1564745798939,"T":1564745798938,"a":{"m":"ORDER","B":[{"a":"USDT","wb":"122624.12345678","cw":"100.12345678","bc":"50.12345678"},{"a":"BUSD","wb":"1.00000000","cw":"0.00000000","bc":"-49.12345678"}],"P":[{"s":"BTCUSDT","pa":"0","ep":"0.00000","bep":"0","cr":"200","up":"0","mt":"isolated","iw":"0.00000000","ps":"BOTH"},{"s":"BTCUSDT","pa":"20","ep":"6563.66500","bep":"6563.6","cr":"0","up":"2850.21200","mt":"isolated","iw":"13200.70726908","ps":"LONG"}]}}"#;

/// `ORDER_TRADE_UPDATE` for a trailing stop (docs shape).
pub const ORDER_TRADE_UPDATE: &str = r#"{"e":"ORDER_TRADE_UPDATE","E":1568879465651,"T":1568879465650,"o":{"s":"BTCUSDT","c":"TEST","S":"SELL","o":"TRAILING_STOP_MARKET","f":"GTC","q":"0.001","p":"0","ap":"0","sp":"7103.04","x":"NEW","X":"NEW","i":8886774,"l":"0","z":"0","L":"0","N":"USDT","n":"0","T":1568879465650,"t":0,"b":"0","a":"9.91","m":false,"R":false,"wt":"CONTRACT_PRICE","ot":"TRAILING_STOP_MARKET","ps":"LONG","cp":false,"AP":"7476.89","cr":"5.0","pP":false,"si":0,"ss":0,"rp":"0","V":"EXPIRE_TAKER","pm":"OPPONENT","gtd":0}}"#;

/// `ORDER_TRADE_UPDATE` for a maker fill without the optional fields.
pub const ORDER_FILL: &str = r#"{"stream":"listenkey","data":{"e":"ORDER_TRADE_UPDATE","E":1700000000123,"T":1700000000120,"o":{"s":"SUSHIUSDT","c":"m_abc123","S":"BUY","o":"LIMIT","f":"GTX","q":"12","p":"7.6110","ap":"7.6110","x":"TRADE","X":"PARTIALLY_FILLED","i":42,"l":"5","z":"5","L":"7.6110","T":1700000000119,"t":987654,"m":true,"R":false,"wt":"CONTRACT_PRICE","ot":"LIMIT","ps":"BOTH","cp":false,"rp":"-0.12000000"}}}"#;

/// `ALGO_UPDATE` (docs shape, 2025-12 algo service).
pub const ALGO_UPDATE: &str = r#"{"e":"ALGO_UPDATE","T":1750515742297,"E":1750515742303,"o":{"caid":"Q5xaq5EGKgXXa0fD7fs0Ip","aid":2148719,"at":"CONDITIONAL","o":"TAKE_PROFIT","s":"BNBUSDT","S":"SELL","ps":"BOTH","f":"GTC","q":"0.01","X":"CANCELED","ai":"","ap":"0.00000","aq":"0.00000","act":"0","tp":"750","p":"750","V":"EXPIRE_MAKER","wt":"CONTRACT_PRICE","pm":"NONE","cp":false,"pP":false,"R":false,"tt":0,"gtd":0,"rm":"Reduce Only reject"}}"#;

/// `listenKeyExpired`, whose event time is a string.
pub const LISTEN_KEY_EXPIRED: &str = r#"{"stream":"WsCMN0a4KHUPTQuX6IUnqEZfB1","data":{"e":"listenKeyExpired","E":"1736996475556","listenKey":"WsCMN0a4KHUPTQuX6IUnqEZfB1"}}"#;

/// `TRADE_LITE`: valid, not modelled.
pub const TRADE_LITE: &str = r#"{"e":"TRADE_LITE","E":1721895408092,"T":1721895408214,"s":"BTCUSDT","q":"0.001","p":"0","m":false,"c":"z8hcUoOsqEdKMeKPSABslD","S":"BUY","L":"64089.20","l":"0.040","t":109100866,"i":8886774}"#;

/// A two-symbol exchangeInfo: one tradable perpetual and one index contract, plus an unknown filter.
pub const EXCHANGE_INFO: &str = r#"{"timezone":"UTC","serverTime":1626858243909,"futuresType":"U_MARGINED","rateLimits":[{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":2400},{"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":300}],"exchangeFilters":[],"assets":[],"symbols":[{"symbol":"SUSHIUSDT","pair":"SUSHIUSDT","contractType":"PERPETUAL","deliveryDate":4133404800000,"onboardDate":1569398400000,"status":"TRADING","baseAsset":"SUSHI","quoteAsset":"USDT","marginAsset":"USDT","pricePrecision":4,"quantityPrecision":0,"underlyingType":"COIN","underlyingSubType":["DEFI","HOT"],"filters":[{"minPrice":"0.1430","maxPrice":"500","filterType":"PRICE_FILTER","tickSize":"0.0010"},{"stepSize":"1","filterType":"LOT_SIZE","maxQty":"10000000","minQty":"1"},{"stepSize":"1","filterType":"MARKET_LOT_SIZE","maxQty":"100000","minQty":"1"},{"limit":200,"filterType":"MAX_NUM_ORDERS"},{"limit":10,"filterType":"MAX_NUM_ALGO_ORDERS"},{"notional":"5","filterType":"MIN_NOTIONAL"},{"multiplierDown":"0.8500","multiplierUp":"1.1500","multiplierDecimal":"4","filterType":"PERCENT_PRICE"},{"filterType":"POSITION_RISK_CONTROL","positionControlSide":"NONE"}]},{"symbol":"BTCDOMUSDT","pair":"BTCDOMUSDT","contractType":"PERPETUAL","status":"TRADING","baseAsset":"BTCDOM","quoteAsset":"USDT","marginAsset":"USDT","pricePrecision":1,"quantityPrecision":3,"underlyingType":"INDEX","filters":[{"minPrice":"10","maxPrice":"0","filterType":"PRICE_FILTER","tickSize":"0.1"}]}]}"#;

/// `text` with the first `from` replaced by `to`; fails the test if `from` is absent, so a
/// variant can never silently equal the valid payload.
pub fn replaced(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "{from:?} not in sample");
    text.replacen(from, to, 1)
}

/// Every proper prefix of a valid payload is an error, and a truncation error at that.
pub fn assert_prefixes_truncated<T: std::fmt::Debug>(payload: &str, parse: impl Fn(&[u8]) -> Result<T, ParseError>) {
    let bytes = payload.as_bytes();
    for cut in 0..bytes.len() {
        match parse(&bytes[..cut]) {
            Err(err) => assert_eq!(err.reason(), "truncated", "cut at {cut}: {err}"),
            Ok(value) => panic!("prefix of {cut} bytes parsed: {value:?}"),
        }
    }
    assert!(parse(bytes).is_ok(), "the whole payload must parse");
}

/// The error's stable reason, or a panic naming the unexpected success.
pub fn reason_of<T: std::fmt::Debug>(result: Result<T, ParseError>) -> &'static str {
    match result {
        Ok(value) => panic!("expected an error, parsed {value:?}"),
        Err(err) => err.reason(),
    }
}
