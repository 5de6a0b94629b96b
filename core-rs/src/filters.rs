//! Exchange symbol filters (tick size, step size, min/max, min notional): snap and check orders before sending.
