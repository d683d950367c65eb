import { connect, createServer, type DetailedPeerCertificate, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { captureClientChainOnSni, capturedClientChain } from '../../../shared/transport/client-chain-capture.js';
import { presentedChain } from '../../../shared/transport/peer-chain.js';
import { DevCa, type MintedSvid } from '../../local/dev-ca.js';

let ca: DevCa;
let server: MintedSvid;
let client: MintedSvid;

beforeAll(async () => {
  ca = await DevCa.create('jia.app');
  [server, client] = await Promise.all([
    ca.mintSvid('spiffe://jia.app/contact-service'),
    ca.mintSvid('spiffe://jia.app/payment-functions', { viaIntermediate: true }),
  ]);
});

/** One mTLS handshake on loopback; resolves with what the server could see of the client's chain. */
async function handshake(servername: string | undefined) {
  const tlsServer = createServer({
    key: server.privateKeyPem,
    cert: server.certChainPem,
    ca: ca.bundlePem,
    requestCert: true,
    rejectUnauthorized: true,
    SNICallback: captureClientChainOnSni,
  });
  const seen = new Promise<{ captured: DetailedPeerCertificate | undefined; authorized: boolean }>((resolve) => {
    tlsServer.once('secureConnection', (socket: TLSSocket) => {
      resolve({ captured: capturedClientChain(socket), authorized: socket.authorized });
      socket.end();
    });
  });
  await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
  const { port } = tlsServer.address() as AddressInfo;
  const socket = connect({
    port,
    host: '127.0.0.1',
    ...(servername ? { servername } : {}),
    key: client.privateKeyPem,
    cert: client.certChainPem,
    ca: ca.bundlePem,
    checkServerIdentity: () => undefined,
  });
  socket.on('error', () => {});
  socket.resume();
  try {
    return await seen;
  } finally {
    socket.destroy();
    await new Promise((resolve) => tlsServer.close(resolve));
  }
}

describe('captureClientChainOnSni', () => {
  it('keeps the intermediate a client presented, which node drops on the server side', async () => {
    const { captured, authorized } = await handshake('contact-service');

    expect(authorized).toBe(true);
    expect(captured).toBeDefined();
    expect(presentedChain(captured!).map((c) => c.serialNumber.toLowerCase())[0]).toBe(client.serialNumber);
    expect(presentedChain(captured!)).toHaveLength(2);
  });

  it('records nothing for a client that sends no SNI', async () => {
    const { captured, authorized } = await handshake(undefined);

    expect(authorized).toBe(true);
    expect(captured).toBeUndefined();
  });
});
