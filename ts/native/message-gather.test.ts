import { describe, expect, it } from 'vitest';
import { MessageGather } from './message-gather.js';

/** The messages a gather holds, split at its ends. */
function split(gather: MessageGather, count: number): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < count; i++) {
    const end = gather.ends[i] as number;
    out.push(Buffer.from(gather.bytes.subarray(start, end)).toString());
    start = end;
  }
  return out;
}

describe('MessageGather', () => {
  it('puts messages back to back, each ending at its offset', () => {
    const gather = new MessageGather();
    const messages = ['{"a":1}', '', '{"b":22}'];
    expect(gather.gather(messages.map((m) => Buffer.from(m)))).toBe(3);
    expect(Array.from(gather.ends.subarray(0, 3))).toEqual([7, 7, 15]);
    expect(split(gather, 3)).toEqual(messages);
    expect(gather.gather([])).toBe(0);
  });

  it('grows for a batch past its bytes or its message count, and gives a huge batch’s buffer back', () => {
    const gather = new MessageGather();
    // 3,000 messages of 100 B: past the 256 ends and the 16 KiB it starts with.
    const many = Array.from({ length: 3_000 }, (_, i) => `${i}`.padEnd(100, '.'));
    expect(gather.gather(many.map((m) => Buffer.from(m)))).toBe(3_000);
    expect(split(gather, 3_000)).toEqual(many);
    const huge = 'x'.repeat(3 * 1024 * 1024);
    gather.gather([Buffer.from(huge), Buffer.from('tail')]);
    expect(gather.ends[1]).toBe(huge.length + 4);
    expect(split(gather, 2)[1]).toBe('tail');
    expect(gather.bytes.length).toBeGreaterThan(3 * 1024 * 1024);
    gather.gather([Buffer.from('small')]);
    expect(gather.bytes.length).toBeLessThanOrEqual(1024 * 1024);
    expect(split(gather, 1)).toEqual(['small']);
  });

  it('refuses an element that is not bytes, naming it, instead of copying nothing', () => {
    const gather = new MessageGather();
    const notBytes = [Buffer.from('{}'), new ArrayBuffer(4), 'text'] as unknown as Uint8Array[];
    expect(() => gather.gather(notBytes)).toThrow(
      new TypeError('message 1 of the batch is not a Buffer or Uint8Array'),
    );
    expect(() => gather.gather([notBytes[2] as Uint8Array])).toThrow(/message 0 /);
  });

  it('takes any Uint8Array view, not only whole Buffers', () => {
    const gather = new MessageGather();
    const backing = Buffer.from('__{"s":"X"}__');
    gather.gather([backing.subarray(2, 11), new Uint8Array([123, 125])]);
    expect(split(gather, 2)).toEqual(['{"s":"X"}', '{}']);
  });
});
