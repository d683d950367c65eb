/**
 * `npm run -s sign-event -- <stripe-event.json|-> [--secret whsec_…] [--timestamp now|<unix s>]`:
 * prints the API Gateway v2 event that delivers the Stripe event to payment-webhook, with a
 * `Stripe-Signature` computed now (or at `--timestamp`) over the file's exact bytes. Given an API
 * Gateway event instead, prints it with its signature computed again.
 *
 * The secret is `--secret`, else the first of `WEBHOOK_SIGNING_SECRET`, else the local dev secret
 * (what `npm run invoke` configures payment-webhook with). Signatures expire after the webhook's
 * tolerance (300 s): `npm run invoke` re-signs stale ones itself.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { nowSeconds } from '../fixtures/stripe.js';
import { isApiGatewayEvent, isStripeEvent, LOCAL_SIGNING_SECRET, resignEvent, signedDelivery, signingSecretFrom } from './webhook-delivery.js';

const USAGE = `usage: npm run -s sign-event -- <stripe-event.json|-> [--secret whsec_…] [--timestamp now|<unix seconds>]

Prints an API Gateway v2 event (POST /webhooks/payments) whose body is the file's exact bytes and
whose Stripe-Signature is computed now. Given an API Gateway event, computes its signature again.
  --secret <whsec_…>      default: WEBHOOK_SIGNING_SECRET, else the local dev secret npm run invoke uses
  --timestamp <now|unix>  the signature's t (default now; signatures older than 300 s are refused)
`;

class UsageError extends Error {}

function parseArgs(args: string[]): { file: string; secret: string; t: number } {
  let file: string | undefined;
  let secret: string | undefined;
  let t = nowSeconds();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const value = () => args[++i] ?? fail(`${arg} needs a value`);
    if (arg === '--secret') secret = value();
    else if (arg === '--timestamp') {
      const raw = value();
      t = raw === 'now' ? nowSeconds() : Number(raw);
      if (!Number.isSafeInteger(t) || t < 0) fail(`--timestamp must be "now" or whole seconds since the epoch, got "${raw}"`);
    } else if (arg.startsWith('-') && arg !== '-') fail(`unknown option ${arg}`);
    else if (file === undefined) file = arg;
    else fail(`unexpected argument "${arg}"`);
  }
  if (file === undefined) fail('which stripe event? name its file');
  const envSecret = process.env.WEBHOOK_SIGNING_SECRET?.trim();
  return { file: file!, secret: signingSecretFrom(secret ?? (envSecret || LOCAL_SIGNING_SECRET)), t };
}

function fail(message: string): never {
  throw new UsageError(message);
}

async function readInput(file: string): Promise<string> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }
  return readFile(isAbsolute(file) ? file : resolve(process.env.INIT_CWD ?? process.cwd(), file), 'utf8');
}

async function main(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  try {
    const { file, secret, t } = parseArgs(args);
    // Trailing whitespace is an editor's, not Stripe's: the body is the JSON text itself.
    const text = (await readInput(file)).trimEnd();
    const json: unknown = JSON.parse(text);
    let event: unknown;
    if (isApiGatewayEvent(json)) event = resignEvent(json, secret, t);
    else if (isStripeEvent(json)) event = signedDelivery(text, secret, t);
    else fail(`${file} is neither a stripe event ({"object": "event", "type": …}) nor an api gateway event`);
    process.stdout.write(`${JSON.stringify(event, null, 2)}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`sign-event: ${(error as Error).message}\n`);
    if (error instanceof UsageError) process.stderr.write(USAGE);
    return error instanceof UsageError ? 2 : 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
