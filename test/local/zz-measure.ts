import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signStripePayload, stripeEventBody } from '../fixtures/stripe.js';
import { freshStripeEventId } from './default-events.js';
import { LOCAL_SIGNING_SECRET } from './webhook-delivery.js';

const dir = mkdtempSync(join(tmpdir(), 'measure-'));
const reset = process.argv[2] === 'reuse' ? '/tmp/measure-fixed' : dir;
const t0 = performance.now();
const child = spawn('npm', ['run', '-s', 'serve', '--', '--mesh-health-every', '0', '--no-watch', ...(process.env.W0 ? ['-c', 'queueMaxBatchingWindowSeconds=0'] : [])], { env: { ...process.env, PORT: '0', LAMBDA_PORT: '0', PAYMENT_FUNCTIONS_LOCAL_DIR: reset }, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
let err = '';
const ready = await new Promise<string>((resolve) => child.stderr.on('data', (d: Buffer) => { err += d; const m = /ready in ([\d.]+) s: http api (\S+)/.exec(err); if (m) resolve(m[2]!); }));
console.log(`ready: ${((performance.now() - t0) / 1000).toFixed(2)} s from spawn (serve's own clock: ${/ready in ([\d.]+) s/.exec(err)![1]} s)`);
async function grantOnce(label: string) {
  const id = freshStripeEventId();
  const body = stripeEventBody({ id, type: 'checkout.session.completed', userId: 'user-1' });
  const start = performance.now();
  const r = await fetch(`${ready}/webhooks/payments`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': signStripePayload(body, LOCAL_SIGNING_SECRET) }, body });
  const webhookMs = performance.now() - start;
  for (;;) {
    const state = (await (await fetch(`${ready}/_console/state`)).json()) as { invocations: { functionName: string; state: string; logs: { line: string }[] }[] };
    const done = state.invocations.find((i) => i.functionName === 'grant-entitlements' && i.state === 'succeeded' && i.logs.some((l) => l.line.includes(id)));
    if (done) break;
    await new Promise((res) => setTimeout(res, 20));
  }
  console.log(`${label}: webhook ${r.status} in ${webhookMs.toFixed(0)} ms; grant applied ${(performance.now() - start).toFixed(0)} ms after the POST`);
}
await grantOnce('cold');
for (let i = 1; i <= 4; i++) await grantOnce(`warm ${i}`);
process.kill(-child.pid!, 'SIGINT');
