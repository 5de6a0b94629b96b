import { describe, expect, it } from 'vitest';
import { parseUserEvent } from '../native/parse.js';
import { readStreamGapNotice, STREAM_GAP_EVENT, streamGapEvent } from './stream-gap-notice.js';

describe('stream gap notice', () => {
  it('reads back what the collector relays, and a trader parsing it natively sees an event it ignores', () => {
    const event = streamGapEvent({
      reason: 'stream-reconnect',
      at: 1_700_000_000_500,
      lostAt: 1_700_000_000_000,
    });
    expect(readStreamGapNotice(event.toString('utf8'))).toEqual({
      reason: 'stream-reconnect',
      at: 1_700_000_000_500,
      lostAt: 1_700_000_000_000,
    });
    const parsed = parseUserEvent(event);
    expect(parsed.kind).toBe('other');
    expect(parsed.orderUpdate).toBeUndefined();
    expect(parsed.eventType).toBe(STREAM_GAP_EVENT);
  });

  it('is not found in order events or in texts that only look like it', () => {
    const order = '{"e":"ORDER_TRADE_UPDATE","E":1,"T":1,"o":{"s":"BTCUSDT"}}';
    expect(readStreamGapNotice(order)).toBeUndefined();
    expect(readStreamGapNotice(`{"e":"${STREAM_GAP_EVENT}","E":1,"reason":"made-up"}`)).toBeUndefined();
    expect(readStreamGapNotice(`{"e":"${STREAM_GAP_EVENT}"`)).toBeUndefined();
    expect(readStreamGapNotice(`{"e":"${STREAM_GAP_EVENT}","E":2,"reason":"hub-reconnect"}`)).toEqual({
      reason: 'hub-reconnect',
      at: 2,
      lostAt: null,
    });
  });
});
