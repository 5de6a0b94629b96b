// The shell scripts a host runs as root: prepare (user, folders, release, files; no service touched), activate (env files, units, release switch, services), rollback.
import type { HostPlan } from './fleet-plan.js';
import { shellQuote as q } from './remote-shell.js';
import { hostPaths, type InstallLayout, serviceNamed, unitName, writablePaths } from './systemd-unit.js';

/** Where the deploy uploads a host's files before a script installs them (named per host: test hosts may share /var/tmp). */
export function stagingDir(fleet: string, host: string): string {
  return `/var/tmp/tributary-stage-${fleet}-${host}`;
}

/**
 * Creates the user and folders, unpacks the release (if uploaded) into `releases/<id>` and
 * installs changed configuration, TLS and strategy module files. Starts, stops and rewires
 * nothing, so a failure anywhere in this phase leaves every service as it was.
 */
export function prepareScript(
  layout: InstallLayout,
  plan: HostPlan,
  releaseId: string,
  services: readonly string[],
  staging: string,
): string {
  const p = hostPaths(layout.dir);
  const u = q(layout.user);
  const lines = [
    'set -eu',
    'umask 022',
    `id -u ${u} >/dev/null 2>&1 || useradd --system --user-group --home-dir ${q(p.var)} --no-create-home --shell /usr/sbin/nologin ${u}`,
    `mkdir -p ${q(p.releases)} ${q(p.tls)} ${q(p.strategy)} ${q(p.env)} ${q(p.var)}`,
    `chown root:root ${q(layout.dir)} ${q(p.releases)} ${q(p.env)}`,
    `chmod 755 ${q(layout.dir)} ${q(p.releases)}`,
    // Env files hold secrets: root only (systemd reads them before dropping to the service user).
    `chmod 700 ${q(p.env)}`,
    `chown root:${u} ${q(p.etc)} ${q(p.tls)} ${q(p.strategy)}`,
    `chmod 750 ${q(p.etc)} ${q(p.tls)} ${q(p.strategy)}`,
    `chown ${u}:${u} ${q(p.var)}`,
    `chmod 750 ${q(p.var)}`,
  ];
  for (const service of services) {
    lines.push(
      `mkdir -p ${q(`${p.var}/${service}`)}`,
      `chown ${u}:${u} ${q(`${p.var}/${service}`)}`,
      `chmod 750 ${q(`${p.var}/${service}`)}`,
    );
  }
  if (plan.uploadRelease) {
    const target = `${p.releases}/${releaseId}`;
    lines.push(
      `rm -rf ${q(`${target}.partial`)}`,
      `mkdir ${q(`${target}.partial`)}`,
      `tar -xzf ${q(`${staging}/release.tgz`)} -C ${q(`${target}.partial`)} --strip-components=1 --no-same-owner`,
      `chown -R root:root ${q(`${target}.partial`)}`,
      `[ -f ${q(`${target}.partial/release.json`)} ] || { echo "the release archive has no release.json" >&2; exit 1; }`,
      `rm -rf ${q(target)}`,
      `mv -T ${q(`${target}.partial`)} ${q(target)}`,
    );
  }
  for (const file of plan.writeFiles) {
    const isKey = file.endsWith('.key');
    // The TLS key is read by the service user and must be private to it (the hub refuses others).
    const owner = isKey
      ? `-o ${u} -g ${u} -m 0600`
      : file.startsWith('etc/tls/')
        ? '-o root -g root -m 0644'
        : `-o root -g ${u} -m 0640`;
    // -D: a strategy module's own files may sit in folders below etc/strategy.
    lines.push(`install -D ${owner} ${q(`${staging}/files/${file}`)} ${q(`${layout.dir}/${file}`)}`);
  }
  lines.push('echo prepared');
  return `${lines.join('\n')}\n`;
}

/** Lists the hub's keys (JSON array; `[]` before the key file exists), as the service user. */
export function listKeysScript(layout: InstallLayout, releaseId: string): string {
  const p = hostPaths(layout.dir);
  return [
    'set -eu',
    `if [ -f ${q(p.hubKeys)} ]; then`,
    `  runuser -u ${q(layout.user)} -- ${q(layout.node)} ${q(`${p.releases}/${releaseId}/bin/tributary.js`)} keys list --json --file ${q(p.hubKeys)}`,
    'else echo "[]"; fi',
    '',
  ].join('\n');
}

