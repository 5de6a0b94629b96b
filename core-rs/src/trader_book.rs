//! Trader book: applies hub frames in sequence and exposes columnar views (DESIGN.md 3.4).
