//! Streaming reader of data.binance.vision aggTrades CSV dumps.
