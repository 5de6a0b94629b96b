// What the deploy keeps on the machine it runs from: the fleet's CA and certificates, its own viewer key for the hub, built releases.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSecretsFile } from '../config/load-config.js';
import { parseHubKey } from '../hub/hub-link.js';
import type { HubClientTls } from '../hub/hub-tls.js';
import type { HubKeyCredentials } from '../hub/peer-keys.js';
import { ensureFleetCa, type FleetCa, issueHostCertificate } from './fleet-ca.js';
import type { Inventory, InventoryHost } from './inventory.js';
import { SECRET_NAMES } from './service-secrets.js';

/** The peer name of the deploy's own (viewer) key at the hub. */
export const DEPLOY_PEER = 'deploy';

/**
 * The deploy's folder for one fleet (`.tributary-deploy/<fleet>/` beside the inventory, mode 700):
 * `ca/` (the CA key never leaves it), `certs/`, `deploy.key`, `releases/`.
 */
export class DeployState {
  readonly dir: string;
  readonly #inventory: Inventory;

  constructor(inventory: Inventory, baseDir: string) {
    this.#inventory = inventory;
    this.dir = join(baseDir, '.tributary-deploy', inventory.fleet);
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    chmodSync(this.dir, 0o700);
  }

  get releasesDir(): string {
    return join(this.dir, 'releases');
  }

  /** The fleet CA (made on first use). */
  ca(): Promise<FleetCa> {
    return ensureFleetCa(join(this.dir, 'ca'), this.#inventory.fleet);
  }

  /** `host`'s certificate, key and the CA certificate as PEM text (issued on first use, for its name and address). */
  async hostTls(host: InventoryHost): Promise<{ ca: string; cert: string; key: string }> {
    const ca = await this.ca();
    const cert = await issueHostCertificate(ca, join(this.dir, 'certs'), host.name, [
      host.name,
      host.address,
    ]);
    return {
      ca: readFileSync(ca.certFile, 'utf8'),
      cert: readFileSync(cert.certFile, 'utf8'),
      key: readFileSync(cert.keyFile, 'utf8'),
    };
  }

  /** The deploy's client TLS for reading the hub's status (a certificate of its own, from the CA). */
  async clientTls(): Promise<HubClientTls> {
    const ca = await this.ca();
    const cert = await issueHostCertificate(ca, join(this.dir, 'certs'), DEPLOY_PEER, [DEPLOY_PEER]);
    return {
      ca: readFileSync(ca.certFile),
      cert: readFileSync(cert.certFile),
      key: readFileSync(cert.keyFile),
    };
  }

  /** The deploy's viewer key, if it has one. */
  deployKey(): HubKeyCredentials | undefined {
    const file = join(this.dir, 'deploy.key');
    if (!existsSync(file)) return undefined;
    const line = readFileSync(file, 'utf8').trim();
    return parseHubKey(line.replace(/^TRIBUTARY_HUB_KEY=/, ''));
  }

  /** Stores the deploy's viewer key (`TRIBUTARY_HUB_KEY=<id>:<secret>`), mode 600. */
  saveDeployKey(line: string): void {
    writeFileSync(join(this.dir, 'deploy.key'), `${line.trim()}\n`, { mode: 0o600 });
  }

  /** The secrets for `host` (`SECRET_NAMES`): the fleet's secrets file, the host's over it. */
  secretsFor(host: InventoryHost): Record<string, string> {
    const pick = (file: string | undefined) => {
      if (file === undefined) return {};
      const all = readSecretsFile(file);
      const out: Record<string, string> = {};
      for (const name of SECRET_NAMES) {
        const value = all[name];
        if (value !== undefined && value !== '') out[name] = value;
      }
      return out;
    };
    return { ...pick(this.#inventory.secretsFile), ...pick(host.secretsFile) };
  }
}
