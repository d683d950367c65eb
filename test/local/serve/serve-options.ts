/**
 * `npm run serve`'s command line and environment: ports, the local pace of the schedule and the
 * queue, hot reload, the terminal's log level, CDK context overrides, and the usage that
 * documents them.
 */
import { forEachArgument, UsageError } from '../command-line-arguments.js';
import type { TerminalLevel } from './terminal-report.js';

export interface ServeOptions {
  /** The HTTP API and console (`PORT`); 0 picks a free port. */
  port: number;
  /** The Lambda Invoke API (`LAMBDA_PORT`); 0 picks a free port. */
  lambdaPort: number;
  host: string;
  /** Wipe `.local/` state (pki, dynamodb, sqs, serve) first. */
  reset: boolean;
  /** mesh-health's local schedule; 0 turns it off (deployed: `meshHealthScheduleMinutes`). */
  meshHealthEverySeconds: number;
  /** Overrides the deployed visibility timeout (6 × grantEntitlementsTimeoutSeconds + window). */
  visibilityTimeoutSeconds?: number;
  /** Hot reload: a saved change to functions/ or shared/ makes the next invocation cold-start it. */
  watch: boolean;
  /** Lines below it are left off the terminal (the console has them all). */
  logLevel: TerminalLevel;
  /** CDK context overrides, as `cdk synth -c key=value`. */
  context: Record<string, string>;
}

export const SERVE_DEFAULTS = {
  port: 3000,
  lambdaPort: 3001,
  host: '127.0.0.1',
  reset: false,
  meshHealthEverySeconds: 60,
  watch: true,
  logLevel: 'INFO',
  context: {},
} as const satisfies Omit<ServeOptions, 'visibilityTimeoutSeconds'>;

const LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL'];

function port(name: string, raw: string): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65_535) throw new UsageError(`${name} must be a port number (0-65535), got "${raw}"`);
  return value;
}

function seconds(flag: string, raw: string, min: number): number {
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) throw new UsageError(`${flag} must be a number of seconds of at least ${min}, got "${raw}"`);
  return value;
}

/** Reads the arguments after `--` and `PORT` / `LAMBDA_PORT`. @throws {UsageError} naming the bad argument. */
export function parseServeArgs(args: readonly string[], env: NodeJS.ProcessEnv = process.env): { help: true } | { help: false; options: ServeOptions } {
  if (args.includes('--help') || args.includes('-h')) return { help: true };
  const options: ServeOptions = { ...SERVE_DEFAULTS, context: {} };
  if (env.PORT?.trim()) options.port = port('PORT', env.PORT.trim());
  if (env.LAMBDA_PORT?.trim()) options.lambdaPort = port('LAMBDA_PORT', env.LAMBDA_PORT.trim());
  forEachArgument(args, (flag, value, arg) => {
    switch (flag) {
      case '--reset':
        options.reset = true;
        break;
      case '--no-watch':
        options.watch = false;
        break;
      case '--mesh-health-every':
        options.meshHealthEverySeconds = seconds(flag, value(), 0);
        break;
      case '--visibility-timeout':
        options.visibilityTimeoutSeconds = seconds(flag, value(), 0);
        break;
      case '--log-level': {
        const level = value().toUpperCase();
        if (!LEVELS.includes(level)) throw new UsageError(`--log-level must be one of ${LEVELS.join(', ')}, got "${level}"`);
        options.logLevel = level as TerminalLevel;
        break;
      }
      case '-c':
      case '--context': {
        const pair = value();
        const at = pair.indexOf('=');
        if (at <= 0) throw new UsageError(`${flag} takes key=value, got "${pair}"`);
        options.context[pair.slice(0, at)] = pair.slice(at + 1);
        break;
      }
      default:
        throw new UsageError(`unknown argument ${arg}`);
    }
  });
  return { help: false, options };
}

export const SERVE_USAGE = `usage: npm run serve -- [--reset] [--mesh-health-every <s>] [--visibility-timeout <s>] [--no-watch] [--log-level <level>] [-c key=value]...

Runs the deployed system on this machine, no Docker and no AWS: the CDK stack's HTTP API, the
queue drained by grant-entitlements' event source mapping, mesh-health on a schedule, Lambda's
Invoke API, and a console; each function in its own local containers (warm between invocations,
cold again after you save a change). Ctrl-C stops everything it started.

  http://127.0.0.1:3000 (PORT)        POST /webhooks/payments -> payment-webhook
                                      GET /users/{userId}     -> get-user-info (IAM auth NOT emulated)
                                      /_console               the local console
  http://127.0.0.1:3001 (LAMBDA_PORT) POST /2015-03-31/functions/{name}/invocations (Lambda Invoke API)

options:
  --reset                     wipe the local state (.local/: dev PKI, dynalite data, queue) first
  --mesh-health-every <s>     mesh-health's schedule locally (default 60; 0: off); deployed every
                              meshHealthScheduleMinutes
  --visibility-timeout <s>    the queue's visibility timeout for the event source mapping
                              (default as deployed: 6 x grantEntitlementsTimeoutSeconds + window)
  --no-watch                  no hot reload
  --log-level <level>         terminal lines from this level up (default INFO; the console shows all)
  -c, --context key=value     a CDK context value (as cdk synth -c): function timeouts and memory,
                              queueBatchSize, queueMaxBatchingWindowSeconds, queueMaxReceiveCount, ...
  -h, --help                  this text

Dependencies start as for npm run invoke (see npm run invoke -- --help): a variable you set is
never changed. Logs: rendered for people on a terminal, JSON lines when piped
(PAYMENT_FUNCTIONS_LOG_FORMAT=pretty|json overrides).
`;
