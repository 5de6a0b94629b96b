// Which secrets each kind of service gets in its environment file: only those it uses.
import type { ServiceKind } from './inventory.js';

/** Secrets of the services that reach the exchange. */
export const EXCHANGE_SECRETS = ['BINANCE_API_KEY', 'BINANCE_API_SECRET'] as const;
/** Secrets of every service: the owner's alert bot (docs/operations.md, Alerts). */
export const ALERT_SECRETS = ['TRIBUTARY_ALERT_WEBHOOK_URL', 'TRIBUTARY_ALERT_WEBHOOK_SECRET'] as const;
/** The records database URL with its password, for the services that open the records store. */
export const STORE_SECRETS = ['TRIBUTARY_STORE_URL'] as const;
/** Aliyun OSS credentials, for the publisher. */
export const OSS_SECRETS = ['OSS_ACCESS_KEY_ID', 'OSS_ACCESS_KEY_SECRET'] as const;
/** The owner view's password, for the dashboard. */
export const OWNER_SECRETS = ['TRIBUTARY_OWNER_TOKEN'] as const;

/** Every secret name the deploy takes from a secrets file. */
export const SECRET_NAMES: readonly string[] = [
  ...EXCHANGE_SECRETS,
  ...ALERT_SECRETS,
  ...STORE_SECRETS,
  ...OSS_SECRETS,
  ...OWNER_SECRETS,
];

/**
 * The secrets a service of `kind` gets: the alert bot everywhere (the hub alerts too); the exchange
 * keys where the exchange is reached (not the hub, not the dashboard); the store URL where the
 * records store is opened (paper traders record into it too); OSS keys for the publisher; the
 * owner password for the dashboard.
 */
export function secretsOf(kind: ServiceKind): readonly string[] {
  switch (kind) {
    case 'hub':
      return ALERT_SECRETS;
    case 'dashboard':
      return [...ALERT_SECRETS, ...STORE_SECRETS, ...OWNER_SECRETS];
    case 'publisher':
      return [...EXCHANGE_SECRETS, ...ALERT_SECRETS, ...STORE_SECRETS, ...OSS_SECRETS];
    case 'recorder':
    case 'trader':
      return [...EXCHANGE_SECRETS, ...ALERT_SECRETS, ...STORE_SECRETS];
    default:
      return [...EXCHANGE_SECRETS, ...ALERT_SECRETS];
  }
}
