//! Node binding for tributary-core: classes and batch functions over the core, no logic of its own.

mod aggregator;
mod book_changes;
mod counts;
mod error;
mod filters;
mod gathered;
mod hot_call;
mod hub;
mod interval;
mod kline_csv;
mod parse;
mod records;
mod registry;
mod scratch;
mod trader;
