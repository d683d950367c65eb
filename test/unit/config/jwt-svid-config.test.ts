import { describe, expect, it } from 'vitest';
import { loadJwtSvidConfig } from '../../../shared/config/jwt-svid-config.js';
import { ConfigError } from '../../../shared/errors.js';
import { parseSpiffeId } from '../../../shared/spiffe/spiffe-id.js';

const base = {
  SERVICE_MESH_SPIFFE_ID: 'spiffe://jia.app/payment-functions',
  JWT_SVID_AUDIENCE: 'spiffe://jia.app/payment-functions',
  JWT_SVID_ALLOWED_IDS: 'spiffe://jia.app/family-service, spiffe://partner.example',
  JWT_SVID_BUNDLE_URL: 'https://spire.jia.app:8443',
};

function failure(env: Record<string, string>): string {
  try {
    loadJwtSvidConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error('expected a ConfigError');
}

describe('loadJwtSvidConfig', () => {
  it('is off when JWT_SVID_AUDIENCE is unset', () => {
    expect(loadJwtSvidConfig({ SERVICE_MESH_SPIFFE_ID: base.SERVICE_MESH_SPIFFE_ID })).toBeUndefined();
  });

  it('reads the audience, the allow-list and the own trust domain\'s bundle url (https_web, SPIFFE bundle)', () => {
    const config = loadJwtSvidConfig(base)!;

    expect(config.audience).toBe('spiffe://jia.app/payment-functions');
    expect(config.allowedIds).toEqual(['spiffe://jia.app/family-service', 'spiffe://partner.example']);
    expect(config.bundles).toEqual([{ trustDomain: expect.objectContaining({ name: 'jia.app' }) as unknown, url: new URL(base.JWT_SVID_BUNDLE_URL), format: 'spiffe' }]);
  });

  it('admits the listed IDs and any member of a listed trust domain, and nobody else', () => {
    const { authorize } = loadJwtSvidConfig(base)!;

    expect(() => authorize(parseSpiffeId('spiffe://jia.app/family-service'))).not.toThrow();
    expect(() => authorize(parseSpiffeId('spiffe://partner.example/anything'))).not.toThrow();
    expect(() => authorize(parseSpiffeId('spiffe://jia.app/billing-service'))).toThrow(expect.objectContaining({ code: 'SPIFFE_ID_NOT_ALLOWED' }));
  });

  it('reads an https_spiffe endpoint, the OIDC JWKS format and federated bundle urls', () => {
    const config = loadJwtSvidConfig({
      ...base,
      JWT_SVID_BUNDLE_FORMAT: 'jwks',
      JWT_SVID_BUNDLE_ENDPOINT_SPIFFE_ID: 'spiffe://jia.app/spire/server',
      JWT_SVID_FEDERATED_BUNDLE_URLS: JSON.stringify({
        'spiffe://partner.example': 'https://partner.example/bundle',
        'other.example': { url: 'https://other.example:8443', endpointSpiffeId: 'spiffe://other.example/spire/server' },
      }),
    })!;

    expect(config.bundles.map((b) => [b.trustDomain.name, b.url?.href, b.format, b.endpointSpiffeId?.toString()])).toEqual([
      ['jia.app', 'https://spire.jia.app:8443/', 'jwks', 'spiffe://jia.app/spire/server'],
      ['partner.example', 'https://partner.example/bundle', 'spiffe', undefined],
      ['other.example', 'https://other.example:8443/', 'spiffe', 'spiffe://other.example/spire/server'],
    ]);
  });

  it('reads a bundle file', () => {
    const { JWT_SVID_BUNDLE_URL: _url, ...withoutUrl } = base;

    expect(loadJwtSvidConfig({ ...withoutUrl, JWT_SVID_BUNDLE_FILE: '/tmp/bundle.json' })!.bundles[0]!.file).toBe('/tmp/bundle.json');
  });

  it.each([
    ['another JWT_SVID_* without the audience', { JWT_SVID_ALLOWED_IDS: 'spiffe://jia.app/x' }, 'JWT_SVID_AUDIENCE must be set'],
    ['no allow-list', { ...base, JWT_SVID_ALLOWED_IDS: '' }, 'JWT_SVID_ALLOWED_IDS must name the callers'],
    ['a wildcard', { ...base, JWT_SVID_ALLOWED_IDS: '*' }, 'JWT_SVID_ALLOWED_IDS must be comma-separated SPIFFE IDs'],
    ['a bad SPIFFE ID', { ...base, JWT_SVID_ALLOWED_IDS: 'spiffe://jia.app/x/' }, 'path cannot have a trailing slash'],
    ['both a file and a url', { ...base, JWT_SVID_BUNDLE_FILE: '/tmp/b.json' }, 'exactly one of JWT_SVID_BUNDLE_FILE and JWT_SVID_BUNDLE_URL'],
    ['neither a file nor a url', { ...base, JWT_SVID_BUNDLE_URL: '' }, 'got neither'],
    ['a plain http url', { ...base, JWT_SVID_BUNDLE_URL: 'http://spire.jia.app' }, 'JWT_SVID_BUNDLE_URL must be an https URL, got "http://spire.jia.app"'],
    ['an unknown format', { ...base, JWT_SVID_BUNDLE_FORMAT: 'pem' }, 'JWT_SVID_BUNDLE_FORMAT must be one of spiffe, jwks, got "pem"'],
    ['no own SPIFFE ID', { ...base, SERVICE_MESH_SPIFFE_ID: '' }, 'SERVICE_MESH_SPIFFE_ID must be set'],
    ['a federated map that is not JSON', { ...base, JWT_SVID_FEDERATED_BUNDLE_URLS: 'partner=https://x' }, 'JWT_SVID_FEDERATED_BUNDLE_URLS must be a JSON object'],
    ['a federated entry for the own trust domain', { ...base, JWT_SVID_FEDERATED_BUNDLE_URLS: '{"jia.app":"https://x"}' }, 'names the own trust domain'],
  ])('refuses %s, naming the variable', (_name, env, message) => {
    expect(failure(env as Record<string, string>)).toContain(message);
  });
});
