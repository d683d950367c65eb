/**
 * Measures what a silently dropped connection does to the first call after a Lambda-like freeze,
 * for each way of coping with it; the numbers behind `maxIdleMs` in `mesh-channel.ts`.
 *
 *   node --import tsx test/integration/transport/measure-stale-connections.ts   (about 2 minutes)
 *
 * Each row: one warm call through a TCP proxy; then the proxy blackholes the connection (or the
 * server resets it) and the event loop is blocked for the pause (a freeze: no timer, no socket
 * event) or left running (idle); then two GetUserInfo calls with a 2 s deadline.
 */
import type { ChannelOptions } from '@grpc/grpc-js';
import { ContactClient } from '../../../shared/transport/contact-client.js';
import { startContactService } from '../../local/contact-service.js';
import { startTcpProxy } from '../../local/tcp-proxy.js';
import { contactChannel, createLocalMesh, fixedIdentity } from './local-mesh.js';

type Drop = 'blackhole, frozen' | 'blackhole, idle' | 'reset, frozen';

const mesh = await createLocalMesh();
const freeze = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function measure(label: string, drop: Drop, maxIdleMs: number, channelOptions: ChannelOptions, pauseMs = 3_000) {
  const service = await startContactService({ svid: mesh.contactSvid, bundlePem: mesh.ca.bundlePem });
  const proxy = await startTcpProxy({ target: { host: '127.0.0.1', port: service.port } });
  const channel = contactChannel(proxy.address, fixedIdentity(mesh.functions), { maxIdleMs, channelOptions });
  const contacts = new ContactClient(channel, { timeoutSeconds: 2 });
  await contacts.getUserInfo('user-1');
  if (drop === 'reset, frozen') {
    service.setFault({ kind: 'drop' });
    service.setFault({ kind: 'none' });
    freeze(pauseMs);
  } else {
    proxy.blackhole();
    if (drop === 'blackhole, frozen') freeze(pauseMs);
    else await sleep(pauseMs);
  }
  const results: string[] = [];
  for (let i = 0; i < 2; i++) {
    const started = performance.now();
    const outcome = await contacts.getUserInfo('user-1').then(
      () => 'ok',
      (error: { code?: string }) => error.code ?? String(error),
    );
    results.push(`${outcome} ${(performance.now() - started).toFixed(0)} ms`);
  }
  console.log(`${drop.padEnd(18)} ${label.padEnd(40)} ${results.join(' | ').padEnd(60)} channels=${channel.generation} connections=${proxy.accepted}`);
  channel.close();
  await proxy.close();
  await service.close();
}

const never = Number.POSITIVE_INFINITY;
const fastKeepalive = { 'grpc.keepalive_time_ms': 1_000, 'grpc.keepalive_timeout_ms': 500 };
for (const drop of ['blackhole, frozen', 'blackhole, idle', 'reset, frozen'] as const) {
  await measure('defaults', drop, never, {});
  await measure('keepalive 10 s / 5 s (12 s pause)', drop, never, { 'grpc.keepalive_time_ms': 10_000, 'grpc.keepalive_timeout_ms': 5_000 }, 12_000);
  await measure('keepalive 1 s / 0.5 s', drop, never, fastKeepalive);
  await measure('keepalive 1 s / 0.5 s, without calls', drop, never, { ...fastKeepalive, 'grpc.keepalive_permit_without_calls': 1 });
  await measure('client_idle_timeout_ms 1 s', drop, never, { 'grpc.client_idle_timeout_ms': 1_000 });
  await measure('recycle when idle > 1 s (maxIdleMs)', drop, 1_000, {});
}
