// Loads the configuration: one JSON file, then environment overrides, then secrets from the environment.
import { readFileSync, statSync } from 'node:fs';
import { registerSecret } from '../log/log-redaction.js';
import { ConfigError, type ConfigIssue, parseConfigText } from './config-error.js';
import { shown } from './config-fields.js';
import { withStrategyModuleResolved } from './trader-config.js';
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

/** Each secret and the variable it is read from (the environment, or `TRIBUTARY_SECRETS_FILE`). */
const SECRET_VARIABLES = {
  apiKey: 'BINANCE_API_KEY',
  apiSecret: 'BINANCE_API_SECRET',
  hubSecret: 'TRIBUTARY_HUB_SECRET',
  ossAccessKeyId: 'OSS_ACCESS_KEY_ID',
  ossAccessKeySecret: 'OSS_ACCESS_KEY_SECRET',
  ownerToken: 'TRIBUTARY_OWNER_TOKEN',
  alertWebhookUrl: 'TRIBUTARY_ALERT_WEBHOOK_URL',
  alertWebhookSecret: 'TRIBUTARY_ALERT_WEBHOOK_SECRET',
  storeUrl: 'TRIBUTARY_STORE_URL',
} as const satisfies Record<keyof Secrets, string>;

/** The secrets tributary reads: the only names `TRIBUTARY_SECRETS_FILE` may set. */
export const SECRETS_FILE_NAMES: readonly string[] = Object.values(SECRET_VARIABLES);

/** Prefix of environment overrides: `TRIBUTARY__HUB__PORT=7701` sets `hub.port`. */
export const ENV_PREFIX = 'TRIBUTARY__';

/**
 * `TRIBUTARY_` variables with one underscore that tributary reads by their own names (secrets, test
 * and build switches). Some spell a configuration path too (`TRIBUTARY_STORE_URL` ↔ `store.url`),
 * so they are never taken for a misspelt override.
 */
export const OWN_VARIABLES: ReadonlySet<string> = new Set([
  'TRIBUTARY_ALERT_WEBHOOK_SECRET',
  'TRIBUTARY_ALERT_WEBHOOK_URL',
  'TRIBUTARY_ARCHIVE_URL',
  'TRIBUTARY_CHROMIUM',
  'TRIBUTARY_FLEET_KEEP',
  'TRIBUTARY_FULL_UNIVERSE',
  'TRIBUTARY_HOST',
  'TRIBUTARY_HUB_KEY',
  'TRIBUTARY_HUB_KEYS',
  'TRIBUTARY_HUB_SECRET',
  'TRIBUTARY_LOG_FILE',
  'TRIBUTARY_LOG_LEVEL',
  'TRIBUTARY_NODE22_VERSION',
  'TRIBUTARY_OPENSSL',
  'TRIBUTARY_OWNER_TOKEN',
  'TRIBUTARY_PARENT_LINK',
  'TRIBUTARY_PGO',
  'TRIBUTARY_SECRETS_FILE',
  'TRIBUTARY_STORE_URL',
  'TRIBUTARY_TEST_MYSQL',
  'TRIBUTARY_WRITE_FRAMES',
  'TRIBUTARY_WRITE_LAYOUT',
]);

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

/** An option name or variable segment compared without case or underscores (`POSITION_RISK` ~ `positionRisk`). */
function folded(name: string): string {
  return name.replaceAll('_', '').toLowerCase();
}

/** Finds `segment` among `keys` ignoring case and underscores (`POSITION_RISK` → `positionRisk`). */
function matchKey(keys: readonly string[], segment: string): string | undefined {
  const wanted = folded(segment);
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

function rootOptions(): Mutable {
  jsonSchema ??= tributaryJsonSchema();
  return optionsOf(jsonSchema);
}

/** The override variable of a configuration path: `['collectors', 'positionRisk']` → `TRIBUTARY__COLLECTORS__POSITION_RISK`. */
export function overrideVariable(path: readonly string[]): string {
  return ENV_PREFIX + path.map((key) => key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('__');
}

/**
 * Edit distance of two short names, a swap of neighbours counting as one edit (`PROT` is one from
 * `port`): options are a few dozen characters at most.
 */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number): number => d[i]?.[j] ?? 0;
  for (let i = 1; i <= a.length; i++) {
    const row = d[i] ?? [];
    for (let j = 1; j <= b.length; j++) {
      const same = a[i - 1] === b[j - 1];
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + (same ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, at(i - 2, j - 2) + 1);
      row[j] = best;
    }
  }
  return at(a.length, b.length);
}

