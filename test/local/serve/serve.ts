/**
 * `npm run serve`: the deployed system on this machine (see `serve-options.ts` for the command
 * line). Runs until Ctrl-C (SIGINT) or SIGTERM, then stops everything it started and exits 0;
 * exits 2 when the settings cannot work (a port in use, a bad option), naming what to change.
 */
import { logFormatFor } from '../log-rendering.js';
import { UsageError } from '../invoke-options.js';
import { parseServeArgs, SERVE_USAGE } from './serve-options.js';

const startedAt = performance.now();
const format = logFormatFor(process.stdout);
const say = (line: string) =>
  process.stderr.write(format === 'json' ? `${JSON.stringify({ serve: line })}\n` : `\u001b[90m[serve]\u001b[0m ${line}\n`);

async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseServeArgs>;
  try {
    parsed = parseServeArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`serve: ${error.message}\n${SERVE_USAGE}`);
    return 2;
  }
  if (parsed.help) {
    process.stdout.write(SERVE_USAGE);
    return 0;
  }
  const { startServe } = await import('./serve-session.js');
  const { LocalSetupError } = await import('../local-dependencies.js');
  let handle: Awaited<ReturnType<typeof startServe>>;
  try {
    handle = await startServe(parsed.options, { say, write: (text) => process.stdout.write(text), format });
  } catch (error) {
    process.stderr.write(`serve: ${error instanceof LocalSetupError ? error.message : `cannot start: ${(error as Error).message}`}\n`);
    return error instanceof LocalSetupError ? 2 : 1;
  }
  say(`ready in ${((performance.now() - startedAt) / 1000).toFixed(1)} s: http api ${handle.httpUrl}  invoke api ${handle.invokeUrl}  console ${handle.httpUrl}/_console  (Ctrl-C stops)`);
  return new Promise((resolve) => {
    let stoppingSince: number | undefined;
    const stop = (signal: string) => {
      // Ctrl-C reaches serve twice (from the terminal, and relayed by tsx): a repeat within a
      // second is that echo; a later one is a user who does not want to wait.
      if (stoppingSince !== undefined) {
        if (performance.now() - stoppingSince > 1000) {
          say(`${signal} again: exiting without waiting`);
          process.exit(130);
        }
        return;
      }
      stoppingSince = performance.now();
      say(`${signal}: stopping the containers, servers and local dependencies`);
      handle.close().then(
        () => {
          say('stopped');
          resolve(0);
        },
        (error: unknown) => {
          say(`stopping failed: ${(error as Error).message}`);
          resolve(1);
        },
      );
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`serve: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}\n`);
    process.exit(1);
  },
);
