//! Binance payload parsers: bytes as received in, typed records or typed errors out (DESIGN.md 3.1).
