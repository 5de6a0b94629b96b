import { describe, expect, it } from 'vitest';
import { Decimal } from '../../ts/exact/decimal.js';
import { silentLogger } from '../../ts/log/logger.js';
import { EventQueue } from './event-queue.js';
import type { SignalEvent } from './events.js';

function signal(symbol: string): SignalEvent {
  return {
    type: 'signal',
    key: { strategy: 's', symbol, time: 1 },
    target: Decimal.ZERO,
    execution: { kind: 'market' },
    reason: 'test',
  };
}

describe('EventQueue', () => {
  it('handles every event pushed and drained in one turn (several closes in one loop)', () => {
    const queue = new EventQueue(silentLogger('queue'));
    const seen: string[] = [];
    queue.on('signal', (e) => {
      seen.push(e.key.symbol);
    });
    for (const symbol of ['A', 'B', 'C']) {
      queue.push(signal(symbol));
      void queue.drain();
    }
    // Synchronous handlers: handled before drain returns, none left for a later drain.
    expect(seen).toEqual(['A', 'B', 'C']);
    expect(queue.size).toBe(0);
  });

  it('keeps order across an async handler and hands later pushes to the running drain', async () => {
    const queue = new EventQueue(silentLogger('queue'));
    const seen: string[] = [];
    let release: () => void = () => {};
    queue.on('signal', (e) => {
      seen.push(`start ${e.key.symbol}`);
      if (e.key.symbol !== 'A') return undefined;
      return new Promise<void>((resolve) => {
        release = () => {
          seen.push('end A');
          resolve();
        };
      });
    });
    queue.push(signal('A'));
    const first = queue.drain();
    queue.push(signal('B'));
    const second = queue.drain();
    expect(seen).toEqual(['start A']);
    release();
    await Promise.all([first, second]);
    expect(seen).toEqual(['start A', 'end A', 'start B']);
    queue.push(signal('C'));
    expect(queue.drainSync()).toBeUndefined();
    expect(seen.at(-1)).toBe('start C');
  });
});
