// The `hub` section: where the hub listens, where peers reach it, and how it serves them.
import { integer, oneOf, type SectionSettings, section, text, url } from './config-fields.js';

/** The `hub` section. */
export const hubSection = section({
  host: text().default('127.0.0.1').describe('Address the hub listens on (loopback by default)'),
  port: integer(0, 65_535).default(7700).describe('Port the hub listens on'),
  url: url(['ws', 'wss']).optional().describe('Where peers connect; derived from host and port when absent'),
  transport: oneOf(['auto', 'uws', 'ws'])
    .default('auto')
    .describe('Websocket server: uWebSockets.js, the ws package, or auto (uWS when it loads)'),
  snapshotIntervalMs: integer(1000, 3_600_000)
    .default(30_000)
    .describe('How often the hub sends each subscriber a full snapshot, ms'),
  tls: section({
    cert: text()
      .optional()
      .describe(
        "PEM certificate file: the hub's own on the hub machine, this peer's client certificate elsewhere",
      ),
    key: text().optional().describe('PEM private key file of `cert` (mode 600)'),
    ca: text()
      .optional()
      .describe(
        "PEM CA file: peers trust only it for the hub's certificate; the hub requires peers' certificates signed by it",
      ),
    peerCertificates: oneOf(['required', 'not-asked'])
      .default('required')
      .describe(
        "On the hub with a CA: require every peer's certificate (mutual TLS; the ws transport), or not ask for one (uWS can serve; peers prove themselves by their keys)",
      ),
  })
    .optional()
    .describe(
      'TLS between machines (docs/operations.md, TLS); without it the hub accepts plain connections from loopback only',
    ),
});

export type HubSettings = SectionSettings<typeof hubSection>;
