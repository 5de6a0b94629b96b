// The `exchange` section: which exchange the system talks to, and how hard it may use it.
import { integer, number, oneOf, type SectionSettings, section, url } from './config-fields.js';

/** Which exchange the system talks to. */
export const EXCHANGE_KINDS = ['simulator', 'binance', 'testnet'] as const;
export type ExchangeKind = (typeof EXCHANGE_KINDS)[number];

/** Binance's production and testnet endpoints (REST base, websocket base). */
export const EXCHANGE_ENDPOINTS = {
  binance: { restUrl: 'https://fapi.binance.com', wsUrl: 'wss://fstream.binance.com' },
  testnet: { restUrl: 'https://demo-fapi.binance.com', wsUrl: 'wss://demo-fstream.binance.com' },
} as const;

/** The `exchange` section; `restUrl` and `wsUrl` default to the endpoints of `kind`. */
export const exchangeSection = section({
  kind: oneOf(EXCHANGE_KINDS)
    .default('simulator')
    .describe('The built-in simulator, Binance USD-M futures, or its testnet'),
  restUrl: url(['http', 'https'])
    .optional()
    .describe("REST base URL; derived from kind (the simulator's own address under `tributary up`)"),
  wsUrl: url(['ws', 'wss'])
    .optional()
    .describe('Websocket base URL (routes /public, /market, /private are appended); derived from kind'),
  recvWindow: integer(1, 60_000).default(5000).describe('recvWindow of signed requests, ms'),
  weightShare: number(0.05, 1)
    .default(0.8)
    .describe("Share of the exchange's per-minute IP weight limit this machine may use"),
}).transform((exchange) => {
  const endpoints = exchange.kind === 'simulator' ? undefined : EXCHANGE_ENDPOINTS[exchange.kind];
  return {
    ...exchange,
    restUrl: exchange.restUrl ?? endpoints?.restUrl,
    wsUrl: exchange.wsUrl ?? endpoints?.wsUrl,
  };
});

export type ExchangeConfig = SectionSettings<typeof exchangeSection>;
