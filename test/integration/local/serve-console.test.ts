// The local console in a real headless browser: Debian's chromium driven by playwright-core,
// against `npm run serve` in a child process. `.ci/run` installs chromium where it is missing.
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signStripePayload, stripeEventBody } from '../../fixtures/stripe.js';
import { freshStripeEventId } from '../../local/default-events.js';
import { LOCAL_SIGNING_SECRET } from '../../local/webhook-delivery.js';
import { startServeProcess, type ServeProcess } from './serve-process.js';

const CHROMIUM = '/usr/bin/chromium';
/** Without the background-networking flags Chromium keeps calling Google's services. */
const CHROMIUM_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const CHILD_TIMEOUT = 120_000;
/** Where the screenshot after the webhook is kept for people to look at. */
export const CONSOLE_SCREENSHOT = join(tmpdir(), 'payment-functions-console-after-webhook.png');

let localDir: string;
let serve: ServeProcess;
let browser: BrowserContext;
let page: Page;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
  localDir = await mkdtemp(join(tmpdir(), 'serve-console-'));
  [serve, browser] = await Promise.all([
    startServeProcess(['--mesh-health-every', '2', '--visibility-timeout', '3', '-c', 'queueMaxReceiveCount=2', '-c', 'queueBackoffEnabled=false', '--no-watch'], { PAYMENT_FUNCTIONS_LOCAL_DIR: localDir }),
    chromium.launchPersistentContext(join(localDir, 'chromium-profile'), { executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS, viewport: { width: 1400, height: 1100 } }),
  ]);
  page = browser.pages()[0] ?? (await browser.newPage());
}, CHILD_TIMEOUT);

afterAll(async () => {
  await browser?.close();
  await serve?.interrupt();
  await rm(localDir, { recursive: true, force: true });
}, CHILD_TIMEOUT);

const text = (selector: string) => page.locator(selector).innerText();

describe('the local console at /_console, in headless chromium', () => {
  it('shows the state after a webhook live: the invocations, cold then warm, and the family\'s grants', async () => {
    // Prepare
    await page.goto(`${serve.httpUrl}/_console`);
    await expect.poll(() => text('#live'), { timeout: 15_000 }).toBe('● live');
    const body = stripeEventBody({ id: freshStripeEventId(), type: 'checkout.session.completed', userId: 'user-1' });

    // Act: the webhook, as Stripe would send it; the page is not reloaded.
    const answer = await fetch(`${serve.httpUrl}/webhooks/payments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': signStripePayload(body, LOCAL_SIGNING_SECRET) },
      body,
    });
    expect(answer.status).toBe(200);

    // Assess
    const grants = page.locator('#entitlements tr.entitlement');
    await expect.poll(() => grants.count(), { timeout: 60_000 }).toBe(3);
    expect(await text('#entitlements')).toMatch(/family family-1/);
    // The table's Stripe link items are listed as links, not as entitlements.
    expect(await text('#stripe-links')).toMatch(/^Stripe links: .*cus_\w+ → user-1/);
    for (const user of ['user-1', 'user-2', 'user-3']) {
      expect(await page.locator(`#entitlements tr.entitlement[data-user-id="${user}"]`).innerText()).toMatch(new RegExp(`${user}.*premium_features\\s+granted`, 's'));
    }
    await expect.poll(() => text('#invocations'), { timeout: 60_000 }).toMatch(/grant-entitlements\s+sqs 1 record\(s\) from entitlements\s+cold init [\d.]+ m?s\s+[\d.]+ m?s\s+batchItemFailures: 0/);
    expect(await text('#invocations')).toMatch(/payment-webhook\s+http POST \/webhooks\/payments\s+cold init [\d.]+ m?s\s+[\d.]+ m?s\s+200/);

    const shot = await page.screenshot({ path: CONSOLE_SCREENSHOT, fullPage: true });
    // A PNG of the whole page, larger than an empty page's (each section drawn).
    expect(shot.subarray(1, 4).toString()).toBe('PNG');
    expect(shot.length).toBeGreaterThan(30_000);
  }, CHILD_TIMEOUT);

  it('shows an invocation\'s own log lines, rendered for people, when its row is clicked', async () => {
    await page.locator('#invocations tr.invocation', { hasText: 'grant-entitlements' }).first().click();

    const logs = page.locator('#invocations .logs');
    await expect.poll(() => logs.innerText(), { timeout: 10_000 }).toMatch(/INFO {2}entitlement event applied {2}messageId=/);
  }, CHILD_TIMEOUT);

  it('shows the mesh: calls with the peer SPIFFE ID, the breaker per service, the SVID\'s expiry', async () => {
    await expect.poll(() => text('#svid'), { timeout: 30_000 }).toMatch(/spiffe:\/\/jia\.app\/payment-functions expires \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);

    expect(await text('#breakers')).toContain('contact-service: closed');
    expect(await page.locator('#mesh tr.mesh-call').first().innerText()).toMatch(/contact-service\/\w+\s+spiffe:\/\/jia\.app\/contact-service\s+OK/);
  }, CHILD_TIMEOUT);

  it('lists a poisoned record in the dead-letter queue with its reason, and redrives it', async () => {
    // Prepare: a record no function can read, straight onto the local queue.
    const queueUrl = /sqs: local queue (\S+) \(dead letters/.exec(serve.stderr)![1]!;
    const sqs = new SQSClient({ endpoint: new URL(queueUrl).origin, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    const { MessageId } = await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'this is not json' }));
    sqs.destroy();

    // Act: two receives (queueMaxReceiveCount=2), three seconds apart, then the dead-letter queue.
    const deadLetter = page.locator('#queue tr.dead-letter', { hasText: MessageId! });
    await expect.poll(() => deadLetter.count(), { timeout: 60_000 }).toBe(1);

    // Assess
    expect(await deadLetter.innerText()).toContain(`GRANT_RECORD_NOT_JSON: record ${MessageId} body is not JSON`);
    const redrove = page.waitForResponse((r) => r.url().endsWith('/_console/redrive'));
    await page.locator('#redrive').click();
    expect(await (await redrove).json()).toEqual({ moved: 1 });
    await writeFile(join(localDir, 'done'), '');
  }, CHILD_TIMEOUT);
});
