// Tests of the file order journal: what was journaled survives restarts, including after a crash mid-write.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../ts/log/logger.js';
import { FileOrderJournal, type JournalEntry } from './order-journal.js';

const entry = (id: string): JournalEntry => ({
  clientOrderId: id,
  symbol: 'BTCUSDT',
  side: 'BUY',
  quantity: '1.000',
  reduceOnly: false,
  kind: 'market',
  decidedAt: 1_780_000_000_000,
});

function journalPath(): string {
  return join(mkdtempSync(join(tmpdir(), 'order-journal-')), 'orders.jsonl');
}

describe('FileOrderJournal', () => {
  it('reloads begun and settled orders after a restart', () => {
    const path = journalPath();
    const run1 = new FileOrderJournal(path, silentLogger('journal'));
    run1.begin(entry('t_a'));
    run1.begin(entry('t_b'));
    run1.settle('t_a', 'FILLED', '1.000');
    run1.close();
    const run2 = new FileOrderJournal(path, silentLogger('journal'));
    expect(run2.get('t_a')).toMatchObject({ status: 'FILLED', executedQty: '1.000' });
    expect(run2.unresolved().map((e) => e.clientOrderId)).toEqual(['t_b']);
    expect(run2.stats).toEqual({ entries: 2, badLines: 0 });
    run2.close();
  });

  it('keeps an order journaled after a restart that found a torn last line', () => {
    const path = journalPath();
    // Run 1: one complete entry, then the process dies in the middle of writing the next line.
    writeFileSync(
      path,
      `${JSON.stringify({ op: 'begin', ...entry('t_first') })}\n{"op":"settle","clientOrderId":"t_fir`,
    );
    // Run 2: the torn line is skipped and counted; a new order is journaled (fsynced) and sent.
    const run2 = new FileOrderJournal(path, silentLogger('journal'));
    expect(run2.stats).toEqual({ entries: 1, badLines: 1 });
    expect(run2.unresolved().map((e) => e.clientOrderId)).toEqual(['t_first']);
    run2.begin(entry('t_second'));
    run2.close();
    // Run 3: the order run 2 sent must still be known, or a repeated decision sends it again.
    const run3 = new FileOrderJournal(path, silentLogger('journal'));
    expect(run3.get('t_second')).toBeDefined();
    expect(run3.get('t_first')).toBeDefined();
    expect(run3.stats).toEqual({ entries: 2, badLines: 0 });
    run3.close();
    // every line of the file is whole JSON: the fragment is gone
    const lines = readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => l !== '');
    expect(lines.map((l) => (JSON.parse(l) as { clientOrderId: string }).clientOrderId)).toEqual([
      't_first',
      't_second',
    ]);
  });
});
