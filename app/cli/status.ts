// `tributary status`: the fleet as the hub sees it, from its full status document.
import { loadConfig } from '../../ts/config/load-config.js';
import { renderFleet } from '../../ts/deploy/fleet-view.js';
import { hubClientTls, hubKey, hubUrl } from '../../ts/hub/hub-link.js';
import { readFullStatus } from '../../ts/hub/status-client.js';
import { parseCommandArgs, UsageError } from './usage-error.js';

const HELP = `Usage: tributary status [--config <file>] [--hub <url>] [--json]

Prints the fleet from the hub's full status (GET /status/full): for every connected peer (the
gateway, publisher and dashboard too) its host, role, kind, instance, when the hub last heard from
it, the age of its data (a collector's last data at the hub, the recorder's last reconciliation,
the publisher's last round), its restarts and its Tributary and Node versions; the request weight
each host (one IP) used this minute against its limit, by kind (order, account, kline, tick,
income, universe), with requests waiting and any 429/418 block in force; collectors that are not
connected; the hub's own version and transport. "-" marks a figure the hub does not have.

The request is signed with the viewer or admin key in TRIBUTARY_HUB_KEY (\`tributary keys issue
--role viewer --peer status\` on the hub machine). The hub's address is hub.url from the
configuration (or --hub); for a TLS hub, hub.tls.ca (and this machine's hub.tls.cert and
hub.tls.key when the hub requires peer certificates) come from the configuration too.

Options:
  -c, --config <file>   configuration file
      --hub <url>       the hub (ws://, wss://, http:// or https://; default hub.url)
      --json            the full status document as JSON instead of the table
`;

/** The scheme of a URL (`"ws:"`), or "" when `text` is no URL. */
function protocolOf(text: string): string {
  try {
    return new URL(text).protocol;
  } catch {
    return '';
  }
}

/** Runs `tributary status`; exit code 0 when the hub answered, 1 otherwise. */
export async function runStatus(args: string[]): Promise<number> {
  const { values } = parseCommandArgs({
    args,
    options: {
      config: { type: 'string', short: 'c' },
      hub: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: false,
    strict: true,
  });
  if (values.help === true) {
    process.stdout.write(HELP);
    return 0;
  }
  // The status client takes any scheme for http (ftp://x would be asked as http://x): refuse it here.
  if (values.hub !== undefined && !/^(wss?|https?):$/.test(protocolOf(values.hub)))
    throw new UsageError(
      `--hub must be a ws://, wss://, http:// or https:// URL, got ${JSON.stringify(values.hub)}`,
    );
  // It never calls the exchange: no exchange keys needed.
  const loaded = loadConfig(values.config, process.env, { exchangeKeys: 'unused' });
  const status = await readFullStatus({
    hubUrl: values.hub ?? hubUrl(loaded),
    key: hubKey(),
    tls: hubClientTls(loaded),
  });
  process.stdout.write(values.json === true ? `${JSON.stringify(status, null, 2)}\n` : renderFleet(status));
  return 0;
}
