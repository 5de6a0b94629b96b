// Loads the configuration: one JSON file, then environment overrides, then secrets from the environment.
import { readFileSync, statSync } from 'node:fs';
import { registerSecret } from '../log/log-redaction.js';
import { ConfigError, type ConfigIssue, parseConfigText } from './config-error.js';
import { shown } from './config-fields.js';
import { readTributaryConfig, type TributaryConfig, tributaryJsonSchema } from './tributary-config.js';

/** Secrets: only ever from the environment or a secrets file, never from the config file or logged. */
export interface Secrets {
  readonly apiKey: string | undefined;
  readonly apiSecret: string | undefined;
  readonly hubSecret: string | undefined;
  /** Aliyun OSS credentials of the publisher (`OSS_ACCESS_KEY_ID`, `OSS_ACCESS_KEY_SECRET`). */
  readonly ossAccessKeyId?: string | undefined;
  readonly ossAccessKeySecret?: string | undefined;
  /** The owner view's password (`TRIBUTARY_OWNER_TOKEN`); without it the owner view is closed. */
  readonly ownerToken?: string | undefined;
  /** The alert bot's webhook URL (`TRIBUTARY_ALERT_WEBHOOK_URL`): its path holds the bot's token. */
  readonly alertWebhookUrl?: string | undefined;
  /** The alert bot's signing secret (`TRIBUTARY_ALERT_WEBHOOK_SECRET`), when signing is on. */
  readonly alertWebhookSecret?: string | undefined;
  /**
   * The records database URL with its password (`TRIBUTARY_STORE_URL`); replaces `store.url`, which
   * may name the server but carries no password.
   */
  readonly storeUrl?: string | undefined;
}

/** Prefix of environment overrides: `TRIBUTARY__HUB__PORT=7701` sets `hub.port`. */
export const ENV_PREFIX = 'TRIBUTARY__';

/** A loaded configuration with its secrets kept apart (secrets are never printed or logged). */
export interface LoadedConfig {
  readonly config: TributaryConfig;
  readonly secrets: Secrets;
  /** Where the configuration came from, for the start-up banner. */
  readonly sources: readonly string[];
}

type Mutable = Record<string, unknown>;

function isRecord(value: unknown): value is Mutable {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Finds `segment` among `keys` ignoring case and underscores (`POSITION_RISK` → `positionRisk`). */
function matchKey(keys: readonly string[], segment: string): string | undefined {
  const wanted = segment.replaceAll('_', '').toLowerCase();
  return keys.find((key) => key.toLowerCase() === wanted);
}

/** Environment values are JSON when they parse as JSON (numbers, booleans, arrays), else strings. */
function envValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The options at one place of the configuration's JSON schema (empty where the value is a leaf). */
function optionsOf(schema: unknown): Mutable {
  return isRecord(schema) && isRecord(schema.properties) ? schema.properties : {};
}

let jsonSchema: Mutable | undefined;

/**
 * Applies `TRIBUTARY__A__B=value` overrides onto `raw`. Key segments are matched against the
 * options the schema knows (every section, including options without a default), so a misspelt
 * variable is an error naming it.
 */
export function applyEnvOverrides(
  raw: unknown,
  env: NodeJS.ProcessEnv,
): { value: unknown; issues: ConfigIssue[] } {
  const root: Mutable = isRecord(raw) ? structuredClone(raw) : {};
  jsonSchema ??= tributaryJsonSchema();
  const issues: ConfigIssue[] = [];
  for (const [name, text] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || text === undefined) continue;
    const segments = name.slice(ENV_PREFIX.length).split('__');
    let target: Mutable = root;
    let known: Mutable = optionsOf(jsonSchema);
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i] ?? '';
      const key = matchKey(Object.keys(known), segment);
      if (key === undefined) {
        issues.push({ path: name, message: `no option "${segment}" at this place` });
        break;
      }
      if (i === segments.length - 1) {
        target[key] = envValue(text);
        break;
      }
      const next = target[key];
      target[key] = isRecord(next) ? next : {};
      target = target[key] as Mutable;
      known = optionsOf(known[key]);
    }
  }
  return { value: root, issues };
}

/** The password of a database URL (so a log line showing the URL never shows it), if any. */
function passwordOf(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    const password = decodeURIComponent(new URL(url).password);
    return password === '' ? undefined : password;
  } catch {
    return undefined;
  }
}

/** Reads `KEY=VALUE` lines of a secrets file, refusing one that others can read. */
export function readSecretsFile(path: string): Record<string, string> {
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new ConfigError(
      [
        {
          path: 'TRIBUTARY_SECRETS_FILE',
          message: `${path} is readable by others (mode ${mode.toString(8)}); chmod 600 it`,
        },
      ],
      path,
    );
  }
  const values: Record<string, string> = {};
  for (const [index, line] of readFileSync(path, 'utf8').split('\n').entries()) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const eq = trimmed.indexOf('=');
    const name = eq > 0 ? trimmed.slice(0, eq).trim() : '';
    // Skipped, a line such as `export NAME=...` or `NAME: value` would leave its secret unset
    // without a word (no alerts, say); the line is named, never shown.
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new ConfigError(
        [
          {
            path: 'TRIBUTARY_SECRETS_FILE',
            message: `${path} line ${index + 1} is not NAME=VALUE (not shown: it may hold a secret)`,
          },
        ],
        path,
      );
    }
    const value = trimmed.slice(eq + 1).trim();
    // Quotes around a value (`KEY="..."`, as shell and systemd files write them) are not part of it.
    values[name] = /^(["']).*\1$/.test(value) && value.length >= 2 ? value.slice(1, -1) : value;
  }
  return values;
}

