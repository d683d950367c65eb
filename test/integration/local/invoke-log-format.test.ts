import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runNpm } from './run-npm.js';

const CHILD_TIMEOUT = 45_000;
let localDir: string;

beforeAll(async () => {
  localDir = await mkdtemp(join(tmpdir(), 'invoke-log-format-'));
});

afterAll(async () => {
  await rm(localDir, { recursive: true, force: true });
});

describe('npm run invoke, logs for people', () => {
  it('renders the handlers\' JSON lines as level, function, message and fields (PAYMENT_FUNCTIONS_LOG_FORMAT=pretty, as on a terminal)', async () => {
    const run = await runNpm('invoke', ['payment-webhook', '--follow'], { PAYMENT_FUNCTIONS_LOCAL_DIR: localDir, PAYMENT_FUNCTIONS_LOG_FORMAT: 'pretty' });

    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}payment-functions entitlement event applied {2}messageId=\S+ /m);
    expect(run.stderr).not.toMatch(/^\{"level"/m);
    // stdout is still exactly the one JSON document.
    expect(JSON.parse(run.stdout)).toMatchObject({ webhook: { statusCode: 200 }, grants: { batchItemFailures: [] } });
  }, CHILD_TIMEOUT);

  it('renders the WARN lines Powertools writes to stderr too', async () => {
    const unsigned = JSON.stringify({ version: '2.0', routeKey: 'POST /webhooks/payments', rawPath: '/webhooks/payments', headers: {}, requestContext: {}, body: '{}', isBase64Encoded: false });

    const run = await runNpm('invoke', ['payment-webhook', '--event', unsigned, '--no-resign'], { PAYMENT_FUNCTIONS_LOCAL_DIR: localDir, PAYMENT_FUNCTIONS_LOG_FORMAT: 'pretty' });

    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/^\d\d:\d\d:\d\d\.\d{3} WARN {2}payment-webhook payment webhook rejected {2}.*statusCode=401/m);
    expect(run.stderr).not.toMatch(/^\{/m);
    expect(JSON.parse(run.stdout)).toMatchObject({ statusCode: 401 });
  }, CHILD_TIMEOUT);
});
