import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JwtSvidValidator } from '../../../shared/spiffe/jwt-svid.js';
import { JwtBundle } from '../../../shared/spiffe/jwt-bundle.js';
import { parseTrustDomain } from '../../../shared/spiffe/trust-domain.js';
import { runNpm } from './run-npm.js';

// Child processes on a 2-core machine: npm, tsx, then the handler's own start.
const CHILD_TIMEOUT = 45_000;
let localDir: string;

beforeAll(async () => {
  localDir = await mkdtemp(join(tmpdir(), 'jwt-svid-cli-'));
});
afterAll(async () => {
  await rm(localDir, { recursive: true, force: true });
});

describe('npm run mint-jwt-svid', () => {
  it('prints one JWT-SVID for the subject and audience, valid against the bundle file it names', async () => {
    const run = await runNpm('mint-jwt-svid', ['--sub', 'spiffe://jia.app/family-service', '--aud', 'spiffe://jia.app/reports'], { PAYMENT_FUNCTIONS_LOCAL_DIR: localDir });

    expect(run.code, run.stderr).toBe(0);
    const token = run.stdout.trim();
    expect(token.split('.')).toHaveLength(3);
    const bundlePath = /bundle: (\S+)/.exec(run.stderr)![1]!;
    const bundle = JwtBundle.parse(parseTrustDomain('jia.app'), await readFile(bundlePath, 'utf8'));
    const svid = await new JwtSvidValidator({ audience: 'spiffe://jia.app/reports', bundles: bundle }).validate(token);
    expect(svid.id.toString()).toBe('spiffe://jia.app/family-service');
  }, CHILD_TIMEOUT);

  it('refuses a subject that is not a SPIFFE ID, with exit status 2', async () => {
    const run = await runNpm('mint-jwt-svid', ['--sub', 'family-service'], { PAYMENT_FUNCTIONS_LOCAL_DIR: localDir });

    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
  }, CHILD_TIMEOUT);
});

describe('npm run invoke -- get-user-info --as', () => {
  it('calls GET /users/{userId} over HTTP with a fresh JWT-SVID and answers 200 for an allowed caller', async () => {
    const run = await runNpm('invoke', ['get-user-info', '--as', 'spiffe://jia.app/family-service', '--event', '{"userId":"user-2"}'], { PAYMENT_FUNCTIONS_LOCAL_DIR: localDir });

    expect(run.code, run.stderr).toBe(0);
    const answer = JSON.parse(run.stdout) as { statusCode: number; body: string };
    expect(answer.statusCode).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ id: 'user-2' });
    expect(run.stderr).toContain('"spiffe_id":"spiffe://jia.app/family-service","result":"allowed"');
  }, CHILD_TIMEOUT);

  it('answers 403 for a caller not on the allow-list', async () => {
    const run = await runNpm('invoke', ['get-user-info', '--as', 'spiffe://jia.app/billing-service'], { PAYMENT_FUNCTIONS_LOCAL_DIR: localDir });

    expect(run.code, run.stderr).toBe(0);
    expect((JSON.parse(run.stdout) as { statusCode: number }).statusCode).toBe(403);
  }, CHILD_TIMEOUT);
});
