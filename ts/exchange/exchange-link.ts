// Builds a process's exchange client (REST API paced to the IP weight, websocket base) from the loaded configuration.
import type { AlertSink } from '../alerts/alert.js';
import { exchangeBlockAlert } from '../alerts/alert-sources.js';
import { ConfigError } from '../config/config-error.js';
import type { LoadedConfig } from '../config/load-config.js';
import type { Logger } from '../log/logger.js';
import { hostName } from '../process/release-info.js';
import { RateLimitRefresher } from './rate-limit-refresher.js';
import { RestClient } from './rest-client.js';
import { BINANCE_LIMITS } from './rest-config.js';
import { UsdmApi } from './usdm-api.js';

/** The exchange as one process uses it: REST API plus the websocket base URL. */
export interface ExchangeLink {
  readonly api: UsdmApi;
  readonly rest: RestClient;
  /** Websocket base (`wss://fstream.binance.com`, or the simulator's `ws://host:port`). */
  readonly wsUrl: string;
  /**
   * The IP group whose processes share one weight budget (`exchange.budget.group`, default this
   * host's name), or null when each process paces alone (`exchange.budget.coordinator` "none").
   */
  readonly budgetGroup: string | null;
  /** Keeps the budget's limits at the share of exchangeInfo's rateLimits. */
  readonly limits: RateLimitRefresher;
  close(): void;
}

/** The exchange URLs of the configuration, or a `ConfigError` naming the missing one. */
export function exchangeUrls(loaded: LoadedConfig): { restUrl: string; wsUrl: string } {
  const { restUrl, wsUrl } = loaded.config.exchange;
  if (restUrl === undefined || wsUrl === undefined) {
    throw new ConfigError(
      [
        {
          path: restUrl === undefined ? 'exchange.restUrl' : 'exchange.wsUrl',
          message:
            'is needed with exchange.kind "simulator" outside `tributary up` (the simulator\'s address)',
        },
      ],
      loaded.sources.join(' + ') || 'defaults',
    );
  }
  return { restUrl, wsUrl };
}

/**
 * A REST client paced to this IP's share of the exchange's limits, and the API over it. The limits
 * start at the share of Binance's published ones and follow exchangeInfo's `rateLimits` from the
 * first read (at once, then every `exchange.budget.limitsRefreshMs`). With `exchange.budget.coordinator`
 * "hub" the budget expects a coordinator (`coordinateWeight` in `ts/hub/hub-weight-coordinator.ts`)
 * and paces to the fallback share until one answers. A 418 ban or a 429 that fails a request is
 * raised on `alerts` (the process's alerter), else logged as an error.
 */
export function connectExchange(loaded: LoadedConfig, logger: Logger, alerts?: AlertSink): ExchangeLink {
  const { restUrl, wsUrl } = exchangeUrls(loaded);
  const { exchange } = loaded.config;
  const { budget } = exchange;
  const share = (limit: number) => Math.max(1, Math.floor(limit * exchange.weightShare));
  const coordinated = budget.coordinator === 'hub';
  const group = coordinated ? (budget.group ?? hostName()) : null;
  const rest = new RestClient(
    {
      baseUrl: restUrl,
      apiKey: loaded.secrets.apiKey ?? null,
      apiSecret: loaded.secrets.apiSecret ?? null,
      recvWindow: exchange.recvWindow,
      weightBudget: {
        perMinute: share(BINANCE_LIMITS.weightPerMinute),
        ordersPer10s: share(BINANCE_LIMITS.ordersPer10s),
        ordersPerMinute: share(BINANCE_LIMITS.ordersPerMinute),
        coordinated,
        fallbackShare: budget.fallbackShare,
        orderReserve: budget.orderReserve,
      },
    },
    {
      logger: logger.child('rest'),
      onAlert: (alert) => {
        const raised = { ...alert, ...(group === null ? {} : { group }) };
        if (alerts === undefined) logger.error('exchange alert', raised);
        else alerts.raise(exchangeBlockAlert(raised));
      },
    },
  );
  const api = new UsdmApi(rest, { logger: logger.child('api') });
  const limits = new RateLimitRefresher(api, {
    share: exchange.weightShare,
    everyMs: budget.limitsRefreshMs,
    log: logger.child('limits'),
  });
  limits.start();
  return {
    api,
    rest,
    wsUrl,
    budgetGroup: group,
    limits,
    close: () => {
      limits.stop();
      rest.close();
    },
  };
}
