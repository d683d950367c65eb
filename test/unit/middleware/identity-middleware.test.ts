import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdentityError } from '../../../shared/errors.js';
import { IdentitySource } from '../../../shared/identity/identity-source.js';
import { svidFetcherFor } from '../../../shared/identity/svid-fetcher.js';
import { identityMiddleware, type IdentityContext } from '../../../shared/middleware/identity-middleware.js';
import { DevCa, writeSpiffeHelperFiles } from '../../local/dev-ca.js';

let dir: string;
// The runtime passes a plain Context; the middleware adds `spiffe` before the handler sees it.
const lambdaContext = { functionName: 'test', getRemainingTimeInMillis: () => 3000 } as unknown as Context & IdentityContext;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'identity-mw-'));
  const ca = await DevCa.create('jia.app');
  await writeSpiffeHelperFiles(dir, await ca.mintSvid('spiffe://jia.app/payment-functions'), ca.bundlePem);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('identityMiddleware', () => {
  it('loads the SVID before the handler and exposes only who we are', async () => {
    const { fetch, description } = svidFetcherFor({ dir });
    const source = new IdentitySource(fetch, description);
    const handler = middy(async (_event: unknown, context: Context & IdentityContext) => ({
      me: context.spiffe.id.toString(),
      keys: Object.keys(context.spiffe).sort(),
    })).use(identityMiddleware({ source }));

    const result = await handler({}, lambdaContext);

    expect(result).toEqual({ me: 'spiffe://jia.app/payment-functions', keys: ['expiresAt', 'id'] });
    expect(source.fetchCount).toBe(1);
  });

  it('fails the invocation with the typed error when the SVID cannot be loaded', async () => {
    const { fetch, description } = svidFetcherFor({ dir: join(dir, 'missing') });
    let handlerRan = false;
    const handler = middy(async () => {
      handlerRan = true;
    }).use(identityMiddleware({ source: new IdentitySource(fetch, description) }));

    const error = (await handler({}, lambdaContext).catch((e: unknown) => e)) as IdentityError;

    expect(error).toBeInstanceOf(IdentityError);
    expect(error.code).toBe('IDENTITY_FILES_UNREADABLE');
    expect(handlerRan).toBe(false);
  });

  it('asks for a source when none is configured', () => {
    expect(() => svidFetcherFor({})).toThrow(
      expect.objectContaining({ code: 'IDENTITY_SOURCE_NOT_CONFIGURED' }) as unknown as Error,
    );
  });
});