/** The option at this place closest to a misspelt `segment` (a typo or two away), if any. */
function nearestKey(keys: readonly string[], segment: string): string | undefined {
  const wanted = folded(segment);
  let best: { key: string; distance: number } | undefined;
  for (const key of keys) {
    const distance = editDistance(wanted, folded(key));
    if (best === undefined || distance < best.distance) best = { key, distance };
  }
  // Beyond a third of the name it is another word, not a typo: no suggestion beats a wrong one.
  return best !== undefined && best.distance <= Math.max(1, Math.floor(wanted.length / 3))
    ? best.key
    : undefined;
}

/**
 * The configuration path that the words of a variable after `TRIBUTARY_` spell, if any
 * (`HUB_PORT` → `['hub', 'port']`, `COLLECTORS_POSITION_RISK_INTERVAL_MS` →
 * `['collectors', 'positionRisk', 'intervalMs']`): option names hold underscores of their own, so
 * every split of the words is tried.
 */
function spelledPath(words: readonly string[], options: Mutable): string[] | undefined {
  // `$schema` is the editor's pointer, not an option anyone overrides.
  const keys = Object.keys(options).filter((key) => !key.startsWith('$'));
  for (let take = 1; take <= words.length; take++) {
    const key = matchKey(keys, words.slice(0, take).join(''));
    if (key === undefined) continue;
    if (take === words.length) return [key];
    const rest = spelledPath(words.slice(take), optionsOf(options[key]));
    if (rest !== undefined) return [key, ...rest];
  }
  return undefined;
}

/**
 * Why the variable `name` would be silently ignored though it was meant as an override, or
 * undefined: `TRIBUTARY_HUB_PORT` (single underscores) spells `hub.port`, whose override is
 * `TRIBUTARY__HUB__PORT`. Variables tributary reads by their own name ({@link OWN_VARIABLES}) and
 * any that spell no option (a user's own `TRIBUTARY_SOMETHING`) are left alone.
 */
export function singleUnderscoreProblem(name: string): ConfigIssue | undefined {
  if (!name.startsWith('TRIBUTARY_') || name.startsWith(ENV_PREFIX) || OWN_VARIABLES.has(name))
    return undefined;
  const path = singleUnderscorePath(name);
  if (path === undefined) return undefined;
  return {
    path: name,
    message: `is not read: overrides of ${path.join('.')} are spelled with double underscores, ${overrideVariable(path)}`,
  };
}

/** The option a `TRIBUTARY_A_B` name spells with single underscores, if any. */
function singleUnderscorePath(name: string): string[] | undefined {
  const words = name.slice('TRIBUTARY_'.length).split('_');
  if (words.some((word) => word === '')) return undefined;
  return spelledPath(words, rootOptions());
}

/** The override variable a `TRIBUTARY_A_B` name meant (`TRIBUTARY_HUB_PORT` → `TRIBUTARY__HUB__PORT`), if any. */
function singleUnderscoreOverride(name: string): string | undefined {
  const path = singleUnderscorePath(name);
  return path === undefined ? undefined : overrideVariable(path);
}

/**
 * Why the variable `name`, whose prefix is `tributary_` in some other case, would be silently
 * ignored though it was meant for tributary, or undefined: variable names are case-sensitive, so
 * `tributary__hub__port` and `Tributary_Hub_Secret` are never read. Refused when the name in
 * capitals is an override (`TRIBUTARY__…`), a variable tributary reads by its own name, or a
 * single-underscore spelling of an option; any other variable (a user's own) is left alone.
 */
export function prefixCaseProblem(name: string): ConfigIssue | undefined {
  const upper = name.toUpperCase();
  if (!upper.startsWith('TRIBUTARY_') || name.startsWith('TRIBUTARY_')) return undefined;
  const meant =
    upper.startsWith(ENV_PREFIX) || OWN_VARIABLES.has(upper) ? upper : singleUnderscoreOverride(upper);
  if (meant === undefined) return undefined;
  return { path: name, message: `is not read: variable names are case-sensitive; write ${meant}` };
}

/**
 * Applies `TRIBUTARY__A__B=value` overrides onto `raw`. Key segments are matched against the
 * options the schema knows (every section, including options without a default), so a misspelt
 * variable is an error naming it (and the option it was probably meant for); so is a
 * `TRIBUTARY_A_B` variable that spells an option with single underscores, or a tributary variable
 * whose prefix is not in capitals ({@link prefixCaseProblem}), which would otherwise be ignored
 * without a word.
 */