/**
 * Issues one key per request on the hub host (as the service user, so the key file stays its own
 * and mode 600) and prints `<peer> TRIBUTARY_HUB_KEY=<id>:<secret>` lines; revokes `revoke` ids.
 */
export function keysScript(
  layout: InstallLayout,
  releaseId: string,
  issue: readonly { peer: string; role: string; label: string }[],
  revoke: readonly string[],
): string {
  const p = hostPaths(layout.dir);
  const keys = `runuser -u ${q(layout.user)} -- ${q(layout.node)} ${q(`${p.releases}/${releaseId}/bin/tributary.js`)} keys`;
  const lines = [
    'set -eu',
    `mkdir -p ${q(`${p.var}/hub`)}`,
    `chown ${q(layout.user)}:${q(layout.user)} ${q(`${p.var}/hub`)}`,
  ];
  lines.push('err=$(mktemp)', 'trap \'rm -f "$err"\' EXIT');
  for (const request of issue) {
    lines.push(
      `line=$(${keys} issue --file ${q(p.hubKeys)} --role ${q(request.role)} --peer ${q(request.peer)} --label ${q(request.label)} 2>"$err") || { cat "$err" >&2; exit 1; }`,
      `echo ${q(request.peer)} "$line"`,
    );
  }
  for (const id of revoke) {
    lines.push(
      `${keys} revoke --file ${q(p.hubKeys)} ${q(id)} 2>"$err" || { echo "revoking ${id}:" >&2; cat "$err" >&2; }`,
    );
  }
  lines.push('');
  return lines.join('\n');
}

/**
 * Writes env files (the deploy's part from staging plus the new key, or the key line the file
 * already had), stops and removes dropped services, installs units, switches `current` (the
 * old one becomes `previous`), then starts new and restarts changed services. If a step fails,
 * services this run started are stopped and disabled and `current` is put back: nothing
 * half-installed stays running.
 */
