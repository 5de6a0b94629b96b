//! Bar aggregator: aggTrades into klines for every listed interval (DESIGN.md 3.5).
