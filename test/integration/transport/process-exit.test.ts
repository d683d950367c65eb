import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startContactService, type ContactServiceHandle } from '../../local/contact-service.js';
import { createLocalMesh, type LocalMesh } from './local-mesh.js';

const CHILD = fileURLToPath(new URL('./exit-child.ts', import.meta.url));
let mesh: LocalMesh;
let service: ContactServiceHandle;

beforeAll(async () => {
  mesh = await createLocalMesh();
  service = await startContactService({ svid: mesh.contactSvid, bundlePem: mesh.ca.bundlePem });
});

afterAll(async () => {
  await service?.close();
});

/** Runs exit-child.ts; resolves with its output, exit code, and ms from its answer to its exit. */
function runChild(closeChannel: boolean, killAfterMs = 8_000) {
  return new Promise<{ stdout: string; stderr: string; code: number | null; lingerMs: number | undefined }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
      env: {
        ...process.env,
        CONTACT_ADDRESS: service.address,
        SVID_JSON: JSON.stringify(mesh.functionsSvid),
        BUNDLE_PEM: mesh.ca.bundlePem,
        CLOSE_CHANNEL: closeChannel ? '1' : '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let answeredAt: number | undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      answeredAt ??= performance.now();
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('exit', (code) => {
      clearTimeout(killer);
      resolve({ stdout, stderr, code, lingerMs: answeredAt === undefined ? undefined : performance.now() - answeredAt });
    });
  });
}

describe('MeshChannel.close', () => {
  it('releases every socket and timer, and the process ends on its own', async () => {
    const { stdout, stderr, code, lingerMs } = await runChild(true);

    expect(stderr).toBe('');
    expect(JSON.parse(stdout)).toEqual({ user: 'user-1', resources: [] });
    expect(code).toBe(0);
    expect(lingerMs).toBeLessThan(3_000);
  });

});