export function activateScript(
  layout: InstallLayout,
  plan: HostPlan,
  releaseId: string,
  staging: string,
): string {
  const p = hostPaths(layout.dir);
  const lines = [
    'set -eu',
    'umask 077',
    'started=""',
    `old_current=$(readlink ${q(p.current)} 2>/dev/null || true)`,
    'revert() {',
    '  for s in $started; do systemctl disable --now "tributary-$s.service" >/dev/null 2>&1 || true; done',
    `  if [ -n "$old_current" ]; then ln -sfn "$old_current" ${q(`${p.current}.tmp`)} && mv -T ${q(`${p.current}.tmp`)} ${q(p.current)}; fi`,
    '}',
    `trap 'rc=$?; if [ $rc -ne 0 ]; then echo "activation failed (exit $rc): stopping what this run started and restoring the release link" >&2; revert; fi' EXIT`,
  ];
  for (const service of plan.writeEnvs) {
    const env = `${p.env}/${service}.env`;
    const newKey = plan.issueKeys.some((k) => k.service === service);
    lines.push(
      `{ cat ${q(`${staging}/env/${service}.env`)}; ${
        newKey
          ? `cat ${q(`${staging}/env/${service}.key`)}`
          : `grep '^TRIBUTARY_HUB_KEY=' ${q(env)} 2>/dev/null || true`
      }; } > ${q(`${env}.new`)}`,
      `chmod 600 ${q(`${env}.new`)}`,
      `mv -f ${q(`${env}.new`)} ${q(env)}`,
    );
  }
  for (const service of plan.removeServices) {
    lines.push(
      `systemctl disable --now ${q(unitName(service))} >/dev/null 2>&1 || systemctl stop ${q(unitName(service))} || true`,
      `rm -f ${q(`${layout.unitDir}/${unitName(service)}`)} ${q(`${p.env}/${service}.env`)}`,
    );
  }
  for (const service of plan.writeUnits) {
    lines.push(
      `install -o root -g root -m 0644 ${q(`${staging}/units/${unitName(service)}`)} ${q(`${layout.unitDir}/${unitName(service)}`)}`,
    );
  }
  if (plan.writeUnits.length > 0 || plan.removeServices.length > 0) lines.push('systemctl daemon-reload');
  if (plan.switchRelease) {
    lines.push(
      `[ -d ${q(`${p.releases}/${releaseId}`)} ] || { echo "release ${releaseId} is not on this host" >&2; exit 1; }`,
      `if [ -n "$old_current" ] && [ "$(basename "$old_current")" != ${q(releaseId)} ]; then ln -sfn "$old_current" ${q(`${p.previous}.tmp`)} && mv -T ${q(`${p.previous}.tmp`)} ${q(p.previous)}; fi`,
      `ln -sfn ${q(`${p.releases}/${releaseId}`)} ${q(`${p.current}.tmp`)}`,
      `mv -T ${q(`${p.current}.tmp`)} ${q(p.current)}`,
    );
  }
  // The folders a service writes (its WorkingDirectory and ReadWritePaths): systemd starts no
  // unit whose folders are missing.
  for (const service of [...plan.startServices, ...plan.restartServices]) {
    const instance = serviceNamed(service);
    const folders = instance === undefined ? [`${p.var}/${service}`] : writablePaths(instance, layout.dir);
    for (const folder of folders) {
      lines.push(
        `mkdir -p ${q(folder)}`,
        `chown ${q(layout.user)}:${q(layout.user)} ${q(folder)}`,
        `chmod 750 ${q(folder)}`,
      );
    }
  }
  for (const service of plan.startServices) {
    lines.push(
      `systemctl enable ${q(unitName(service))} >/dev/null 2>&1`,
      `systemctl start ${q(unitName(service))}`,
      `started="$started ${service}"`,
    );
  }
  for (const service of plan.restartServices) {
    lines.push(
      `systemctl enable ${q(unitName(service))} >/dev/null 2>&1`,
      `systemctl restart ${q(unitName(service))}`,
    );
  }
  // After the restarts: until then a trader that restarted on its own read the old configuration,
  // which may still name one of these.
  for (const file of plan.removeFiles) lines.push(`rm -f ${q(`${layout.dir}/${file}`)}`);
  // A module's folder of its own files goes with its last file.
  if (plan.removeFiles.length > 0) lines.push(`find ${q(p.strategy)} -mindepth 1 -type d -empty -delete`);
  lines.push(
    // Keep the current and previous releases; older ones go.
    `cur=$(basename "$(readlink ${q(p.current)} 2>/dev/null || echo none)")`,
    `prev=$(basename "$(readlink ${q(p.previous)} 2>/dev/null || echo none)")`,
    `for r in ${q(p.releases)}/*; do b=$(basename "$r"); [ "$b" = "$cur" ] || [ "$b" = "$prev" ] || rm -rf "$r"; done`,
    `rm -rf ${q(staging)}`,
    'echo activated',
    '',
  );
  return lines.join('\n');
}

/** Swaps `current` and `previous` and restarts every Tributary unit; fails when there is no previous release. */
export function rollbackScript(layout: InstallLayout, services: readonly string[]): string {
  const p = hostPaths(layout.dir);
  const lines = [
    'set -eu',
    `[ -L ${q(p.previous)} ] || { echo "no previous release to roll back to" >&2; exit 3; }`,
    `cur=$(readlink ${q(p.current)})`,
    `prev=$(readlink ${q(p.previous)})`,
    `[ -d "$prev" ] || { echo "previous release $prev is gone" >&2; exit 3; }`,
    `ln -sfn "$prev" ${q(`${p.current}.tmp`)} && mv -T ${q(`${p.current}.tmp`)} ${q(p.current)}`,
    `ln -sfn "$cur" ${q(`${p.previous}.tmp`)} && mv -T ${q(`${p.previous}.tmp`)} ${q(p.previous)}`,
  ];
  for (const service of services) lines.push(`systemctl restart ${q(unitName(service))}`);
  lines.push('echo "rolled back to $(basename "$prev")"', '');
  return lines.join('\n');
}