/** The alert webhook must be an http(s) URL, and a signing secret needs a webhook to sign for. */
function checkAlertWebhook(secrets: Secrets): void {
  const { alertWebhookUrl: url, alertWebhookSecret: secret } = secrets;
  if (url === undefined) {
    if (secret === undefined) return;
    throw new ConfigError(
      [{ path: 'TRIBUTARY_ALERT_WEBHOOK_SECRET', message: 'is set but TRIBUTARY_ALERT_WEBHOOK_URL is not' }],
      'secrets',
    );
  }
  let protocol = '';
  try {
    protocol = new URL(url).protocol;
  } catch {
    // Not a URL at all: reported below without echoing the value (it holds the bot's token).
  }
  if (protocol !== 'https:' && protocol !== 'http:') {
    throw new ConfigError(
      [
        {
          path: 'TRIBUTARY_ALERT_WEBHOOK_URL',
          message: 'must be an http:// or https:// URL (value not shown: it is a secret)',
        },
      ],
      'secrets',
    );
  }
}

/**
 * Loads the configuration from `file` (optional: defaults when absent), applies environment
 * overrides from `env`, validates everything, and reads secrets (`BINANCE_API_KEY`,
 * `BINANCE_API_SECRET`, `TRIBUTARY_HUB_SECRET`, `OSS_ACCESS_KEY_ID`, `OSS_ACCESS_KEY_SECRET`,
 * `TRIBUTARY_OWNER_TOKEN`, `TRIBUTARY_ALERT_WEBHOOK_URL`, `TRIBUTARY_ALERT_WEBHOOK_SECRET`) from
 * `env` or from the file named by
 * `TRIBUTARY_SECRETS_FILE`, registering them with the logger so no log line can show them. The
 * exchange keys are required for a real exchange unless `options.exchangeKeys` is `unused`: a
 * process that never calls the exchange (the hub, the dashboard, `tributary status`) runs without.
 */
export function loadConfig(
  file: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  options: { readonly exchangeKeys?: 'required' | 'unused' } = {},
): LoadedConfig {
  const sources: string[] = [];
  let raw: unknown = {};
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new ConfigError([{ path: '(file)', message: `cannot be read: ${reason}` }], file);
    }
    raw = parseConfigText(text, file);
    // `null`, `[]` or a number is a mistake, not "no options": the overrides below would run it on the defaults.
    if (!isRecord(raw))
      throw new ConfigError([{ path: '(root)', message: `must be an object, got ${shown(raw)}` }], file);
    sources.push(file);
  }
  const { value, issues } = applyEnvOverrides(raw, env);
  if (issues.length > 0) throw new ConfigError(issues, 'environment');
  if (Object.keys(env).some((k) => k.startsWith(ENV_PREFIX))) sources.push('environment');
  const config = readTributaryConfig(value, sources.join(' + ') || 'defaults');

  const fromFile =
    env.TRIBUTARY_SECRETS_FILE === undefined ? {} : readSecretsFile(env.TRIBUTARY_SECRETS_FILE);
  const secret = (name: string): string | undefined => {
    const v = env[name] ?? fromFile[name];
    return v === undefined || v === '' ? undefined : v;
  };
  const secrets: Secrets = {
    apiKey: secret('BINANCE_API_KEY'),
    apiSecret: secret('BINANCE_API_SECRET'),
    hubSecret: secret('TRIBUTARY_HUB_SECRET'),
    ossAccessKeyId: secret('OSS_ACCESS_KEY_ID'),
    ossAccessKeySecret: secret('OSS_ACCESS_KEY_SECRET'),
    ownerToken: secret('TRIBUTARY_OWNER_TOKEN'),
    alertWebhookUrl: secret('TRIBUTARY_ALERT_WEBHOOK_URL'),
    alertWebhookSecret: secret('TRIBUTARY_ALERT_WEBHOOK_SECRET'),
    storeUrl: secret('TRIBUTARY_STORE_URL'),
  };
  // From here on, no log line of this process can show them.
  registerSecret(secrets.apiKey);
  registerSecret(secrets.apiSecret);
  registerSecret(secrets.hubSecret);
  registerSecret(secrets.ossAccessKeyId);
  registerSecret(secrets.ossAccessKeySecret);
  registerSecret(secrets.ownerToken);
  registerSecret(secrets.alertWebhookUrl);
  registerSecret(secrets.alertWebhookSecret);
  checkAlertWebhook(secrets);
  registerSecret(secrets.storeUrl);
  registerSecret(passwordOf(secrets.storeUrl));
  if (
    options.exchangeKeys !== 'unused' &&
    config.exchange.kind !== 'simulator' &&
    (secrets.apiKey === undefined || secrets.apiSecret === undefined)
  ) {
    throw new ConfigError(
      [
        {
          path: 'exchange.kind',
          message: `"${config.exchange.kind}" needs BINANCE_API_KEY and BINANCE_API_SECRET in the environment or the secrets file`,
        },
      ],
      'secrets',
    );
  }
  return { config, secrets, sources };
}
