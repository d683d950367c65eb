/**
 * `npm run -s invoke -- <function> [options]`: runs one function's real handler in-process, with
 * its dependencies started on demand (see `local-dependencies.ts`), and prints the handler's
 * return value as the one JSON document on stdout. `--help` documents the rest (`invoke-options.ts`).
 *
 * Powertools writes INFO logs and EMF metrics to `process.stdout` through its own `Console`, so
 * stdout is routed to stderr for the whole run, and the result is written to the real stdout.
 * This entry point only reads the command line; the run itself (`invoke-session.ts`) is imported
 * after, so `--help` and usage errors answer without loading the mesh, the SDK or the handlers.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { INVOKE_USAGE, parseInvokeArgs, SHORT_USAGE, UsageError, type InvokeOptions } from './invoke-options.js';
import { logFormatFor, prettyLineWriter } from './log-rendering.js';

const writeStdout = routeStdoutToStderr();

/**
 * Sends everything written to stdout to stderr, the handlers' JSON log lines rendered for people
 * when stderr is a terminal (`log-rendering.ts`); returns a writer for the real stdout.
 */
function routeStdoutToStderr(): (text: string) => Promise<void> {
  const realWrite = process.stdout.write.bind(process.stdout);
  const toStderr = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  if (logFormatFor(process.stderr) === 'pretty') {
    // Powertools writes INFO and below to stdout, WARN and above to stderr: both are rendered.
    const render = prettyLineWriter((text) => toStderr(text), { colour: process.stderr.isTTY === true });
    const rendered = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      render(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      done?.();
      return true;
    }) as typeof process.stdout.write;
    process.stdout.write = rendered;
    process.stderr.write = rendered;
  } else {
    process.stdout.write = toStderr;
  }
  return (text) => new Promise((done) => realWrite(text, () => done()));
}

/** Reads `--event`: a file (relative to where npm was run), inline JSON, or `-` for stdin. */
async function readEvent(spec: string): Promise<unknown> {
  let text: string;
  let source = spec;
  if (spec === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    text = Buffer.concat(chunks).toString('utf8');
    source = 'stdin';
  } else if (/^\s*[{[]/.test(spec)) {
    text = spec;
    source = 'the inline event';
  } else {
    const path = isAbsolute(spec) ? spec : resolve(process.env.INIT_CWD ?? process.cwd(), spec);
    text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new UsageError(`--event ${spec}: cannot read ${path} (${error.code ?? error.message})`);
    });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--event: ${source} is not JSON (${(error as Error).message})`);
  }
}

async function main(argv: string[]): Promise<number> {
  let options: InvokeOptions;
  let given: unknown;
  try {
    const parsed = parseInvokeArgs(argv);
    if (parsed.help) {
      await writeStdout(INVOKE_USAGE);
      return 0;
    }
    options = parsed.options;
    if (options.event !== undefined) given = await readEvent(options.event);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`invoke: ${error.message}\n${SHORT_USAGE}`);
    return 2;
  }
  const { runInvoke } = await import('./invoke-session.js');
  return runInvoke(options, given, writeStdout);
}

// Exits explicitly: a handler's module-scope channels to a contact-service the user runs would
// otherwise keep the process alive, as they keep a warm Lambda container's.
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`invoke: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}\n`);
    process.exit(1);
  },
);
