// The `alerts` section and the alert webhook secrets: defaults, field-named errors, URL checks that never echo the secret.
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.js';
import { loadConfig } from './load-config.js';
import { readTributaryConfig } from './tributary-config.js';

function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((i) => `${i.path}: ${i.message}`);
    throw error;
  }
  throw new Error('expected a ConfigError');
}

const HOOK = 'https://open.feishu.cn/open-apis/bot/v2/hook/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';

describe('the alerts section', () => {
  it('defaults to one message a minute, three tries, a one-second gather', () => {
    const { alerts } = readTributaryConfig({}, 't');
    expect(alerts).toEqual({
      label: 'Tributary',
      minIntervalMs: 60_000,
      gatherMs: 1000,
      timeoutMs: 5000,
      attempts: 3,
      retryDelayMs: 2000,
      maxPending: 1000,
      maxKinds: 15,
      maxDetailChars: 200,
      watch: {
        checkMs: 5000,
        peerSilentMs: 30_000,
        staleDataMs: 60_000,
        sparseKinds: ['universe', 'income', 'user-stream'],
      },
    });
  });

  it('names the field of a bad value and refuses a webhook URL in the file', () => {
    expect(issuesOf(() => readTributaryConfig({ alerts: { minIntervalMs: 10 } }, 't'))).toEqual([
      'alerts.minIntervalMs: must be an integer from 1000 to 3600000, got 10',
    ]);
    expect(issuesOf(() => readTributaryConfig({ alerts: { watch: { peerSilentMs: 5000 } } }, 't'))).toEqual([
      'alerts.watch.peerSilentMs: must be an integer from 16000 to 3600000, got 5000',
    ]);
    expect(issuesOf(() => readTributaryConfig({ alerts: { webhookUrl: HOOK } }, 't'))[0]).toMatch(/^alerts/);
  });

  it('takes the webhook and its secret from the environment or the secrets file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-alerts-'));
    const file = join(dir, 'secrets.env');
    writeFileSync(
      file,
      `TRIBUTARY_ALERT_WEBHOOK_URL=${HOOK}\nTRIBUTARY_ALERT_WEBHOOK_SECRET=abcdefgh12345678\n`,
    );
    chmodSync(file, 0o600);
    const { secrets } = loadConfig(undefined, { TRIBUTARY_SECRETS_FILE: file });
    expect(secrets.alertWebhookUrl).toBe(HOOK);
    expect(secrets.alertWebhookSecret).toBe('abcdefgh12345678');
    const { secrets: none } = loadConfig(undefined, {});
    expect(none.alertWebhookUrl).toBeUndefined();
  });

  it('refuses a webhook that is not an http(s) URL without showing it, and a secret without a webhook', () => {
    const issues = issuesOf(() =>
      loadConfig(undefined, { TRIBUTARY_ALERT_WEBHOOK_URL: 'ftp://x/hook/sekrit-token-1' }),
    );
    expect(issues).toEqual([
      'TRIBUTARY_ALERT_WEBHOOK_URL: must be an http:// or https:// URL (value not shown: it is a secret)',
    ]);
    expect(issues.join()).not.toContain('sekrit');
    expect(
      issuesOf(() => loadConfig(undefined, { TRIBUTARY_ALERT_WEBHOOK_SECRET: 'abcdefgh12345678' })),
    ).toEqual(['TRIBUTARY_ALERT_WEBHOOK_SECRET: is set but TRIBUTARY_ALERT_WEBHOOK_URL is not']);
  });

  it('is overridden from the environment like every section', () => {
    const { config } = loadConfig(undefined, { TRIBUTARY__ALERTS__MIN_INTERVAL_MS: '120000' });
    expect(config.alerts.minIntervalMs).toBe(120_000);
  });

  it('refuses a sparse kind that is no collector kind (a misspelt one would alert on a quiet collector)', () => {
    expect(
      issuesOf(() =>
        readTributaryConfig({ alerts: { watch: { sparseKinds: ['income', 'userStream'] } } }, 't'),
      ),
    ).toEqual([
      'alerts.watch.sparseKinds[1]: must be one of kline, hot-kline, tick, stream, account, position-risk, user-stream, income, universe, got "userStream"',
    ]);
  });
});
