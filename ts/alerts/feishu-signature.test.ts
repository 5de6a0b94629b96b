// The Feishu custom-bot signature against a value computed independently (Python's hmac), and the receiver-side check.
import { describe, expect, it } from 'vitest';
import { checkFeishuSignature, feishuSignature } from './feishu-signature.js';

// python3: base64.b64encode(hmac.new(b'1599360473\ntest-secret', b'', hashlib.sha256).digest())
const DOCUMENTED = 'wSds2BzzFIIGf/WrhUO+NI1q/9j+FRJd3JNHKAq0NZY=';
// The same inputs with key and message swapped (a common mistake): must not be what we send.
const SWAPPED = 'bwOSU6XMEexAHKuyN31krxa2lbNEg4trOnn0f+E2pPs=';

describe('feishuSignature', () => {
  it('keys HMAC-SHA256 with timestamp + "\\n" + secret over an empty message, base64', () => {
    expect(feishuSignature(1599360473, 'test-secret')).toBe(DOCUMENTED);
    expect(feishuSignature(1599360473, 'test-secret')).not.toBe(SWAPPED);
  });

  it('changes with the timestamp and with the secret', () => {
    const base = feishuSignature(1599360473, 'test-secret');
    expect(feishuSignature(1599360474, 'test-secret')).not.toBe(base);
    expect(feishuSignature(1599360473, 'test-secreT')).not.toBe(base);
  });
});

describe('checkFeishuSignature', () => {
  const now = 1599360473;
  it('accepts the right signature with the timestamp as a string or a number', () => {
    expect(checkFeishuSignature('1599360473', DOCUMENTED, 'test-secret', now)).toBeUndefined();
    expect(checkFeishuSignature(1599360473, DOCUMENTED, 'test-secret', now + 3600)).toBeUndefined();
  });

  it('refuses a missing timestamp or signature', () => {
    expect(checkFeishuSignature(undefined, DOCUMENTED, 'test-secret', now)).toBe('missing');
    expect(checkFeishuSignature('1599360473', undefined, 'test-secret', now)).toBe('missing');
    expect(checkFeishuSignature('soon', DOCUMENTED, 'test-secret', now)).toBe('missing');
  });

  it('refuses a timestamp more than an hour from the clock, either way', () => {
    expect(checkFeishuSignature('1599360473', DOCUMENTED, 'test-secret', now + 3601)).toBe('stale');
    expect(checkFeishuSignature('1599360473', DOCUMENTED, 'test-secret', now - 3601)).toBe('stale');
  });

  it('refuses a signature made with another secret or the swapped construction', () => {
    expect(checkFeishuSignature('1599360473', DOCUMENTED, 'other-secret', now)).toBe('mismatch');
    expect(checkFeishuSignature('1599360473', SWAPPED, 'test-secret', now)).toBe('mismatch');
    expect(checkFeishuSignature('1599360473', 'short', 'test-secret', now)).toBe('mismatch');
  });
});
