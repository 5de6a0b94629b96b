// Composes a running order gateway: the exchange link and its filters, the claim log, the claims placing through OrderSender, and the HTTP server.
import { resolve } from 'node:path';
import { ClaimLog } from '../../gateway/claim-log.js';
import { GatewayServer } from '../../gateway/gateway-server.js';
import { type ClaimMode, OrderClaims } from '../../gateway/order-claims.js';
import { OrderSender } from '../../trader/execution/order-sender.js';
import type { AlertSink } from '../../ts/alerts/alert.js';
import type { LoadedConfig } from '../../ts/config/load-config.js';
import { connectExchange } from '../../ts/exchange/exchange-link.js';
import { hubServerTls } from '../../ts/hub/hub-link.js';
import { HubTlsError, type LoadedServerTls, loadServerTls } from '../../ts/hub/hub-tls.js';
import type { KeyRing } from '../../ts/hub/peer-keys.js';
import type { Logger } from '../../ts/log/logger.js';
import { SymbolFilterSet } from '../../ts/native/filters.js';
import { parseExchangeInfo } from '../../ts/native/parse.js';

/** A running gateway. */
export interface RunningGateway {
  readonly url: string;
  readonly port: number;
  readonly server: GatewayServer;
  readonly claims: OrderClaims;
  /** What `GET /v1/status` answers: mode, members, claim log, claims' and server's counters. */
  status(): Record<string, unknown>;
  stop(): Promise<void>;
}

/**
 * The gateway's TLS material when `gateway.tls` is on: the fleet's files in `hub.tls` (the
 * gateway runs beside the hub and presents the same certificate); a {@link HubTlsError} naming the
 * field when they are missing or unreadable.
 */
export function gatewayServerTls(loaded: LoadedConfig): LoadedServerTls | undefined {
  if (!loaded.config.gateway.tls) return undefined;
  const files = hubServerTls(loaded);
  if (files === undefined)
    throw new HubTlsError('gateway.tls', 'needs hub.tls.cert and hub.tls.key (the fleet certificate)');
  return loadServerTls(files);
}

/** Overrides of the configuration's `gateway` section (command-line options). */
export interface GatewayServiceOptions {
  readonly host?: string;
  readonly port?: number;
  readonly claimLog?: string;
  /** The process's alerter: expired claims, traders disagreeing, unknown outcomes, exchange bans. */
  readonly alerts?: AlertSink;
}

/**
 * Starts the gateway of `loaded.config.gateway`: reads the exchange's symbol filters (split
 * shares snap to them), opens the claim log (claims of a previous run included), listens, then
 * finishes the claims a crash left pending, in the background.
 */
export async function startGatewayService(
  loaded: LoadedConfig,
  keys: KeyRing,
  logger: Logger,
  options: GatewayServiceOptions = {},
): Promise<RunningGateway> {
  const settings = loaded.config.gateway;
  const alerts = options.alerts;
  const tls = gatewayServerTls(loaded);
  const link = connectExchange(loaded, logger.child('exchange'), alerts);
  let log: ClaimLog | undefined;
  try {
    const info = parseExchangeInfo((await link.api.exchangeInfo()).body);
    const filters = new Map(info.symbols.map((s) => [s.symbol, new SymbolFilterSet(s)]));
    log = new ClaimLog(
      resolve(options.claimLog ?? settings.claimLog),
      logger.child('claims'),
      settings.retentionMs,
    );
    const mode: ClaimMode =
      settings.mode === 'split' ? { kind: 'split', members: [...settings.members] } : { kind: 'first' };
    const claims = new OrderClaims({
      log,
      placer: new OrderSender(link.api, {
        logger: logger.child('orders'),
        ...(alerts === undefined ? {} : { alerts }),
      }),
      ...(alerts === undefined ? {} : { alerts }),
      mode,
      filters: (symbol) => filters.get(symbol),
      logger: logger.child('claims'),
      placeWithinMs: settings.placeWithinMs,
      // A lost request can be accepted only within recvWindow of its signing; a second more for clocks.
      settleMs: loaded.config.exchange.recvWindow + 1000,
    });
    const claimLog = log;
    const server = await GatewayServer.start({
      claims,
      keys,
      logger: logger.child('server'),
      host: options.host ?? settings.host,
      port: options.port ?? settings.port,
      ...(tls === undefined ? {} : { tls: { cert: tls.cert, key: tls.key, ca: tls.ca } }),
      answerWithinMs: Math.max(1000, settings.requestTimeoutMs - 2000),
      status: () => ({ mode: settings.mode, members: settings.members, log: claimLog.stats }),
    });
    void claims.resume();
    logger.info('gateway listening', {
      url: server.url,
      mode: settings.mode,
      claimLog: claimLog.path,
      claims: claimLog.stats.claims,
      pending: claimLog.stats.pending,
    });
    return {
      url: server.url,
      port: server.port,
      server,
      claims,
      status: () => server.status(),
      stop: async () => {
        await server.close();
        // Let placements under way write their outcome (bounded: a stuck one is resumed at the next start).
        const until = Date.now() + 10_000;
        while (claims.busy && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
        if (claims.busy) logger.warn('stopping with placements under way; the next start resumes them');
        claimLog.close();
        link.close();
      },
    };
  } catch (error) {
    log?.close();
    link.close();
    throw error;
  }
}
