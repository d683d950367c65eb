/**
 * `npm run serve` in a child process, as a user starts it: its own process group (so SIGINT
 * reaches npm, tsx and serve, as Ctrl-C does), free ports (`PORT=0`, `LAMBDA_PORT=0`), state in a
 * directory of the test's own, output piped (so JSON lines).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { delimiter, join } from 'node:path';
import { PROJECT_ROOT } from './run-npm.js';

const SETTINGS = /^(AWS_|SERVICE_MESH_|EXTERNAL_SERVICES_|SVID_|MTLS_|CIRCUIT_BREAKER_|WEBHOOK_|POWERTOOLS_|QUEUE_URL$|ENTITLEMENTS_TABLE$|CONFIG_FILE$|PAYMENT_FUNCTIONS_|PORT$|LAMBDA_PORT$|VITEST)/;

export interface ServeProcess {
  child: ChildProcess;
  httpUrl: string;
  invokeUrl: string;
  /** Everything written so far. */
  readonly stdout: string;
  readonly stderr: string;
  /**
   * Sends SIGINT to the whole group (Ctrl-C); resolves once no process of the group is left
   * (npm itself dies of the signal; serve stops what it started, then exits).
   */
  interrupt(): Promise<void>;
  exited: Promise<number | null>;
}

/** Starts serve and resolves once it says it is ready; rejects with its output when it exits first. */
export function startServeProcess(args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<ServeProcess> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !SETTINGS.test(name)));
  const child = spawn('npm', ['run', '--silent', 'serve', '--', ...args], {
    cwd: PROJECT_ROOT,
    env: { ...inherited, PATH: `${join(PROJECT_ROOT, 'node_modules', '.bin')}${delimiter}${process.env.PATH ?? ''}`, PORT: '0', LAMBDA_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // 'close': every holder of the pipes (npm, tsx, serve) is gone and the output is read in full.
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return new Promise((resolve, reject) => {
    const killer = setTimeout(() => {
      process.kill(-child.pid!, 'SIGKILL');
      reject(new Error(`serve did not get ready in ${timeoutMs} ms:\n${stderr}`));
    }, timeoutMs);
    const ready = () => {
      const match = /ready in [\d.]+ s: http api (\S+) {2}invoke api (\S+)/.exec(stderr);
      if (!match) return;
      clearTimeout(killer);
      child.stderr!.off('data', ready);
      resolve({
        child,
        httpUrl: match[1]!,
        invokeUrl: match[2]!,
        get stdout() {
          return stdout;
        },
        get stderr() {
          return stderr;
        },
        exited,
        interrupt: async () => {
          await interruptGroup(child.pid!);
          await closed;
        },
      });
    };
    child.stderr!.on('data', ready);
    void exited.then((code) => {
      clearTimeout(killer);
      reject(Object.assign(new Error(`serve exited ${code} before it was ready:\n${stderr}`), { code, stderr }));
    });
  });
}

const groupAlive = (pgid: number) => {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
};

async function interruptGroup(pgid: number, timeoutMs = 30_000): Promise<void> {
  if (!groupAlive(pgid)) return;
  process.kill(-pgid, 'SIGINT');
  const until = Date.now() + timeoutMs;
  while (groupAlive(pgid)) {
    if (Date.now() > until) {
      process.kill(-pgid, 'SIGKILL');
      throw new Error(`the serve process group ${pgid} was still running ${timeoutMs} ms after SIGINT`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