export function applyEnvOverrides(
  raw: unknown,
  env: NodeJS.ProcessEnv,
): { value: unknown; issues: ConfigIssue[] } {
  const root: Mutable = isRecord(raw) ? structuredClone(raw) : {};
  const issues: ConfigIssue[] = [];
  for (const [name, text] of Object.entries(env)) {
    if (text === undefined) continue;
    if (!name.startsWith(ENV_PREFIX)) {
      const problem = singleUnderscoreProblem(name) ?? prefixCaseProblem(name);
      if (problem !== undefined) issues.push(problem);
      continue;
    }
    const segments = name.slice(ENV_PREFIX.length).split('__');
    let target: Mutable = root;
    let known: Mutable = rootOptions();
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i] ?? '';
      const key = matchKey(Object.keys(known), segment);
      if (key === undefined) {
        issues.push({ path: name, message: unknownOptionMessage(segments.slice(0, i), segment, known) });
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

/** `no option "PROT" in hub (did you mean TRIBUTARY__HUB__PORT, hub.port?)`, for a segment matching no option. */
function unknownOptionMessage(before: readonly string[], segment: string, known: Mutable): string {
  // The segments before matched options; spelled as the schema spells them for the message.
  const path: string[] = [];
  let options = rootOptions();
  for (const part of before) {
    const key = matchKey(Object.keys(options), part) ?? part;
    path.push(key);
    options = optionsOf(options[key]);
  }
  const keys = Object.keys(known).filter((key) => key !== '$schema');
  const place = path.length === 0 ? 'at the top level' : `in ${path.join('.')}`;
  if (keys.length === 0)
    return `no option "${segment}" ${place} (${path.join('.')} has no options of its own)`;
  const nearest = nearestKey(keys, segment);
  if (nearest === undefined) return `no option "${segment}" ${place} (options: ${keys.join(', ')})`;
  const meant = [...path, nearest];
  return `no option "${segment}" ${place} (did you mean ${overrideVariable(meant)}, ${meant.join('.')}?)`;
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
  let mode: number;
  try {
    mode = statSync(path).mode & 0o777;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError([{ path: 'TRIBUTARY_SECRETS_FILE', message: `cannot be read: ${reason}` }], path);
  }
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
    // A misspelt name would leave its secret unset without a word (no alerts, say): refused, named
    // (names are not secret, only values are) with the one probably meant.
    if (!SECRETS_FILE_NAMES.includes(name)) {
      const meant = nearestKey(SECRETS_FILE_NAMES, name);
      throw new ConfigError(
        [
          {
            path: 'TRIBUTARY_SECRETS_FILE',
            message: `${path} line ${index + 1} sets ${name}, which tributary does not read${meant === undefined ? ` (it reads ${SECRETS_FILE_NAMES.join(', ')})` : ` (did you mean ${meant}?)`}`,
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
 * A relative `trader.strategyModule` is made absolute against the file's folder.
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
  const checked = readTributaryConfig(value, sources.join(' + ') || 'defaults');
  // Paths in the file are the file's: resolved here, every process sees the same absolute path.
  const config: TributaryConfig = { ...checked, trader: withStrategyModuleResolved(checked.trader, file) };

  const fromFile =
    env.TRIBUTARY_SECRETS_FILE === undefined ? {} : readSecretsFile(env.TRIBUTARY_SECRETS_FILE);
  const secret = (name: string): string | undefined => {
    const v = env[name] ?? fromFile[name];
    return v === undefined || v === '' ? undefined : v;
  };
  const secrets: Secrets = {
    apiKey: secret(SECRET_VARIABLES.apiKey),
    apiSecret: secret(SECRET_VARIABLES.apiSecret),
    hubSecret: secret(SECRET_VARIABLES.hubSecret),
    ossAccessKeyId: secret(SECRET_VARIABLES.ossAccessKeyId),
    ossAccessKeySecret: secret(SECRET_VARIABLES.ossAccessKeySecret),
    ownerToken: secret(SECRET_VARIABLES.ownerToken),
    alertWebhookUrl: secret(SECRET_VARIABLES.alertWebhookUrl),
    alertWebhookSecret: secret(SECRET_VARIABLES.alertWebhookSecret),
    storeUrl: secret(SECRET_VARIABLES.storeUrl),
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
