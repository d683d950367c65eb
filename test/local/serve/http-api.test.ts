import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FunctionPool } from './function-pool.js';
import { serveHttpRequest } from './http-api.js';
import { InvocationHistory } from './invocation-history.js';
import { FailureReasons } from './failure-reasons.js';

const COUNTER = new URL('../../fixtures/handlers/counter-handler.ts', import.meta.url).href;

let server: Server;
let pool: FunctionPool;
let history: InvocationHistory;
let base: string;
const reported: string[] = [];

beforeAll(async () => {
  history = new InvocationHistory();
  // The counter stands in for payment-webhook behind the route.
  pool = new FunctionPool({ name: 'payment-webhook', modulePath: COUNTER, timeoutSeconds: 1, memoryMb: 128, env: { ...process.env }, region: 'us-east-1' }, history);
  const pools = new Map([['payment-webhook', pool]]);
  const sources = { history, pools, reasons: new FailureReasons('/nonexistent/reasons.json'), maxReceiveCount: 5, startedAt: new Date().toISOString(), meshHealthEverySeconds: 0 };
  server = createServer((request, response) => void serveHttpRequest(request, response, { pools, console: sources, report: (line) => reported.push(line) }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await pool.close();
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
});

const post = (body: object) => fetch(`${base}/webhooks/payments`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('the local HTTP API', () => {
  it('answers with the function\'s result, inferred as 200 JSON when it has no statusCode', async () => {
    const answer = await post({ echo: 'hi' });

    expect(answer.status).toBe(200);
    expect(answer.headers.get('apigw-requestid')).toMatch(/^[\w+/=]+$/);
    expect(await answer.json()).toMatchObject({ echo: 'hi', version: 1 });
  });

  it('answers a handler that throws with API Gateway\'s 500, and keeps serving', async () => {
    const answer = await post({ fail: true });

    expect(answer.status).toBe(500);
    expect(await answer.json()).toEqual({ message: 'Internal Server Error' });
    expect((await post({})).status).toBe(200);
  });

  it('answers a handler that times out with 500 too (a Lambda error), and the next request cold-starts', async () => {
    const answer = await post({ sleepMs: 3000 });
    const next = await post({});

    expect(answer.status).toBe(500);
    expect(history.recent()[1]).toMatchObject({ state: 'failed', error: { errorType: 'Sandbox.Timedout' } });
    expect(await next.json()).toMatchObject({ invocations: 1 });
    expect(history.recent()[0]!.cold).toBe(true);
  });

  it('answers a route that does not exist with 404, reporting it', async () => {
    const answer = await fetch(`${base}/webhooks/payments`);

    expect(answer.status).toBe(404);
    expect(await answer.json()).toEqual({ message: 'Not Found' });
    expect(reported.at(-1)).toMatch(/^http api: GET \/webhooks\/payments 404: no route/);
  });

  it('serves the console page and its state as JSON', async () => {
    const page = await fetch(`${base}/_console`);
    const state = (await (await fetch(`${base}/_console/state`)).json()) as { invocations: { functionName: string }[]; functions: { name: string }[] };

    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toContain('<title>payment-functions · local console</title>');
    expect(state.functions.map((f) => f.name)).toEqual(['payment-webhook']);
    expect(state.invocations.length).toBeGreaterThan(0);
  });
});
