import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { APP_CONFIG_DEFAULTS, APP_CONFIG_KEYS, appConfigFromContext, REQUIRED_KEYS, SYNTH_ARCHITECTURE, type AppConfig } from '../../cdk/config.js';
import { ConfigError } from '../../shared/errors.js';
import { TEST_CONTEXT } from './synth-fixture.js';

/** Reads the config from `context` (test context plus overrides; `undefined` removes a key). */
function configOf(context: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = {}): AppConfig {
  const merged = Object.fromEntries(Object.entries({ ...TEST_CONTEXT, ...context }).filter(([, v]) => v !== undefined));
  return appConfigFromContext(new App({ context: merged }).node, env);
}

/** The issues one ConfigError lists; fails the test when reading does not throw one. */
function issuesOf(context: Record<string, unknown>): string[] {
  try {
    configOf(context);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    expect(error.code).toBe('CONFIG_INVALID');
    return error.message.replace(/^invalid cdk context: /, '').split('; ');
  }
  throw new Error('expected appConfigFromContext to throw a ConfigError');
}

describe('appConfigFromContext', () => {
  it('applies every default when only the mesh is described', () => {
    const config = configOf({ account: undefined, region: undefined, alarmTopicArn: undefined });
    expect(config).toMatchObject(APP_CONFIG_DEFAULTS);
    expect(config.dashboardName).toBe('PaymentFunctions-on-call');
    expect(config.account).toBeUndefined();
  });

  it('reads numbers, lists and booleans given as strings on the command line', () => {
    const config = configOf({
      queueBatchSize: '20',
      mtlsEnabled: 'false',
      availabilityZones: 'eu-central-1a, eu-central-1b',
      logRetentionDays: '14',
    });
    expect(config).toMatchObject({ queueBatchSize: 20, mtlsEnabled: false, availabilityZones: ['eu-central-1a', 'eu-central-1b'], logRetentionDays: 14 });
  });

  it('takes account and region from CDK_DEFAULT_* when the context names none', () => {
    const config = configOf({ account: undefined, region: undefined }, { CDK_DEFAULT_ACCOUNT: '210987654321', CDK_DEFAULT_REGION: 'eu-central-1' });
    expect(config).toMatchObject({ account: '210987654321', region: 'eu-central-1' });
  });

  it('names every missing mesh key at once', () => {
    const missing = Object.fromEntries([...REQUIRED_KEYS].map((key) => [key, undefined]));
    expect(issuesOf(missing)).toEqual([...REQUIRED_KEYS].map((key) => `context ${key} must be set`));
  });

  it('names the key, the rule and the value of an invalid value', () => {
    expect(issuesOf({ vpcId: 'default', grantEntitlementsMemoryMb: 64 })).toEqual([
      'context vpcId must be a vpc id (vpc-…), got "default"',
      'context grantEntitlementsMemoryMb must be an integer from 128 to 10240, got 64',
    ]);
  });

  it('rejects a SPIFFE ID the functions would reject at init', () => {
    expect(issuesOf({ contactServiceSpiffeId: 'spiffe://jia.app/contact-service/' })).toEqual([
      'context contactServiceSpiffeId must be a SPIFFE ID (path cannot have a trailing slash), got "spiffe://jia.app/contact-service/"',
    ]);
  });

  it('reads secrets through the SDK unless secretsExtension is set, and bounds its cache TTL as AWS does', () => {
    expect(configOf()).toMatchObject({ secretsExtension: false, secretsExtensionCacheTtlSeconds: 300 });
    expect(configOf({ secretsExtension: 'true', secretsExtensionCacheTtlSeconds: '60' })).toMatchObject({ secretsExtension: true, secretsExtensionCacheTtlSeconds: 60 });
    expect(issuesOf({ secretsExtension: 'yes', secretsExtensionCacheTtlSeconds: 301 })).toEqual([
      'context secretsExtension must be true or false, got "yes"',
      'context secretsExtensionCacheTtlSeconds must be an integer from 0 to 300, got 301',
    ]);
  });

  it('rejects a log retention CloudWatch does not offer', () => {
    expect(issuesOf({ logRetentionDays: 31 })[0]).toMatch(/^context logRetentionDays must be one of 1, 3, 5, 7, 14, 30, .*got 31$/);
  });

  it('requires exactly one of svidSecretArn and svidSecretName', () => {
    expect(issuesOf({ svidSecretName: 'spire/svid' })).toEqual(['context must set exactly one of svidSecretArn and svidSecretName']);
    expect(issuesOf({ svidSecretArn: undefined })).toEqual(['context must set exactly one of svidSecretArn and svidSecretName']);
  });

  it('requires exactly one of webhookSigningSecretArn and webhookSigningSecretName', () => {
    expect(issuesOf({ webhookSigningSecretName: undefined })).toEqual([
      'context must set exactly one of webhookSigningSecretArn and webhookSigningSecretName',
    ]);
  });

  it('accepts an alarm topic or an alarm email, not both', () => {
    expect(issuesOf({ alarmEmail: 'oncall@example.com' })).toEqual(['context may set only one of alarmTopicArn and alarmEmail']);
  });

  it('rejects a namespace ARN that is not the namespace id\'s', () => {
    expect(issuesOf({ namespaceId: 'ns-zzzzzzzzzzzzzzzz' })).toEqual([
      `context namespaceArn must be the arn of namespaceId "ns-zzzzzzzzzzzzzzzz", got "${TEST_CONTEXT.namespaceArn}"`,
    ]);
  });

  it('rejects a namespace in another region than the functions\'', () => {
    expect(issuesOf({ region: 'us-east-1', availabilityZones: ['us-east-1a', 'us-east-1b'] })).toEqual([
      `context namespaceArn must be in the region the functions deploy to (us-east-1), got "${TEST_CONTEXT.namespaceArn}"`,
    ]);
  });

  it('refuses discoveryDnsFirst for an http namespace, which has no dns records', () => {
    expect(issuesOf({ discoveryDnsFirst: true, namespaceType: 'http' })).toEqual([
      'context discoveryDnsFirst must be false for an http namespace (it has no dns records), got true with namespaceType "http"',
    ]);
    expect(configOf({ discoveryDnsFirst: 'true', namespaceType: 'dns-public' })).toMatchObject({ discoveryDnsFirst: true, namespaceType: 'dns-public' });
  });

  it('refuses discoveryDnsFirst with a discovery scheme other than cloudmap', () => {
    expect(issuesOf({ discoveryDnsFirst: true, discoveryScheme: 'dns' })).toEqual([
      'context discoveryDnsFirst must be false unless discoveryScheme is cloudmap, got true with discoveryScheme "dns"',
    ]);
  });

  it('rejects a namespace type Cloud Map does not have', () => {
    expect(issuesOf({ namespaceType: 'DNS_PRIVATE' })).toEqual(['context namespaceType must be one of dns-private, dns-public, http, got "DNS_PRIVATE"']);
  });

  it('rejects availability zones of another region', () => {
    expect(issuesOf({ availabilityZones: ['eu-central-1a', 'eu-west-1b'] })).toEqual([
      'context availabilityZones must be zones of eu-central-1, got ["eu-west-1b"]',
    ]);
  });

  it('rejects subnets that do not spread evenly over the availability zones', () => {
    expect(issuesOf({ privateSubnetIds: ['subnet-0123456789abcdef1'] })).toEqual([
      'context privateSubnetIds must hold the same number of subnets in each of the 2 availability zones, got 1',
    ]);
  });

  it('refuses a maxReceiveCount whose backoff would dead-letter a record within a day', () => {
    expect(issuesOf({ queueMaxReceiveCount: 5 })).toEqual([
      'context queueMaxReceiveCount must give the backoff (base 60 s, max 43200 s) at least 24 h before the DLQ, got 5 receives spanning 1395 s',
    ]);
    expect(configOf({ queueMaxReceiveCount: 5, queueBackoffEnabled: false }).queueMaxReceiveCount).toBe(5);
    expect(configOf({ queueMaxReceiveCount: 11 }).queueMaxReceiveCount).toBe(11);
  });

  it('keeps the event source mapping\'s MaximumConcurrency within Lambda\'s 2 to 1000 and retention within SQS\'s 14 days', () => {
    expect(issuesOf({ queueMaximumConcurrency: 1, queueRetentionDays: 15 })).toEqual([
      'context queueRetentionDays must be an integer from 1 to 14, got 15',
      'context queueMaximumConcurrency must be an integer from 2 to 1000, got 1',
    ]);
  });

  it('requires the backoff maximum to be at least its base, and the paused alarm at least one mesh-health period', () => {
    expect(issuesOf({ queueBackoffBaseSeconds: 600, queueBackoffMaxSeconds: 60, queuePausedAlarmMinutes: 4, meshHealthScheduleMinutes: 5 })).toEqual(
      expect.arrayContaining([
        'context queueBackoffMaxSeconds must be at least queueBackoffBaseSeconds (600), got 60',
        'context queuePausedAlarmMinutes must be at least meshHealthScheduleMinutes (5), got 4',
      ]),
    );
  });

  it('checks the Stripe entitlement map with the reader payment-webhook uses', () => {
    expect(issuesOf({ stripeEntitlementMap: '{"pro": "#link"}' })).toEqual([
      'context stripeEntitlementMap must map stripe price lookup_keys or product ids to entitlement names (a JSON object), got "{\\"pro\\": \\"#link\\"}"',
    ]);
  });

  it('ships a compile cache only for the architecture of the machine that builds it', () => {
    const other = SYNTH_ARCHITECTURE === 'arm64' ? 'x86_64' : 'arm64';
    expect(issuesOf({ compileCache: 'true', architecture: other })).toEqual([
      `context compileCache needs the functions' architecture to be this machine's (${SYNTH_ARCHITECTURE}): V8's cache is only used where it was built, got architecture "${other}"`,
    ]);
    expect(configOf({ compileCache: 'true', architecture: SYNTH_ARCHITECTURE })).toMatchObject({ compileCache: true, architecture: SYNTH_ARCHITECTURE });
    expect(configOf()).toMatchObject({ compileCache: false, sourceMaps: false, architecture: 'arm64' });
  });

  it('requires a batching window for batches above 10 records, as Lambda does', () => {
    expect(issuesOf({ queueBatchSize: 11, queueMaxBatchingWindowSeconds: 0 })).toEqual([
      'context queueMaxBatchingWindowSeconds must be at least 1 when queueBatchSize is above 10, got 0',
    ]);
  });
});

