/**
 * Runs an npm script of the project as a user would, in a child process: `npm run --silent
 * <script> -- <args>` from the project root, with `node_modules/.bin` first on `PATH` and the
 * local state kept in a directory of the test's own (`PAYMENT_FUNCTIONS_LOCAL_DIR`).
 */
import { spawn } from 'node:child_process';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Settings the CLIs react to: a developer's shell must not change what a test sees. */
const SETTINGS = /^(AWS_|JWT_SVID_|SERVICE_MESH_|EXTERNAL_SERVICES_|SVID_|MTLS_|CIRCUIT_BREAKER_|WEBHOOK_|POWERTOOLS_|QUEUE_URL$|ENTITLEMENTS_TABLE$|CONFIG_FILE$|PAYMENT_FUNCTIONS_LOCAL_DIR$|VITEST)/;

export interface NpmRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs the script; resolves when the child exits (killed after `timeoutMs`, then `code` is null). */
export function runNpm(script: string, args: string[], env: Record<string, string>, timeoutMs = 45_000): Promise<NpmRun> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !SETTINGS.test(name)));
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', script, '--', ...args], {
      cwd: PROJECT_ROOT,
      env: { ...inherited, PATH: `${join(PROJECT_ROOT, 'node_modules', '.bin')}${delimiter}${process.env.PATH ?? ''}`, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr, ms: performance.now() - started });
    });
  });
}
