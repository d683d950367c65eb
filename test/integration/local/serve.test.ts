import { createServer, type Server } from 'node:net';
import { connect } from 'node:net';
import { mkdtemp, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signStripePayload, stripeEventBody } from '../../fixtures/stripe.js';
import { freshStripeEventId } from '../../local/default-events.js';
import { LOCAL_SIGNING_SECRET } from '../../local/webhook-delivery.js';
import { PROJECT_ROOT } from './run-npm.js';
import { startServeProcess, type ServeProcess } from './serve-process.js';

// Child processes on a 2-core machine: npm, tsx, the dependencies, then each function's cold start.
const CHILD_TIMEOUT = 90_000;

let localDir: string;
let serve: ServeProcess;
let lambda: LambdaClient;

beforeAll(async () => {
  localDir = await mkdtemp(join(tmpdir(), 'serve-cli-'));
  serve = await startServeProcess(['--mesh-health-every', '0'], { PAYMENT_FUNCTIONS_LOCAL_DIR: localDir });
  lambda = new LambdaClient({ endpoint: serve.invokeUrl, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
}, CHILD_TIMEOUT);

afterAll(async () => {
  lambda?.destroy();
  await serve?.interrupt();
  await rm(localDir, { recursive: true, force: true });
}, CHILD_TIMEOUT);

/** POSTs Stripe's bytes as Stripe does, signed now unless `signature` is given. */
function deliver(body: string, signature = signStripePayload(body, LOCAL_SIGNING_SECRET)) {
  return fetch(`${serve.httpUrl}/webhooks/payments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json; charset=utf-8', 'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)', 'stripe-signature': signature },
    body,
  });
}

async function entitlementsOf(userId: string): Promise<{ name: string; status: string }[]> {
  const response = await fetch(`${serve.httpUrl}/users/${userId}`);
  if (response.status !== 200) return [];
  return ((await response.json()) as { entitlements: { name: string; status: string }[] }).entitlements;
}

describe('npm run serve', () => {
  it('turns a signed webhook into a grant for the whole family, read back over GET /users/{userId}', async () => {
    // Act
    const answer = await deliver(stripeEventBody({ id: freshStripeEventId(), type: 'checkout.session.completed', userId: 'user-1' }));

    // Assess: the webhook answers once queued; the mapping drains the queue on its own.
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ received: true });
    expect(answer.headers.get('apigw-requestid')).toBeTruthy();
    await expect.poll(() => entitlementsOf('user-3'), { timeout: 60_000, interval: 500 }).toEqual([expect.objectContaining({ name: 'premium_features', status: 'granted' })]);
    const user = await fetch(`${serve.httpUrl}/users/user-3`);
    expect(user.headers.get('content-type')).toBe('application/json');
    expect(await user.json()).toMatchObject({ id: 'user-3', familyId: 'family-1' });
  }, CHILD_TIMEOUT);

  it('answers a signature that does not match the bytes with 401, as payment-webhook decides', async () => {
    const body = stripeEventBody({ id: freshStripeEventId(), type: 'checkout.session.completed', userId: 'user-1' });

    const answer = await deliver(body, signStripePayload(`${body} `, LOCAL_SIGNING_SECRET));

    expect(answer.status).toBe(401);
  }, CHILD_TIMEOUT);

  it('answers an unknown route with API Gateway\'s 404 and says so on its console', async () => {
    const answer = await fetch(`${serve.httpUrl}/charges`, { method: 'POST' });

    expect(answer.status).toBe(404);
    expect(await answer.json()).toEqual({ message: 'Not Found' });
    expect(serve.stderr).toContain('http api: POST /charges 404: no route');
  }, CHILD_TIMEOUT);

  it('answers a request that is not HTTP with 400 and keeps serving', async () => {
    const raw = await new Promise<string>((resolve, reject) => {
      const url = new URL(serve.httpUrl);
      const socket = connect(Number(url.port), url.hostname, () => socket.write('NOT HTTP AT ALL\r\n\r\n'));
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });

    expect(raw).toMatch(/^HTTP\/1\.1 400 Bad Request/);
    expect(raw).toContain('{"message":"Bad Request"}');
    expect((await fetch(`${serve.httpUrl}/users/user-1`)).status).toBe(200);
  }, CHILD_TIMEOUT);

  it('invokes get-user-info by name through the SDK\'s LambdaClient', async () => {
    const answer = await lambda.send(new InvokeCommand({ FunctionName: 'get-user-info', Payload: JSON.stringify({ userId: 'user-2' }) }));

    expect(answer.StatusCode).toBe(200);
    expect(answer.FunctionError).toBeUndefined();
    expect(JSON.parse(Buffer.from(answer.Payload!).toString())).toMatchObject({ id: 'user-2', name: 'Charles Babbage', familyId: 'family-1' });
  }, CHILD_TIMEOUT);

  it('reports a handler\'s typed error through the Invoke API as Lambda does, and keeps serving', async () => {
    const answer = await lambda.send(new InvokeCommand({ FunctionName: 'get-user-info', Payload: JSON.stringify({ userId: 42 }) }));

    expect(answer.FunctionError).toBe('Unhandled');
    expect(JSON.parse(Buffer.from(answer.Payload!).toString())).toMatchObject({
      errorType: 'UserRequestError',
      errorMessage: 'expected {"userId": "<id>"}, got userId 42',
    });
    await expect(lambda.send(new InvokeCommand({ FunctionName: 'charge-card' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    expect((await fetch(`${serve.httpUrl}/users/user-1`)).status).toBe(200);
  }, CHILD_TIMEOUT);

  it('cold-starts a function after its code is saved (hot reload), without a restart', async () => {
    // Prepare: a warm get-user-info container.
    await lambda.send(new InvokeCommand({ FunctionName: 'get-user-info', Payload: JSON.stringify({ userId: 'user-1' }) }));
    const invocationsOf = () =>
      serve.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { serve?: string; functionName?: string; cold?: boolean; requestId?: string })
        .filter((line) => line.serve === 'invocation' && line.functionName === 'get-user-info');
    const warm = await lambda.send(new InvokeCommand({ FunctionName: 'get-user-info', Payload: JSON.stringify({ userId: 'user-1' }) }));
    await expect.poll(() => invocationsOf().at(-1)?.cold, { timeout: 10_000 }).toBe(false);

    // Act: "save" the handler's logic file (its content unchanged: only the save is the point).
    const file = join(PROJECT_ROOT, 'functions', 'get-user-info', 'get-user-info.ts');
    const now = new Date();
    await utimes(file, now, now);
    await expect.poll(() => serve.stderr, { timeout: 10_000 }).toMatch(/code changed \(functions\/get-user-info\/get-user-info\.ts\): the next invocation of every function cold-starts the new code/);
    const reloaded = await lambda.send(new InvokeCommand({ FunctionName: 'get-user-info', Payload: JSON.stringify({ userId: 'user-1' }) }));

    // Assess
    expect([warm.StatusCode, reloaded.StatusCode]).toEqual([200, 200]);
    await expect.poll(() => invocationsOf().at(-1)?.cold, { timeout: 10_000 }).toBe(true);
  }, CHILD_TIMEOUT);

  it('writes the functions\' logs and its invocation reports as JSON lines when piped', () => {
    const lines = serve.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);

    expect(lines).toContainEqual(expect.objectContaining({ serve: 'invocation', functionName: 'payment-webhook', trigger: 'http', cold: true, summary: '200' }));
    expect(lines).toContainEqual(expect.objectContaining({ serve: 'invocation', functionName: 'grant-entitlements', trigger: 'sqs', summary: 'batchItemFailures: 0' }));
    expect(lines).toContainEqual(expect.objectContaining({ message: 'entitlement event applied', service: 'grant-entitlements' }));
  });

  it('refuses a port in use, naming it and the variable to change, and exits 2', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const starting = startServeProcess([], { PAYMENT_FUNCTIONS_LOCAL_DIR: join(localDir, 'second'), PORT: String(port) });

      await expect(starting).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining(`port ${port} on 127.0.0.1 is in use (EADDRINUSE): stop what listens there, or set PORT to another port`) });
    } finally {
      blocker.close();
    }
  }, CHILD_TIMEOUT);

  it('stops everything it started on Ctrl-C, and starts from empty with --reset', async () => {
    // Act: resolves once no process of serve's group is left.
    await serve.interrupt();

    // Assess: it stopped in order, and both ports are closed.
    expect(serve.stderr).toContain('SIGINT: stopping the containers, servers and local dependencies');
    expect(serve.stderr).toMatch(/\{"serve":"stopped"\}/);
    await expect(fetch(`${serve.httpUrl}/users/user-1`)).rejects.toThrow();
    await expect(fetch(serve.invokeUrl)).rejects.toThrow();

    // The state persisted under the local directory until --reset wipes it.
    serve = await startServeProcess(['--reset', '--mesh-health-every', '0', '--no-watch'], { PAYMENT_FUNCTIONS_LOCAL_DIR: localDir });
    expect(serve.stderr).toContain(`reset: wiped ${join(localDir, 'pki')}`);
    expect(await entitlementsOf('user-3')).toEqual([]);
  }, CHILD_TIMEOUT);
});
