//! Hub merge book: merges klines, ticks, positions, balances and the ban list from many sources (DESIGN.md 3.2).
