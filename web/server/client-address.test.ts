// Tests of the client address read through trusted proxies.
import { describe, expect, it } from 'vitest';
import { clientAddress, plainAddress } from './client-address.js';

describe('clientAddress', () => {
  const trusted = new Set(['127.0.0.1', '10.0.0.2']);

  it('believes X-Forwarded-For only from a trusted proxy', () => {
    expect(clientAddress('203.0.113.5', '198.51.100.1', trusted)).toBe('203.0.113.5');
    expect(clientAddress('127.0.0.1', '198.51.100.1', trusted)).toBe('198.51.100.1');
    expect(clientAddress('::ffff:127.0.0.1', '198.51.100.1', trusted)).toBe('198.51.100.1');
    expect(clientAddress('127.0.0.1', undefined, trusted)).toBe('127.0.0.1');
  });

  it('takes the nearest hop that is not a trusted proxy, never what the client wrote to its left', () => {
    expect(clientAddress('127.0.0.1', 'spoofed, 198.51.100.1, 10.0.0.2', trusted)).toBe('198.51.100.1');
    expect(clientAddress('127.0.0.1', ['1.1.1.1', '198.51.100.1'], trusted)).toBe('198.51.100.1');
    expect(clientAddress('127.0.0.1', '10.0.0.2, 127.0.0.1', trusted)).toBe('127.0.0.1');
    expect(clientAddress('127.0.0.1', ' , ', trusted)).toBe('127.0.0.1');
  });

  it('writes an IPv4-mapped IPv6 address as IPv4', () => {
    expect(plainAddress('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(plainAddress('::1')).toBe('::1');
    expect(plainAddress('::ffff:zz')).toBe('::ffff:zz');
  });
});
