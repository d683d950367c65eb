import { isIP } from 'node:net';
import { DiscoveryError } from './discovery-error.js';

/** One instance of a mesh service: an IP address (or host name) and a TCP port. */
export interface ServiceAddress {
  readonly host: string;
  readonly port: number;
}

/** The port mesh services listen on when a source gives none (the mesh's Go services' default). */
export const DEFAULT_GRPC_PORT = 50051;

const ADDRESS = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/;

/**
 * Parses `host:port` or `[ipv6]:port`.
 *
 * @throws {DiscoveryError} `DISCOVERY_BAD_ADDRESS` when the text is not an address with a port of 1..65535.
 */
export function parseServiceAddress(text: string, service = text): ServiceAddress {
  const match = ADDRESS.exec(text.trim());
  const [, v6, host, digits] = match ?? [];
  const port = Number(digits);
  const ok = match !== null && port >= 1 && port <= 65535 && (v6 === undefined || isIP(v6) === 6);
  if (!ok) {
    throw new DiscoveryError(
      'DISCOVERY_BAD_ADDRESS',
      `address must be host:port or [ipv6]:port with a port of 1..65535, got ${JSON.stringify(text)}`,
      { service },
    );
  }
  return { host: v6 ?? host ?? '', port };
}

/** `host:port`, with IPv6 hosts in brackets: the form gRPC and logs use. */
export function formatServiceAddress(address: ServiceAddress): string {
  return isIP(address.host) === 6 ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

/** A port number as Cloud Map or DNS hand it over, or `undefined` when it is not one. */
export function portOf(value: string | number | undefined): number | undefined {
  const port = typeof value === 'string' && /^\d{1,5}$/.test(value.trim()) ? Number(value) : value;
  return typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= 65535 ? port : undefined;
}

/** The addresses without repeats, in first-seen order. */
export function uniqueAddresses(addresses: readonly ServiceAddress[]): ServiceAddress[] {
  const seen = new Map<string, ServiceAddress>();
  for (const address of addresses) {
    const key = formatServiceAddress(address);
    if (!seen.has(key)) seen.set(key, { host: address.host, port: address.port });
  }
  return [...seen.values()];
}

/** True when both lists hold the same addresses, in any order. */
export function sameAddresses(a: readonly ServiceAddress[], b: readonly ServiceAddress[]): boolean {
  const left = new Set(a.map(formatServiceAddress));
  const right = new Set(b.map(formatServiceAddress));
  return left.size === right.size && [...left].every((key) => right.has(key));
}
