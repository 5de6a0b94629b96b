// Records in a form two books can be compared by: exact decimals normalised, the silently advancing `asOf` left out.
import { Decimal } from '../../exact/decimal.js';

/**
 * A record in comparable form: every decimal string as its exact value with trailing zeros
 * removed (the wire may add zeros: a kline's prices share one scale, docs/protocol.md "Values"),
 * and without `asOf` (the hub advances it silently when a tick only confirms a close, so a trader
 * that followed the deltas may hold an older `asOf` than a fresh snapshot; protocol.md "Semantics").
 */
export function comparableRecord(record: object | null | undefined): unknown {
  if (record === null || record === undefined) return null;
  return Object.fromEntries(
    Object.entries(record)
      .filter(([key]) => key !== 'asOf')
      .map(([key, value]) => {
        const exact = typeof value === 'string' ? Decimal.tryParse(value) : undefined;
        return [key, exact === undefined ? value : exact.normalize().toString()];
      }),
  );
}
