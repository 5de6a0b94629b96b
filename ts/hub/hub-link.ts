// Where a peer process finds the hub and the secret it authenticates with, from the loaded configuration.
import { ConfigError } from '../config/config-error.js';
import type { LoadedConfig } from '../config/load-config.js';

/** Where peers reach the hub. */
export function hubUrl(loaded: LoadedConfig): string {
  const { hub } = loaded.config;
  return hub.url ?? `ws://${hub.host}:${hub.port}`;
}

/** The hub's shared secret, or a `ConfigError` saying where to put it. */
export function hubSecret(loaded: LoadedConfig): string {
  const secret = loaded.secrets.hubSecret;
  if (secret === undefined) {
    throw new ConfigError(
      [{ path: 'TRIBUTARY_HUB_SECRET', message: 'must be set in the environment or the secrets file' }],
      'secrets',
    );
  }
  return secret;
}
