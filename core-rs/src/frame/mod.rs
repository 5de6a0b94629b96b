//! Hub frame codec over the FlatBuffers schema in core-rs/schema (DESIGN.md 3.3).
