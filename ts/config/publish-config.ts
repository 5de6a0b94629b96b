// The `publish` section (where and how often the dashboard documents go) and the `dashboard` section (the local web server and owner view).
import { z } from 'zod';
import {
  decimalString,
  expecting,
  flag,
  integer,
  intervalName,
  ipAddress,
  type SectionSettings,
  section,
  text,
  url,
} from './config-fields.js';

/** Publishing to Aliyun OSS (credentials only from OSS_ACCESS_KEY_ID / OSS_ACCESS_KEY_SECRET). */
const ossTarget = section({
  kind: z.literal('oss', { error: expecting('"oss" or "folder"') }),
  bucket: text().describe('The OSS bucket'),
  region: text().optional().describe('OSS region such as "oss-cn-hangzhou" (or give endpoint)'),
  endpoint: url(['http', 'https'])
    .optional()
    .describe('OSS endpoint URL, for a custom domain or a private endpoint (else derived from region)'),
  cname: flag().default(false).describe('The endpoint is a custom domain bound to the bucket'),
  prefix: z
    .string({ error: expecting('a path prefix such as "dashboard/"') })
    .regex(/^([A-Za-z0-9._-]+\/)*$/, { error: expecting('a path prefix ending in "/" (or "")') })
    .default('')
    .describe('Key prefix inside the bucket ("" or ending in "/")'),
  timeoutMs: integer(1000, 600_000).default(20_000).describe('Timeout of one upload, ms'),
});

/** Publishing to a local folder (the default: `npm start` serves it). */
const folderTarget = section({
  kind: z.literal('folder', { error: expecting('"oss" or "folder"') }),
  dir: text().default('.tributary/public').describe('The folder the site is written to'),
});

/** The `publish` section. */
export const publishSection = section({
  enabled: flag().default(true).describe('Whether `tributary up` starts the publisher'),
  intervalMs: integer(1000, 3_600_000).default(5000).describe('How often documents are rebuilt, ms'),
  target: z
    .discriminatedUnion('kind', [folderTarget, ossTarget], { error: expecting('a folder or oss target') })
    .default({ kind: 'folder', dir: '.tributary/public' })
    .describe('Where the site goes: {"kind":"folder","dir":...} or {"kind":"oss","bucket":...,"region":...}'),
  retry: section({
    attempts: integer(1, 20).default(4).describe('Tries per file per round'),
    baseDelayMs: integer(0, 60_000).default(500).describe('First retry delay, doubled each retry, ms'),
    maxDelayMs: integer(0, 300_000).default(5000).describe('Longest retry delay, ms'),
  })
    .prefault({})
    .describe('Upload retries (the next round tries again after these)'),
  equityDays: integer(1, 3650).default(30).describe('Days of equity curve published'),
  equityPoints: integer(10, 100_000).default(2000).describe('Most points of the equity curve'),
  dailyDays: integer(1, 3650).default(90).describe('Days in the daily PnL table'),
  roundTrips: integer(1, 10_000).default(200).describe('Latest round trips published'),
  largeLoss: decimalString()
    .default('-50')
    .describe('A round trip with net at or below this is a large loss'),
  largeLosses: integer(1, 10_000).default(50).describe('Large losses published'),
  chartInterval: intervalName().default('15m').describe('Candle interval of the per-symbol charts'),
  chartCandles: integer(10, 5000).default(300).describe('Candles per chart'),
  chartSymbols: integer(0, 200).default(20).describe('Symbols with a chart at most'),
  chartDays: integer(1, 365).default(3).describe('A symbol traded within this many days gets a chart'),
});

/** The `dashboard` section: the local server for the public page and the owner's live view. */
export const dashboardSection = section({
  enabled: flag().default(true).describe('Whether `tributary up` starts the dashboard server'),
  host: text().default('127.0.0.1').describe('Address the dashboard server listens on'),
  port: integer(0, 65_535).default(7780).describe('Port of the dashboard server (0: any free port)'),
  logLines: integer(0, 100_000).default(500).describe('Recent log lines kept for the owner view'),
  trustedProxies: z
    .array(ipAddress(), { error: expecting('a list of IP addresses') })
    .default(() => [])
    .describe(
      'Addresses of the reverse proxies in front of the dashboard (e.g. ["127.0.0.1"] for a proxy on the same host): a request from one counts against the wrong-password limit of the client its X-Forwarded-For names, not of the proxy; default none (the header is ignored, anyone could send it)',
    ),
  traders: z
    .array(integer(0, 10_000), { error: expecting('a list of trader instance numbers') })
    .optional()
    .describe(
      "Instance numbers of the traders on this machine whose trading state the owner view and the public status show (and whose paper records the owner view lists); default 0 to trader.instances - 1 (tributary deploy passes each host's own as --traders)",
    ),
});

export type PublishSettings = SectionSettings<typeof publishSection>;

/** The instance numbers of the traders the dashboard and publisher look after: `dashboard.traders`, else 0 … `trader.instances` − 1. */
export function dashboardTraders(config: {
  readonly dashboard: { readonly traders?: readonly number[] | undefined };
  readonly trader: { readonly instances: number };
}): number[] {
  return [...(config.dashboard.traders ?? Array.from({ length: config.trader.instances }, (_, n) => n))];
}
export type DashboardSettings = SectionSettings<typeof dashboardSection>;
