// Sorts raw combined-stream frames by stream kind without parsing them: aggTrades per symbol, the rest together.

const STREAM_KEY = Buffer.from('"stream":"', 'latin1');
const EVENT_TIME_KEY = Buffer.from('"E":', 'latin1');
const QUOTE = 0x22;
const ZERO = 0x30;
const NINE = 0x39;

/** A batch split by what each frame is. */
export interface RoutedFrames {
  /** `aggTrade` frames per upper-case symbol, in arrival order. */
  readonly aggTrades: Map<string, Buffer[]>;
  /** `kline_*` and `bookTicker` frames, for the native Ingest encoder. */
  readonly mergeable: Buffer[];
  /** `!markPrice@arr` / `!markPrice@arr@1s` frames: every symbol's mark price and funding. */
  readonly markPrices: Buffer[];
  /** Frames without a recognisable stream name (counted; the native parser would reject them). */
  readonly unknown: Buffer[];
}

/**
 * The stream name of a combined-stream frame (`{"stream":"btcusdt@aggTrade","data":...}`), read
 * from the first bytes only, or undefined.
 */
export function streamName(frame: Buffer): string | undefined {
  const at = frame.indexOf(STREAM_KEY, 0);
  if (at < 0 || at > 16) return undefined;
  const start = at + STREAM_KEY.length;
  const end = frame.indexOf(QUOTE, start);
  if (end < 0 || end - start > 64) return undefined;
  return frame.toString('latin1', start, end);
}

/**
 * The exchange's event time (`E`, Unix ms) of a combined-stream frame, read near its start (every
 * market event puts `e` and `E` first; an array payload gives its first element's), or undefined.
 */
export function eventTime(frame: Buffer): number | undefined {
  const at = frame.indexOf(EVENT_TIME_KEY, 0);
  if (at < 0 || at > 128) return undefined;
  let value = 0;
  let digits = 0;
  for (let i = at + EVENT_TIME_KEY.length; i < frame.length && digits < 16; i++) {
    const c = frame[i] as number;
    if (c < ZERO || c > NINE) break;
    value = value * 10 + (c - ZERO);
    digits += 1;
  }
  return digits === 0 ? undefined : value;
}

/** The newest event time of a batch of frames, or undefined when none carries one. */
export function newestEventTime(frames: readonly Buffer[]): number | undefined {
  let newest: number | undefined;
  for (const frame of frames) {
    const time = eventTime(frame);
    if (time !== undefined && (newest === undefined || time > newest)) newest = time;
  }
  return newest;
}

/** Splits a batch of frames from the market and public routes. */
export function routeFrames(frames: readonly Buffer[]): RoutedFrames {
  const routed: RoutedFrames = { aggTrades: new Map(), mergeable: [], markPrices: [], unknown: [] };
  for (const frame of frames) {
    const name = streamName(frame);
    const at = name?.indexOf('@') ?? -1;
    if (name === undefined || at <= 0) {
      routed.unknown.push(frame);
      continue;
    }
    const kind = name.slice(at + 1);
    if (name.startsWith('!markPrice@arr')) {
      routed.markPrices.push(frame);
    } else if (kind === 'aggTrade') {
      const symbol = name.slice(0, at).toUpperCase();
      const list = routed.aggTrades.get(symbol);
      if (list === undefined) routed.aggTrades.set(symbol, [frame]);
      else list.push(frame);
    } else {
      routed.mergeable.push(frame);
    }
  }
  return routed;
}
