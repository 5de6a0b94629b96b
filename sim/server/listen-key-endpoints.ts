// The listenKey REST endpoints (USER_STREAM, weight 1): create or extend, keep alive, delete.
import type { Endpoint, Json, RequestContext } from '../contracts.js';
import { listenKeyUnknown } from './binance-errors.js';
import type { EndedListenKey, ListenKeyRegistry } from './listen-keys.js';

const PATH = '/fapi/v1/listenKey';

function accountOf(ctx: RequestContext): string {
  // USER_STREAM requests always carry an account: the server resolved the API key first.
  if (ctx.accountId === null) throw listenKeyUnknown();
  return ctx.accountId;
}

/** A `listenKey` parameter, when the client sent one (fapi needs none: one key per account). */
function keyParam(ctx: RequestContext): string | undefined {
  const value = ctx.params.listenKey;
  return value === undefined || value === '' ? undefined : value;
}

/**
 * `POST` returns the account's live key (extended) or a new one; `PUT` extends it (-1125 when the
 * account has none); `DELETE` ends it and `onClosed` closes its connections.
 */
export function listenKeyEndpoints(
  registry: ListenKeyRegistry,
  onClosed: (ended: EndedListenKey) => void,
): Endpoint[] {
  const common = { path: PATH, security: 'USER_STREAM', weight: () => 1, countsAsOrder: false } as const;
  return [
    {
      ...common,
      method: 'POST',
      handle: (ctx): Json => ({ listenKey: registry.open(accountOf(ctx)) }),
    },
    {
      ...common,
      method: 'PUT',
      handle: (ctx): Json => {
        const key = registry.keepAlive(accountOf(ctx), keyParam(ctx));
        if (key === undefined) throw listenKeyUnknown();
        return { listenKey: key };
      },
    },
    {
      ...common,
      method: 'DELETE',
      handle: (ctx): Json => {
        const ended = registry.close(accountOf(ctx), keyParam(ctx));
        if (ended === undefined) throw listenKeyUnknown();
        onClosed(ended);
        return {};
      },
    },
  ];
}
