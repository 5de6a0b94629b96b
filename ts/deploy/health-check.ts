// After a deploy: waits until the hub reports every expected peer, the changed ones as new processes of the new release, and checks they stay up.
import type { HubStatus } from '../hub/hub-status.js';
import { readFullStatus, type StatusSource } from '../hub/status-client.js';

/** One peer the hub must show. */
export interface ExpectedPeer {
  readonly peer: string;
  readonly host: string;
  /**
   * For a (re)started service: the process the hub showed for it before (`pid@startedAt`), which
   * must have been replaced. (Compared by identity, not by time: hosts' clocks may differ.)
   */
  readonly replaces: string | undefined;
}

/** What the health check wants. */
export interface HealthExpectation {
  readonly peers: readonly ExpectedPeer[];
  /** The version (`<package version>+<release id>`, or `+<id>` to match the suffix) every peer and the hub must run. */
  readonly version: string;
  readonly timeoutMs: number;
  /** How long the peers must stay up once all are there (seed 000 checked after 3 s). Default 3,000 ms. */
  readonly holdMs?: number;
}

/** The fleet did not become healthy in time: says which peers are missing or wrong and why. */
export class HealthCheckError extends Error {
  override readonly name = 'HealthCheckError';
  constructor(readonly problems: readonly string[]) {
    super(`health check failed:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
}

/** A peer's process identity as the hub saw it: `pid@startedAt` (undefined without an agent). */
export function processOf(peer: { agent: { pid: number; startedAt: number } | null }): string | undefined {
  return peer.agent === null ? undefined : `${peer.agent.pid}@${peer.agent.startedAt}`;
}

/** Each connected peer's process identity by name. */
export function processesOf(status: HubStatus): Map<string, string> {
  const out = new Map<string, string>();
  for (const peer of status.peers) {
    const id = processOf(peer);
    if (id !== undefined) out.set(peer.peer, id);
  }
  return out;
}

function versionMatches(actual: string | undefined, wanted: string): boolean {
  if (actual === undefined) return false;
  return wanted.startsWith('+') ? actual.endsWith(wanted) : actual === wanted;
}

/** What is still wrong with `status` against `expect` (empty when healthy). */
export function healthProblems(status: HubStatus, expect: HealthExpectation): string[] {
  const problems: string[] = [];
  if (!versionMatches(status.software.version, expect.version)) {
    problems.push(`hub: runs ${status.software.version}, expected ${expect.version}`);
  }
  for (const want of expect.peers) {
    const peer = status.peers.find((p) => p.peer === want.peer);
    if (peer === undefined) {
      problems.push(`${want.peer} on ${want.host}: not connected to the hub`);
      continue;
    }
    if (!versionMatches(peer.agent?.version, expect.version)) {
      problems.push(
        `${want.peer} on ${want.host}: runs ${peer.agent?.version ?? 'an unknown version'}, expected ${expect.version}`,
      );
    }
    if (want.replaces !== undefined && processOf(peer) === want.replaces) {
      problems.push(`${want.peer} on ${want.host}: still the process from before the restart`);
    }
    if (peer.agent !== null && peer.agent.host !== want.host) {
      problems.push(`${want.peer}: connected from host ${peer.agent.host}, expected ${want.host}`);
    }
  }
  return problems;
}

/**
 * Polls the hub's full status until {@link healthProblems} is empty, then waits `holdMs` and checks
 * that the same processes are still connected (a service in a crash loop fails here). Throws a
 * {@link HealthCheckError} with the last problems when `timeoutMs` passes.
 */
export async function waitHealthy(source: StatusSource, expect: HealthExpectation): Promise<HubStatus> {
  const deadline = Date.now() + expect.timeoutMs;
  let problems: string[] = ['the hub has not answered yet'];
  for (;;) {
    let status: HubStatus | undefined;
    try {
      status = await readFullStatus({ ...source, timeoutMs: 3_000 });
      problems = healthProblems(status, expect);
    } catch (error) {
      problems = [`hub status: ${(error as Error).message}`];
    }
    if (status !== undefined && problems.length === 0) {
      const processes = processesOf(status);
      await new Promise((resolve) => setTimeout(resolve, expect.holdMs ?? 3_000));
      const later = await readFullStatus({ ...source, timeoutMs: 3_000 });
      const unstable = expect.peers
        .map((want) => want.peer)
        .filter((peer) => {
          const p = later.peers.find((x) => x.peer === peer);
          return p === undefined || processOf(p) !== processes.get(peer);
        });
      if (unstable.length === 0) return later;
      problems = unstable.map(
        (peer) => `${peer}: went away or restarted within ${expect.holdMs ?? 3_000} ms of starting`,
      );
    }
    if (Date.now() >= deadline) throw new HealthCheckError(problems);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
