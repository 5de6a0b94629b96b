//! Order vocabulary of the user-data stream: order types, statuses, execution types and the other
//! exchange enums, each keeping unknown values so no order record is ever lost.

use super::wire::wire_enum;

wire_enum! {
    /// Order type (`o`, `ot`, algo `o` and `act`).
    OrderType {
        Limit => "LIMIT",
        Market => "MARKET",
        Stop => "STOP",
        StopMarket => "STOP_MARKET",
        TakeProfit => "TAKE_PROFIT",
        TakeProfitMarket => "TAKE_PROFIT_MARKET",
        TrailingStopMarket => "TRAILING_STOP_MARKET",
        Liquidation => "LIQUIDATION",
    }
}

wire_enum! {
    /// Order status (`X` of `ORDER_TRADE_UPDATE`).
    OrderStatus {
        New => "NEW",
        PartiallyFilled => "PARTIALLY_FILLED",
        Filled => "FILLED",
        Canceled => "CANCELED",
        Expired => "EXPIRED",
        ExpiredInMatch => "EXPIRED_IN_MATCH",
    }
}

wire_enum! {
    /// What happened to the order in this update (`x`).
    ExecutionType {
        New => "NEW",
        Canceled => "CANCELED",
        /// Liquidation execution.
        Calculated => "CALCULATED",
        Expired => "EXPIRED",
        Trade => "TRADE",
        /// The order was modified.
        Amendment => "AMENDMENT",
    }
}

wire_enum! {
    /// Time in force (`f`).
    TimeInForce {
        Gtc => "GTC",
        Ioc => "IOC",
        Fok => "FOK",
        /// Good till crossing: post-only.
        Gtx => "GTX",
        Gtd => "GTD",
    }
}

wire_enum! {
    /// Which price triggers a stop (`wt`).
    WorkingType {
        MarkPrice => "MARK_PRICE",
        ContractPrice => "CONTRACT_PRICE",
    }
}

wire_enum! {
    /// Self-trade prevention mode (`V`).
    SelfTradePrevention {
        None => "NONE",
        ExpireTaker => "EXPIRE_TAKER",
        ExpireMaker => "EXPIRE_MAKER",
        ExpireBoth => "EXPIRE_BOTH",
    }
}

wire_enum! {
    /// Price match mode (`pm`).
    PriceMatch {
        None => "NONE",
        Opponent => "OPPONENT",
        Opponent5 => "OPPONENT_5",
        Opponent10 => "OPPONENT_10",
        Opponent20 => "OPPONENT_20",
        Queue => "QUEUE",
        Queue5 => "QUEUE_5",
        Queue10 => "QUEUE_10",
        Queue20 => "QUEUE_20",
    }
}

wire_enum! {
    /// Kind of algo order (`at` of `ALGO_UPDATE`).
    AlgoType {
        Conditional => "CONDITIONAL",
    }
}

wire_enum! {
    /// Status of a conditional order in the algo service (`X` of `ALGO_UPDATE`).
    AlgoStatus {
        /// Accepted by the algo service, not yet triggered.
        New => "NEW",
        Canceled => "CANCELED",
        /// Trigger condition met, being forwarded to the matching engine.
        Triggering => "TRIGGERING",
        /// Placed in the matching engine.
        Triggered => "TRIGGERED",
        /// The triggered order was filled or canceled in the matching engine.
        Finished => "FINISHED",
        Rejected => "REJECTED",
        /// Canceled by the system.
        Expired => "EXPIRED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values_round_trip_and_unknown_are_kept() {
        for t in [
            "LIMIT",
            "MARKET",
            "STOP",
            "STOP_MARKET",
            "TAKE_PROFIT",
            "TAKE_PROFIT_MARKET",
            "TRAILING_STOP_MARKET",
            "LIQUIDATION",
        ] {
            let parsed = OrderType::from_wire(t);
            assert!(!matches!(parsed, OrderType::Other(_)), "{t}");
            assert_eq!(parsed.as_str(), t);
        }
        assert_eq!(OrderType::from_wire("ICEBERG"), OrderType::Other("ICEBERG".to_owned()));
        assert_eq!(OrderType::from_wire("ICEBERG").to_string(), "ICEBERG");
        assert_eq!(OrderStatus::from_wire("EXPIRED_IN_MATCH"), OrderStatus::ExpiredInMatch);
        assert_eq!(ExecutionType::from_wire("AMENDMENT"), ExecutionType::Amendment);
        assert_eq!(TimeInForce::from_wire("GTX"), TimeInForce::Gtx);
        assert_eq!(WorkingType::from_wire("MARK_PRICE"), WorkingType::MarkPrice);
        assert_eq!(
            SelfTradePrevention::from_wire("EXPIRE_MAKER"),
            SelfTradePrevention::ExpireMaker
        );
        assert_eq!(PriceMatch::from_wire("QUEUE_20"), PriceMatch::Queue20);
        assert_eq!(AlgoStatus::from_wire("TRIGGERING"), AlgoStatus::Triggering);
        assert_eq!(AlgoType::from_wire("CONDITIONAL"), AlgoType::Conditional);
        // Case matters on the wire.
        assert_eq!(OrderStatus::from_wire("new"), OrderStatus::Other("new".to_owned()));
    }
}
