// Parses the URL a websocket client connects to: Binance's routed paths, streams, listen keys, events.
import type { StreamRoute } from '../contracts.js';

/** Where a connection is attached: a market route, or user data. */
export type ConnectionRoute = StreamRoute | 'private';

/** Event names a `/private` connection may ask for with `events=` (Binance's user-data events). */
export const USER_EVENT_NAMES: ReadonlySet<string> = new Set([
  'ACCOUNT_UPDATE',
  'ORDER_TRADE_UPDATE',
  'ALGO_UPDATE',
  'ACCOUNT_CONFIG_UPDATE',
  'MARGIN_CALL',
  'CONDITIONAL_ORDER_TRIGGER_REJECT',
  'TRADE_LITE',
  'STRATEGY_UPDATE',
  'GRID_UPDATE',
  'listenKeyExpired',
]);

/** A parsed connection URL. */
export interface WsTarget {
  readonly route: ConnectionRoute;
  /** `/stream` (combined `{stream, data}` frames) rather than `/ws` (raw payloads). */
  readonly combined: boolean;
  /** Market stream names as written in the URL (not yet resolved), or listen keys on `/private`. */
  readonly names: readonly string[];
  /** `/private` only: the `events=` allow list, or undefined for every event. */
  readonly events?: ReadonlySet<string>;
}

/** A refused upgrade: the HTTP status and Binance-style body written before the socket is closed. */
export class UpgradeRefusal extends Error {
  override readonly name = 'UpgradeRefusal';
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

function splitNames(text: string): string[] {
  return text
    .split('/')
    .filter((s) => s !== '')
    .map((s) => decodeURIComponent(s));
}

/**
 * Reads `/public|/market/ws/<s1>/<s2>`, `/public|/market/stream?streams=<s1>/<s2>`, and on `/private`
 * `ws?listenKey=<k1>/<k2>&events=<E1>/<E2>`, `ws/<key>`, `stream?streams=<k1>/<k2>` or a bare
 * `ws`/`stream` whose keys come later by SUBSCRIBE. A path without a route (`/ws`, `/stream`) is
 * the public route, as on Binance. Throws {@link UpgradeRefusal} for anything else.
 */
export function parseWsTarget(rawUrl: string, maxStreams: number): WsTarget {
  let url: URL;
  try {
    url = new URL(rawUrl, 'http://localhost');
  } catch {
    throw new UpgradeRefusal(400, -1100, 'Malformed websocket URL.');
  }
  const segments = url.pathname.split('/').filter((s) => s !== '');
  const [first, second, ...rest] = segments;
  const streamsParam = url.searchParams.get('streams');
  let names: string[];
  try {
    if (first === 'private') return privateTarget(url, second, rest, streamsParam, maxStreams);
    const routed = first === 'public' || first === 'market';
    const route: StreamRoute = first === 'market' ? 'market' : 'public';
    const kind = routed ? second : first;
    const tail = routed ? rest : second === undefined ? rest : [second, ...rest];
    if (kind === 'ws') {
      names = tail.flatMap(splitNames);
    } else if (kind === 'stream' && tail.length === 0) {
      names = streamsParam === null ? [] : splitNames(streamsParam);
    } else {
      throw new UpgradeRefusal(404, -1000, `Unknown websocket path ${url.pathname.slice(0, 200)}`);
    }
    if (names.length > maxStreams) {
      throw new UpgradeRefusal(400, -1000, `Too many streams; at most ${maxStreams} per connection.`);
    }
    return { route, combined: kind === 'stream', names };
  } catch (error) {
    if (error instanceof URIError) throw new UpgradeRefusal(400, -1100, 'Malformed websocket URL.');
    throw error;
  }
}

function privateTarget(
  url: URL,
  kind: string | undefined,
  rest: readonly string[],
  streamsParam: string | null,
  maxStreams: number,
): WsTarget {
  if (kind !== 'ws' && kind !== 'stream') {
    throw new UpgradeRefusal(404, -1000, `Unknown websocket path ${url.pathname.slice(0, 200)}`);
  }
  const keys = [
    ...url.searchParams.getAll('listenKey').flatMap(splitNames),
    ...rest.flatMap(splitNames),
    ...(kind === 'stream' && streamsParam !== null ? splitNames(streamsParam) : []),
  ];
  if (keys.length > maxStreams) {
    throw new UpgradeRefusal(400, -1000, `Too many listen keys; at most ${maxStreams} per connection.`);
  }
  const eventsText = url.searchParams.get('events');
  let events: Set<string> | undefined;
  if (eventsText !== null) {
    events = new Set(splitNames(eventsText));
    for (const event of events) {
      if (!USER_EVENT_NAMES.has(event)) {
        throw new UpgradeRefusal(
          400,
          -1130,
          `Data sent for parameter 'events' is not valid: ${event.slice(0, 64)}`,
        );
      }
    }
  }
  return {
    route: 'private',
    combined: kind === 'stream',
    names: [...new Set(keys)],
    ...(events === undefined ? {} : { events }),
  };
}
