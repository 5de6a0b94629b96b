// The whole system's configuration: every section composed into one schema (types, defaults, errors naming the field).
import { z } from 'zod';
import { storeSection } from '../store/store-config.js';
import { alertsSection } from './alerts-config.js';
import { collectorsSection } from './collectors-config.js';
import { ConfigError, configIssues } from './config-error.js';
import { type DeepReadonly, expecting } from './config-fields.js';
import { exchangeSection } from './exchange-config.js';
import { gatewaySection } from './gateway-config.js';
import { hubSection } from './hub-config.js';
import { dashboardSection, publishSection } from './publish-config.js';
import { recorderSection } from './recorder-config.js';
import { riskSection } from './risk-config.js';
import { simulatorSection } from './simulator-config.js';
import { supervisorSection } from './supervisor-config.js';
import { symbolsSection } from './symbols-config.js';
import { traderSection } from './trader-config.js';

export type { AlertsSettings } from './alerts-config.js';
export type { CollectorsConfig } from './collectors-config.js';
export type { ExchangeConfig, ExchangeKind } from './exchange-config.js';
export { EXCHANGE_ENDPOINTS } from './exchange-config.js';
export type { GatewaySettings } from './gateway-config.js';
export type { HubSettings } from './hub-config.js';
export type { DashboardSettings, PublishSettings } from './publish-config.js';
export type { RecorderSettings } from './recorder-config.js';
export type { SimulatorSettings } from './simulator-config.js';
export type { SupervisorSettings } from './supervisor-config.js';
export type { TraderSettings } from './trader-config.js';

/**
 * Every section of the configuration, by its key in the file. THE place a section is added: write
 * its schema next to the code that uses it (`ts/store/store-config.ts` exporting `storeSection`),
 * then add one line here. `.prefault({})` fills an absent section with its defaults.
 */
const SECTIONS = {
  exchange: exchangeSection.prefault({}),
  simulator: simulatorSection.prefault({}),
  hub: hubSection.prefault({}),
  symbols: symbolsSection,
  collectors: collectorsSection.prefault({}),
  trader: traderSection.prefault({}),
  supervisor: supervisorSection.prefault({}),
  risk: riskSection.prefault({}),
  gateway: gatewaySection.prefault({}),
  publish: publishSection.prefault({}),
  dashboard: dashboardSection.prefault({}),
  alerts: alertsSection.prefault({}),
  store: storeSection.prefault({}),
  recorder: recorderSection.prefault({}),
};

/** Rules that span sections; each issue names the field the user should change. */
function crossSectionRules(
  config: {
    exchange: { kind: string };
    trader: { mode: string };
    gateway: { mode: string; members: readonly string[] };
  },
  ctx: z.RefinementCtx,
): void {
  const { exchange, trader, gateway } = config;
  if (gateway.mode === 'split' && gateway.members.length === 0) {
    ctx.addIssue({
      code: 'custom',
      path: ['gateway', 'members'],
      message:
        'split mode needs the members sharing each order (their peer names, e.g. ["trader-0", "trader-1"])',
    });
  }
  if (new Set(gateway.members).size !== gateway.members.length) {
    ctx.addIssue({ code: 'custom', path: ['gateway', 'members'], message: 'names a member twice' });
  }
  if (trader.mode === 'live' && exchange.kind !== 'binance') {
    ctx.addIssue({
      code: 'custom',
      path: ['trader', 'mode'],
      message: `"live" needs exchange.kind "binance", got "${exchange.kind}"`,
    });
  }
  if (trader.mode === 'testnet' && exchange.kind !== 'testnet') {
    ctx.addIssue({
      code: 'custom',
      path: ['trader', 'mode'],
      message: `"testnet" needs exchange.kind "testnet", got "${exchange.kind}"`,
    });
  }
}

/**
 * The configuration file's schema. Unknown keys are errors at every level; `$schema` (the editor's
 * pointer to `config/tributary.schema.json`) is accepted and dropped.
 */
export const tributaryConfigSchema = z
  .strictObject(
    {
      $schema: z.string().optional().describe('JSON schema of this file, for editors'),
      ...SECTIONS,
    },
    { error: expecting('an object') },
  )
  .meta({
    title: 'Tributary configuration',
    description:
      'config/tributary.example.json shows every section; TRIBUTARY__SECTION__OPTION environment variables override the file',
  })
  .superRefine(crossSectionRules)
  .transform(({ $schema: _editorSchema, ...config }) => config);

/** The validated configuration with every default filled. */
export type TributaryConfig = DeepReadonly<z.output<typeof tributaryConfigSchema>>;

/** What may be written in a configuration file. */
export type TributaryConfigInput = z.input<typeof tributaryConfigSchema>;

/**
 * Validates a parsed configuration object (file contents with environment overrides applied) and
 * fills defaults. Throws a `ConfigError` listing every problem, each with its field path.
 */
export function readTributaryConfig(raw: unknown, source: string): TributaryConfig {
  const result = tributaryConfigSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(configIssues(result.error), source);
  return result.data;
}

/** The JSON schema of the configuration file, for editors (`config/tributary.schema.json`). */
export function tributaryJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(tributaryConfigSchema, { io: 'input' }) as Record<string, unknown>;
}

/** The text of `config/tributary.schema.json` (regenerate with `npm run config:schema`). */
export function configJsonSchemaText(): string {
  return `${JSON.stringify(tributaryJsonSchema(), null, 2)}\n`;
}
