// The address a dashboard request came from, read through the reverse proxies the owner trusts.
import { isIP } from 'node:net';

/** An IPv4 address as IPv6 shows it (`::ffff:127.0.0.1`) written as IPv4, so one address has one key. */
export function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/**
 * The client's address: the socket's peer, unless that peer is one of `trustedProxies`; then the
 * nearest hop of `X-Forwarded-For` that is not a trusted proxy, read from the right (each proxy
 * appends the address it received the request from, so entries to the left of the first untrusted
 * one are whatever the client claimed and are never believed). Without a trusted proxy the header
 * is ignored: anyone could send it.
 */
export function clientAddress(
  socketAddress: string | undefined,
  forwardedFor: string | string[] | undefined,
  trustedProxies: ReadonlySet<string>,
): string {
  const peer = plainAddress(socketAddress ?? '');
  if (!trustedProxies.has(peer) || forwardedFor === undefined) return peer;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor)
    .split(',')
    .map((hop) => plainAddress(hop.trim()))
    .filter((hop) => hop !== '');
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i] ?? '';
    if (!trustedProxies.has(hop)) return hop;
  }
  // Every hop is a trusted proxy (or the header was empty): the request started at one of them.
  return peer;
}
