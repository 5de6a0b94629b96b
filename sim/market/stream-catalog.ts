// The market streams the simulator serves: Binance's names, their routed path and update speed.
import { INTERVALS, type IntervalName } from '../../ts/native/interval.js';
import type { StreamRoute } from '../contracts.js';

/** What a stream carries. */
export type MarketStreamKind =
  | 'aggTrade'
  | 'kline'
  | 'continuousKline'
  | 'markPrice'
  | 'allMarkPrice'
  | 'ticker'
  | 'allTicker'
  | 'miniTicker'
  | 'allMiniTicker'
  | 'forceOrder'
  | 'allForceOrder'
  | 'bookTicker'
  | 'allBookTicker'
  | 'partialDepth'
  | 'diffDepth';

/** A stream name the simulator serves, parsed. */
export interface MarketStream {
  /** Binance's spelling: the symbol part lower case, the rest as documented (`btcusdt@aggTrade`). */
  readonly name: string;
  readonly route: StreamRoute;
  readonly kind: MarketStreamKind;
  /** The contract (upper case) of a single-symbol stream. */
  readonly symbol?: string;
  readonly interval?: IntervalName;
  /** Levels of a partial depth stream (5, 10, 20). */
  readonly levels?: number;
  /**
   * Binance's documented update interval in ms: a stream pushes at most this often, and at least
   * this often while its data changes (`0` = every change, in real time).
   */
  readonly updateMs: number;
}

/** A name that is not a stream the simulator serves, with the reason (for logs; clients get -2). */
export interface StreamRefusal {
  readonly refused: string;
}

/** Streams Binance documents that the simulator does not serve, and why (also listed in the docs). */
export const UNSERVED_STREAMS: ReadonlyArray<{ readonly pattern: string; readonly reason: string }> = [
  { pattern: '!contractInfo', reason: 'contract information never changes in the simulator' },
  { pattern: '!assetIndex@arr, <asset>@assetIndex', reason: 'no multi-assets margin collateral' },
  { pattern: '<symbol>@compositeIndex', reason: 'no composite index contracts are listed' },
  { pattern: 'tradingSession', reason: 'no TradFi contracts are listed' },
  {
    pattern: '<pair>_current_quarter@continuousKline_<i>, <pair>_next_quarter@…, tradifi_perpetual',
    reason: 'only perpetual contracts are listed',
  },
  { pattern: '<symbol>@trade', reason: 'undocumented raw trade stream' },
];

const INTERVAL_SET: ReadonlySet<string> = new Set(INTERVALS);
const SYMBOL_PATTERN = /^[a-z0-9]{1,40}$/;

function refuse(reason: string): StreamRefusal {
  return { refused: reason };
}

/**
 * Parses a stream name as a client wrote it. The symbol part is matched case-insensitively (Binance
 * writes it in lower case); the rest must be Binance's spelling. `isListed` says whether an upper-case
 * symbol is a listed contract: a stream of an unlisted symbol is refused rather than left silent.
 */
export function resolveStream(
  raw: string,
  isListed: (symbol: string) => boolean,
): MarketStream | StreamRefusal {
  if (raw.length === 0 || raw.length > 200) return refuse('empty or overlong stream name');
  switch (raw) {
    case '!bookTicker':
      return { name: raw, route: 'public', kind: 'allBookTicker', updateMs: 5_000 };
    case '!markPrice@arr':
      return { name: raw, route: 'market', kind: 'allMarkPrice', updateMs: 3_000 };
    case '!markPrice@arr@1s':
      return { name: raw, route: 'market', kind: 'allMarkPrice', updateMs: 1_000 };
    case '!ticker@arr':
      return { name: raw, route: 'market', kind: 'allTicker', updateMs: 1_000 };
    case '!miniTicker@arr':
      return { name: raw, route: 'market', kind: 'allMiniTicker', updateMs: 1_000 };
    case '!forceOrder@arr':
      return { name: raw, route: 'market', kind: 'allForceOrder', updateMs: 1_000 };
  }
  if (raw.startsWith('!')) return refuse(`all-market stream ${raw} is not served`);
  const at = raw.indexOf('@');
  if (at <= 0) return refuse('a stream name is <symbol>@<kind>');
  const head = raw.slice(0, at).toLowerCase();
  const tail = raw.slice(at + 1);
  const continuous = /^([a-z0-9]+)_([a-z_]+)$/.exec(head);
  if (continuous !== null) return resolveContinuous(continuous[1] ?? '', continuous[2] ?? '', tail, isListed);
  if (!SYMBOL_PATTERN.test(head)) return refuse(`"${head}" is not a symbol`);
  const symbol = head.toUpperCase();
  if (!isListed(symbol)) return refuse(`${symbol} is not a listed contract`);
  const one = (kind: MarketStreamKind, route: StreamRoute, updateMs: number, extra = {}): MarketStream => ({
    name: `${head}@${tail}`,
    route,
    kind,
    symbol,
    updateMs,
    ...extra,
  });
  switch (tail) {
    case 'aggTrade':
      return one('aggTrade', 'market', 100);
    case 'markPrice':
      return one('markPrice', 'market', 3_000);
    case 'markPrice@1s':
      return one('markPrice', 'market', 1_000);
    case 'ticker':
      return one('ticker', 'market', 2_000);
    case 'miniTicker':
      return one('miniTicker', 'market', 2_000);
    case 'forceOrder':
      return one('forceOrder', 'market', 1_000);
    case 'bookTicker':
      return one('bookTicker', 'public', 0);
    case 'depth':
      return one('diffDepth', 'public', 250);
    case 'depth@100ms':
      return one('diffDepth', 'public', 100);
    case 'depth@500ms':
    case 'rpiDepth@500ms':
      return one('diffDepth', 'public', 500);
  }
  const kline = /^kline_(.+)$/.exec(tail);
  if (kline !== null) {
    const interval = kline[1] ?? '';
    if (!INTERVAL_SET.has(interval)) return refuse(`"${interval}" is not a kline interval`);
    return one('kline', 'market', 250, { interval: interval as IntervalName });
  }
  const partial = /^depth(5|10|20)(@100ms|@500ms)?$/.exec(tail);
  if (partial !== null) {
    const speed = partial[2] === '@100ms' ? 100 : partial[2] === '@500ms' ? 500 : 250;
    return one('partialDepth', 'public', speed, { levels: Number(partial[1]) });
  }
  return refuse(`"${tail}" is not a stream the simulator serves`);
}

function resolveContinuous(
  pair: string,
  contractType: string,
  tail: string,
  isListed: (symbol: string) => boolean,
): MarketStream | StreamRefusal {
  const kline = /^continuousKline_(.+)$/.exec(tail);
  if (kline === null) return refuse(`"${pair}_${contractType}@${tail}" is not a stream`);
  if (contractType !== 'perpetual') return refuse(`only perpetual contracts are listed, not ${contractType}`);
  const symbol = pair.toUpperCase();
  if (!isListed(symbol)) return refuse(`${symbol} is not a listed contract`);
  const interval = kline[1] ?? '';
  if (!INTERVAL_SET.has(interval)) return refuse(`"${interval}" is not a kline interval`);
  return {
    name: `${pair}_perpetual@continuousKline_${interval}`,
    route: 'market',
    kind: 'continuousKline',
    symbol,
    interval: interval as IntervalName,
    updateMs: 250,
  };
}

/** True when `result` is a served stream. */
export function isServed(result: MarketStream | StreamRefusal): result is MarketStream {
  return 'name' in result;
}
