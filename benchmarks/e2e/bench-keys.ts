// The benchmark's hub keys: one collector and one trader key sharing the run's random secret.
import type { HubKeyCredentials } from '../../ts/hub/peer-keys.js';
import { KeyRing } from '../../ts/hub/peer-keys.js';

const KEY_IDS = { collector: 'bench-collector', trader: 'bench-trader' } as const;

/** The key a benchmark peer of `role` authenticates with. */
export function benchKey(role: keyof typeof KEY_IDS, secret: string): HubKeyCredentials {
  return { id: KEY_IDS[role], secret };
}

/** The hub's ring: both keys, any peer name. */
export function benchKeyRing(secret: string): KeyRing {
  return new KeyRing(
    (['collector', 'trader'] as const).map((role) => ({
      id: KEY_IDS[role],
      secret,
      role,
      peers: ['*'],
      createdAt: 0,
      revokedAt: null,
    })),
  );
}

/** The role of a benchmark key id (the relay's stand-in for a key file). */
export function benchRoleOf(keyId: string): 'collector' | 'trader' | undefined {
  if (keyId === KEY_IDS.collector) return 'collector';
  if (keyId === KEY_IDS.trader) return 'trader';
  return undefined;
}
