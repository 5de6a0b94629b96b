import { describe, expect, it } from 'vitest';
import { Logger } from './logger.js';

describe('Logger', () => {
  it('writes JSON lines with component, level and fields, above its level only', () => {
    const lines: string[] = [];
    const log = new Logger('hub', { level: 'info', format: 'json', sink: (l) => lines.push(l) });
    log.debug('hidden');
    log.info('peer joined', { peer: 'kline-1', role: 'collector' });
    log.child('ingest').warn('frame rejected', { reason: 'truncated' });
    expect(lines).toHaveLength(2);
    const [first, second] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(first).toMatchObject({ level: 'info', component: 'hub', msg: 'peer joined', peer: 'kline-1' });
    expect(second).toMatchObject({ level: 'warn', component: 'hub.ingest', reason: 'truncated' });
    expect(log.enabled('debug')).toBe(false);
  });

  it('writes readable text lines, quoting values with spaces', () => {
    const lines: string[] = [];
    const log = new Logger('sim', { level: 'debug', format: 'text', sink: (l) => lines.push(l) });
    log.error('listen failed', { address: '127.0.0.1:80', reason: 'in use' });
    expect(lines[0]).toMatch(/ERROR sim: listen failed address=127\.0\.0\.1:80 reason="in use"$/);
  });
});