describe('appConfigFromContext (user API)', () => {
  it('requires the allow-list and the bundle url with userApiAuthorization jwt-svid', () => {
    expect(issuesOf({ userApiAuthorization: 'jwt-svid' })).toEqual([
      'context jwtSvidAllowedIds must be set when userApiAuthorization is jwt-svid',
      'context jwtSvidBundleUrl must be set when userApiAuthorization is jwt-svid',
    ]);
  });

  it('refuses jwt-svid settings while the route stays on IAM, rather than ignoring them', () => {
    expect(issuesOf({ jwtSvidIssuer: 'https://oidc.jia.app' })).toEqual([
      'context jwtSvidIssuer apply only with userApiAuthorization jwt-svid, got "iam"',
    ]);
  });

  it.each([
    [{ userApiAuthorization: 'cognito' }, 'context userApiAuthorization must be one of iam, jwt-svid, got "cognito"'],
    [{ jwtSvidBundleUrl: 'http://spire' }, 'context jwtSvidBundleUrl must be an https url, got "http://spire"'],
    [{ jwtSvidAllowedIds: 'spiffe://jia.app/x/' }, 'context jwtSvidAllowedIds must be a SPIFFE ID (path cannot have a trailing slash), got "spiffe://jia.app/x/"'],
  ])('names the key and the rule for %j', (context, issue) => {
    expect(issuesOf(context)).toEqual([issue]);
  });
});

describe('README.md (deploying)', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const rowOf = (key: string) => readme.split('\n').find((line) => line.startsWith(`| \`${key}\` |`));

  it('documents every context key', () => {
    expect(APP_CONFIG_KEYS.filter((key) => rowOf(key) === undefined)).toEqual([]);
  });

  it('states every default as the code declares it', () => {
    const wrong = Object.entries(APP_CONFIG_DEFAULTS).filter(([key, value]) => !rowOf(key)?.includes(`| \`${value}\` |`));
    expect(wrong).toEqual([]);
  });
});
