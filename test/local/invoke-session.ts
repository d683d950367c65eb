/**
 * One run of the invoke CLI once its command line is read: start the dependencies the function
 * needs, build or prepare the event, invoke the handler (and grant-entitlements after it with
 * `--follow`), write the one JSON document, and release everything.
 */
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SQSEvent } from 'aws-lambda';
import { checkoutCompletedDelivery, scheduledEvent, userInfoRequest } from './default-events.js';
import { errorLine, errorPayload, invoke, loadHandler, type Outcome } from './function-runner.js';
import { UsageError, type FunctionName, type InvokeOptions } from './invoke-options.js';
import { LocalSetupError, startLocalDependencies, type DependencyNeeds, type LocalDependencies } from './local-dependencies.js';
import { prepareWebhookEvent, signingSecretFrom } from './webhook-delivery.js';

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const STATE_DIRECTORIES = ['pki', 'dynamodb', 'sqs'];

type WriteStdout = (text: string) => Promise<void>;

const log = (line: string) => process.stderr.write(`[invoke] ${line}\n`);
/** A line that must not be missed among the progress lines: its own block, bold yellow on a terminal. */
const warn = (line: string) =>
  process.stderr.write(process.stderr.isTTY ? `\n\u001b[1;33m[invoke] WARNING: ${line}\u001b[0m\n\n` : `[invoke] WARNING: ${line}\n`);

function needsOf(options: InvokeOptions): DependencyNeeds {
  const mesh = options.functionName !== 'payment-webhook' || options.follow;
  return {
    webhook: options.functionName === 'payment-webhook',
    queue: options.functionName === 'payment-webhook' || (options.functionName === 'grant-entitlements' && options.event === undefined),
    mesh,
    table: mesh && options.functionName !== 'mesh-health',
  };
}

/** The payment-webhook event: the given one made deliverable now, or a fresh signed checkout. */
function webhookEvent(given: unknown, options: InvokeOptions): unknown {
  const literal = process.env.WEBHOOK_SIGNING_SECRET?.trim();
  let secret: string | undefined;
  try {
    secret = literal ? signingSecretFrom(literal) : undefined;
  } catch {
    // Malformed: nothing to sign with; payment-webhook's own init reports it with its code.
    secret = undefined;
  }
  const tolerance = Number(process.env.WEBHOOK_TOLERANCE_SECONDS ?? '') || undefined;
  try {
    if (given === undefined) {
      if (secret === undefined) {
        throw new Error('cannot sign the default event: set WEBHOOK_SIGNING_SECRET to a valid stripe signing secret, or pass a signed --event with --no-resign');
      }
      return checkoutCompletedDelivery(secret);
    }
    const prepared = prepareWebhookEvent(given, { secret, resign: options.resign, ...(tolerance ? { toleranceSeconds: tolerance } : {}) });
    if (prepared.note) log(prepared.note);
    if (prepared.warning) warn(prepared.warning);
    return prepared.event;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

async function run(name: FunctionName, event: unknown, options: InvokeOptions): Promise<Outcome> {
  let outcome: Outcome;
  try {
    const handler = await loadHandler(name);
    log(`${name}: invoking (timeout ${options.timeoutSeconds} s)`);
    outcome = await invoke(name, handler, event, options.timeoutSeconds * 1000);
  } catch (error) {
    // An init failure (a bad setting) fails the invocation, as Lambda reports it.
    outcome = { kind: 'threw', error };
  }
  if (outcome.kind === 'threw') process.stderr.write(`${errorLine(outcome.error)}\n`);
  return outcome;
}

/** grant-entitlements on a batch drained from the queue; the records it did not fail are then deleted. */
async function runGrantsOnQueue(deps: LocalDependencies, options: InvokeOptions): Promise<Outcome> {
  const batches = deps.batches!;
  const event: SQSEvent = await batches.receive();
  log(`grant-entitlements: ${event.Records.length} record(s) from ${batches.description}`);
  const outcome = await run('grant-entitlements', event, options);
  if (outcome.kind === 'returned') await batches.settle(event, outcome.result);
  return outcome;
}

const documentOf = (outcome: Outcome) => (outcome.kind === 'returned' ? (outcome.result ?? null) : errorPayload(outcome.error));

async function invokeWith(deps: LocalDependencies, options: InvokeOptions, given: unknown, writeStdout: WriteStdout): Promise<number> {
  const name = options.functionName;
  let outcome: Outcome;
  switch (name) {
    case 'payment-webhook':
      outcome = await run(name, webhookEvent(given, options), options);
      break;
    case 'grant-entitlements':
      outcome = given === undefined ? await runGrantsOnQueue(deps, options) : await run(name, given, options);
      break;
    case 'get-user-info':
      outcome = await run(name, given ?? userInfoRequest(), options);
      break;
    case 'mesh-health':
      outcome = await run(name, given ?? scheduledEvent(process.env.AWS_REGION ?? 'us-east-1'), options);
      break;
  }
  if (!options.follow) {
    await writeStdout(`${JSON.stringify(documentOf(outcome), null, 2)}\n`);
    return outcome.kind === 'returned' ? 0 : 1;
  }
  const grants = outcome.kind === 'returned' ? await runGrantsOnQueue(deps, options) : undefined;
  await writeStdout(`${JSON.stringify({ webhook: documentOf(outcome), grants: grants ? documentOf(grants) : null }, null, 2)}\n`);
  return outcome.kind === 'returned' && grants?.kind === 'returned' ? 0 : 1;
}

/**
 * Runs the invocation `options` describe with the event `given` (undefined: the default event);
 * resolves with the exit status: 0 the handler returned, 1 it threw or a dependency failed, 2 the
 * settings cannot work.
 */
export async function runInvoke(options: InvokeOptions, given: unknown, writeStdout: WriteStdout): Promise<number> {
  const localDir = resolve(process.env.PAYMENT_FUNCTIONS_LOCAL_DIR || join(PROJECT_ROOT, '.local'));
  if (options.reset) {
    await Promise.all(STATE_DIRECTORIES.map((d) => rm(join(localDir, d), { recursive: true, force: true })));
    log(`reset: wiped ${STATE_DIRECTORIES.map((d) => join(localDir, d)).join(', ')}`);
  }
  // One logger serves every handler of the process: with --follow it is not one function's.
  process.env.POWERTOOLS_SERVICE_NAME ||= options.follow ? 'payment-functions' : options.functionName;

  let deps: LocalDependencies;
  try {
    deps = await startLocalDependencies({ env: process.env, localDir, needs: needsOf(options), log });
  } catch (error) {
    process.stderr.write(`invoke: ${error instanceof LocalSetupError ? error.message : `cannot start the local dependencies: ${errorLine(error)}`}\n`);
    return error instanceof LocalSetupError ? 2 : 1;
  }
  if (Object.keys(deps.added).length) log(`set for this run: ${Object.keys(deps.added).join(', ')}`);
  try {
    return await invokeWith(deps, options, given, writeStdout);
  } catch (error) {
    process.stderr.write(`invoke: ${error instanceof UsageError ? error.message : errorLine(error)}\n`);
    return error instanceof UsageError ? 2 : 1;
  } finally {
    await deps.close();
  }
}
