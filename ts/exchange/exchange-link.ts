// Builds a process's exchange client (REST API paced to the IP weight, websocket base) from the loaded configuration.
import type { AlertSink } from '../alerts/alert.js';
import { exchangeBlockAlert } from '../alerts/alert-sources.js';
import { ConfigError } from '../config/config-error.js';
import type { LoadedConfig } from '../config/load-config.js';
import type { Logger } from '../log/logger.js';
import { RestClient } from './rest-client.js';
import { BINANCE_LIMITS } from './rest-config.js';
import { UsdmApi } from './usdm-api.js';

/** The exchange as one process uses it: REST API plus the websocket base URL. */
export interface ExchangeLink {
  readonly api: UsdmApi;
  readonly rest: RestClient;
  /** Websocket base (`wss://fstream.binance.com`, or the simulator's `ws://host:port`). */
  readonly wsUrl: string;
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
 * A REST client paced to this machine's share of the IP weight, and the API over it. A 418 ban or a
 * 429 that fails a request is raised on `alerts` (the process's alerter), else logged as an error.
 */
export function connectExchange(loaded: LoadedConfig, logger: Logger, alerts?: AlertSink): ExchangeLink {
  const { restUrl, wsUrl } = exchangeUrls(loaded);
  const { exchange } = loaded.config;
  const rest = new RestClient(
    {
      baseUrl: restUrl,
      apiKey: loaded.secrets.apiKey ?? null,
      apiSecret: loaded.secrets.apiSecret ?? null,
      recvWindow: exchange.recvWindow,
      weightBudget: { perMinute: Math.floor(BINANCE_LIMITS.weightPerMinute * exchange.weightShare) },
    },
    {
      logger: logger.child('rest'),
      onAlert: (alert) =>
        alerts === undefined
          ? logger.error('exchange alert', { kind: alert.kind, message: alert.message, until: alert.until })
          : alerts.raise(exchangeBlockAlert(alert)),
    },
  );
  return { api: new UsdmApi(rest, { logger: logger.child('api') }), rest, wsUrl, close: () => rest.close() };
}
