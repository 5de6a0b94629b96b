// The hub fuzzer, bounded and seeded for CI: mutated frames of every kind against a real hub on both transports (issue 10).
import { describe, expect, it } from 'vitest';
import { TRANSPORTS, type TransportName } from './testing/hub-fixtures.js';
import { fuzzHub } from './testing/hub-fuzzer.js';

describe.each(TRANSPORTS)('hub fuzzer over %s', (transport: TransportName) => {
  it('survives 2,500 mutated messages of every kind; every subscriber equals a fresh snapshot; RSS bounded', async () => {
    const result = await fuzzHub({ frames: 2_500, seed: 20_261_202, transport, progressEvery: 500 });
    expect(result.mismatches).toEqual([]);
    // Every kind of mutation was sent, and the hub judged them: refusals of several reasons.
    for (const kind of [
      'ingest',
      'bitflip',
      'truncated',
      'extended',
      'garbage',
      'oversized',
      'wrong_kind',
      'control',
    ]) {
      expect(result.byKind[kind] ?? 0).toBeGreaterThan(0);
    }
    expect(result.changed).toBeGreaterThan(0);
    expect(result.refusedRecords).toBeGreaterThan(0);
    const reasons = Object.keys(result.rejected);
    for (const reason of ['oversized', 'record_unknown_symbol', 'record_time_in_future', 'bad_json']) {
      expect(reasons).toContain(reason);
    }
    expect(reasons.some((r) => r.startsWith('frame_'))).toBe(true);
    expect(result.rss.peakMiB - result.rss.warmMiB).toBeLessThan(256);
  }, 120_000);
});
