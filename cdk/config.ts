import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Node } from 'constructs';
import { DISCOVERY_SCHEMES, MESH_DEFAULTS, type DiscoveryScheme } from '../shared/config/mesh-config.js';
import { ConfigError } from '../shared/errors.js';
import { SECRETS_MANAGER_ACCESS_DEFAULTS } from '../shared/secrets/secrets-manager-access.js';
import { MAX_VISIBILITY_SECONDS, minimumScheduleSpanSeconds, QUEUE_BACKOFF_DEFAULTS } from '../functions/grant-entitlements/queue-backoff.js';
import { FUNCTION_BUNDLING_DEFAULTS } from './bundling/function-bundling.js';
import { arn, bool, BrokenRule, integer, list, oneOf, quote, spiffeId, stripeEntitlementMap, text, type ContextField } from './context-fields.js';
import { USER_API_DEFAULTS, USER_API_FIELDS, userApiIssues, type UserApiConfig } from './user-api-config.js';

/**
 * Every knob of the CDK app, one CDK context key each (`cdk.json` → `context`, or
 * `cdk synth -c key=value`). The keys without a default describe the mesh this app deploys into
 * and must be given; `cdk.json` carries example values for them.
 */
export interface AppConfig extends UserApiConfig {
  /** Stack names: `<stackPrefix>` (functions, API, queue, alarms) and `<stackPrefix>-data` (the table). */
  stackPrefix: string;
  /** Target account and region; default `CDK_DEFAULT_ACCOUNT` / `CDK_DEFAULT_REGION`, else environment-agnostic. */
  account?: string;
  region?: string;
  /** Physical name of the entitlements table; CloudFormation generates one when unset. */
  entitlementsTableName?: string;
  /** Physical name of the `mesh-state` table (the fleet's breakers); CloudFormation generates one when unset. */
  meshStateTableName?: string;
  /** Name of the on-call CloudWatch dashboard; default `<stackPrefix>-on-call`. */
  dashboardName: string;

  /** The mesh's VPC, imported by attributes (no lookup, so synth needs no account). */
  vpcId: string;
  availabilityZones: string[];
  /** The subnets the functions run in, one per availability zone, with a route to AWS APIs. */
  privateSubnetIds: string[];

  /** The secret SPIRE's `aws_secretsmanager` SVIDStore writes the functions' SVID to: ARN or name, one of them. */
  svidSecretArn?: string;
  svidSecretName?: string;
  /** The customer-managed KMS key of that secret, when it has one. */
  svidSecretKmsKeyArn?: string;
  /** The Stripe webhook signing secret(s): ARN or name, one of them. */
  webhookSigningSecretArn?: string;
  webhookSigningSecretName?: string;
  webhookSigningSecretKmsKeyArn?: string;

  /** The mesh's Cloud Map namespace, imported by attributes. */
  namespaceName: string;
  namespaceId: string;
  namespaceArn: string;
  /**
   * What kind of namespace it is (Cloud Map's `DNS_PRIVATE`, `DNS_PUBLIC`, `HTTP`): only a DNS
   * namespace has records DNS can answer from.
   */
  namespaceType: (typeof NAMESPACE_TYPES)[number];
  /** The functions' own SPIFFE ID (`SERVICE_MESH_SPIFFE_ID`). */
  spiffeId: string;
  discoveryScheme: DiscoveryScheme;
  /**
   * `SERVICE_MESH_DISCOVERY_DNS_FIRST`: resolve through the namespace's DNS records before the
   * Cloud Map API (dns → cloudmap → static), so a cold start needs no Cloud Map client when DNS
   * answers. Only with `discoveryScheme` cloudmap and a DNS namespace.
   */
  discoveryDnsFirst: boolean;
  mtlsEnabled: boolean;
  /** The contact-service (`EXTERNAL_SERVICES_CONTACT_SERVICE_*`). */
  contactServiceName: string;
  contactServiceSpiffeId: string;
  /** Static `host:port`, the last discovery fallback; none when unset. */
  contactServiceAddress?: string;
  contactServiceTimeoutSeconds: number;
  /** The breaker of every mesh service (`CIRCUIT_BREAKER_*`). */
  circuitBreakerFailureThreshold: number;
  circuitBreakerSuccessThreshold: number;
  circuitBreakerTimeoutSeconds: number;
  circuitBreakerHalfOpenMaxCalls: number;
  /** One breaker per service for the whole fleet, through the `mesh-state` table (`CIRCUIT_BREAKER_SHARED`). */
  circuitBreakerShared: boolean;
  /** Seconds between two reads of the fleet's breaker per container (`CIRCUIT_BREAKER_SHARED_READ_SECONDS`). */
  circuitBreakerSharedReadSeconds: number;
  /** Seconds over which traffic ramps up after the fleet's breaker closed (`CIRCUIT_BREAKER_SLOW_START_SECONDS`). */
  circuitBreakerSlowStartSeconds: number;

  /** `POWERTOOLS_LOG_LEVEL` of every function. */
  logLevel: (typeof LOG_LEVELS)[number];
  /** Retention of the functions' and the API's log groups. */
  logRetentionDays: RetentionDays;
  /** Bundle the AWS SDK into every function instead of importing the Lambda runtime's. */
  bundleAwsSdk: boolean;
  /** `NODE_OPTIONS=--enable-source-maps`: stack traces mapped to the sources, at a cold-start cost. */
  sourceMaps: boolean;
  /** Ship V8's compile cache in every asset (used only by the Node version and architecture that built it). */
  compileCache: boolean;
  /** The functions' instruction set. */
  architecture: (typeof ARCHITECTURES)[number];
  /**
   * Read every secret (SVIDs, the webhook signing secret) through the AWS Parameters and Secrets
   * Lambda Extension (`SECRETS_MANAGER_ACCESS=extension`) instead of the SDK.
   */
  secretsExtension: boolean;
  /** How long the extension serves a secret from its cache (`SECRETS_MANAGER_TTL`, 0 to 300). */
  secretsExtensionCacheTtlSeconds: number;
  paymentWebhookMemoryMb: number;
  paymentWebhookTimeoutSeconds: number;
  grantEntitlementsMemoryMb: number;
  grantEntitlementsTimeoutSeconds: number;
  getUserInfoMemoryMb: number;
  getUserInfoTimeoutSeconds: number;
  meshHealthMemoryMb: number;
  meshHealthTimeoutSeconds: number;
  /** How often mesh-health probes the mesh; also the period of the alarms on what it reports. */
  meshHealthScheduleMinutes: number;

  /** The entitlement queue's event source: records per batch, and how long to gather them. */
  queueBatchSize: number;
  queueMaxBatchingWindowSeconds: number;
  /** Receives before a record moves to the dead-letter queue. */
  queueMaxReceiveCount: number;
  /** Days the entitlement queue keeps a message (SQS allows 1 to 14). */
  queueRetentionDays: number;
  /** The event source mapping's MaximumConcurrency: grant-entitlements instances polling at once (2 to 1000). */
  queueMaximumConcurrency: number;
  /** Records whose service is unavailable wait with exponential backoff (`QUEUE_BACKOFF_*`). */
  queueBackoffEnabled: boolean;
  queueBackoffBaseSeconds: number;
  queueBackoffMaxSeconds: number;
  /** The consumption-paused alarm fires when grant-entitlements' consumption stays paused this long. */
  queuePausedAlarmMinutes: number;

  /**
   * payment-webhook's Stripe event settings (`STRIPE_*`, README "Stripe events"): the price
   * `lookup_key` or product id → entitlement map (JSON text), the default entitlement, whether a
   * full refund and a dispute revoke, and a past-due grace.
   */
  stripeEntitlementMap?: string;
  stripeDefaultEntitlement?: string;
  stripeRevokeOnRefund: boolean;
  stripeRevokeOnDispute: boolean;
  stripePastDueGraceSeconds?: number;

  /** Throttling of the HTTP API's stage: steady requests per second, and burst. */
  apiThrottleRateLimit: number;
  apiThrottleBurstLimit: number;

  /** Where alarms notify: an existing SNS topic, or an email address for a new topic; neither means no action. */
  alarmTopicArn?: string;
  alarmEmail?: string;
  /** The SVID alarm fires when `svid_expiry_seconds` falls below this. */
  svidExpiryAlarmSeconds: number;
}

/** The namespace kinds, as Cloud Map's `NamespaceType` names them, lower-cased. */
const NAMESPACE_TYPES = ['dns-private', 'dns-public', 'http'] as const;

const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'] as const;
/** Lambda's instruction sets, as Lambda names them. */
export const ARCHITECTURES = ['arm64', 'x86_64'] as const;
/** The instruction set of the Node running the synth: a compile cache is only good for that one. */
export const SYNTH_ARCHITECTURE: string = ({ arm64: 'arm64', x64: 'x86_64' } as Record<string, string>)[process.arch] ?? process.arch;

/** Every default, declared once; the mesh's own defaults come from the mesh layer's. */
export const APP_CONFIG_DEFAULTS = {
  stackPrefix: 'PaymentFunctions',
  spiffeId: 'spiffe://jia.app/payment-functions',
  // The stack imported every namespace as a private DNS one before the type was a knob.
  namespaceType: 'dns-private',
  discoveryScheme: MESH_DEFAULTS.discovery.scheme,
  discoveryDnsFirst: MESH_DEFAULTS.discovery.dnsFirst,
  mtlsEnabled: MESH_DEFAULTS.mtlsEnabled,
  contactServiceName: 'contact-service',
  contactServiceSpiffeId: 'spiffe://jia.app/contact-service',
  contactServiceTimeoutSeconds: 5,
  circuitBreakerFailureThreshold: MESH_DEFAULTS.circuitBreaker.failureThreshold,
  circuitBreakerSuccessThreshold: MESH_DEFAULTS.circuitBreaker.successThreshold,
  circuitBreakerTimeoutSeconds: MESH_DEFAULTS.circuitBreaker.timeoutSeconds,
  circuitBreakerHalfOpenMaxCalls: MESH_DEFAULTS.circuitBreaker.halfOpenMaxCalls,
  circuitBreakerShared: true,
  circuitBreakerSharedReadSeconds: MESH_DEFAULTS.sharedBreaker.readIntervalSeconds,
  circuitBreakerSlowStartSeconds: MESH_DEFAULTS.sharedBreaker.slowStartSeconds,
  logLevel: 'INFO',
  logRetentionDays: RetentionDays.ONE_MONTH,
  bundleAwsSdk: FUNCTION_BUNDLING_DEFAULTS.bundleAwsSdk,
  sourceMaps: FUNCTION_BUNDLING_DEFAULTS.sourceMaps,
  compileCache: FUNCTION_BUNDLING_DEFAULTS.compileCache,
  architecture: 'arm64',
  secretsExtension: SECRETS_MANAGER_ACCESS_DEFAULTS.mode === 'extension',
  secretsExtensionCacheTtlSeconds: SECRETS_MANAGER_ACCESS_DEFAULTS.extensionCacheTtlSeconds,
  paymentWebhookMemoryMb: 256,
  paymentWebhookTimeoutSeconds: 10,
  grantEntitlementsMemoryMb: 512,
  grantEntitlementsTimeoutSeconds: 60,
  getUserInfoMemoryMb: 512,
  getUserInfoTimeoutSeconds: 10,
  meshHealthMemoryMb: 256,
  meshHealthTimeoutSeconds: 30,
  // Also how soon consumption pauses after the fleet's breaker opened, and resumes after it closed.
  meshHealthScheduleMinutes: 1,
  queueBatchSize: 10,
  queueMaxBatchingWindowSeconds: 1,
  // With the default backoff, 12 receives span more than 24 h (see crossFieldIssues).
  queueMaxReceiveCount: 12,
  queueRetentionDays: 14,
  queueMaximumConcurrency: 20,
  queueBackoffEnabled: QUEUE_BACKOFF_DEFAULTS.enabled,
  queueBackoffBaseSeconds: QUEUE_BACKOFF_DEFAULTS.baseSeconds,
  queueBackoffMaxSeconds: QUEUE_BACKOFF_DEFAULTS.maxSeconds,
  queuePausedAlarmMinutes: 60,
  stripeRevokeOnRefund: true,
  stripeRevokeOnDispute: true,
  apiThrottleRateLimit: 50,
  apiThrottleBurstLimit: 100,
  svidExpiryAlarmSeconds: 86_400,
  ...USER_API_DEFAULTS,
} as const satisfies Partial<AppConfig>;

const MEMORY = integer(128, 10_240);
const TIMEOUT = integer(1, 900);
const NAME = text(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'a name of letters, digits, dots, dashes and underscores');
const SECRET_NAME = text(/^[A-Za-z0-9/_+=.@-]{1,512}$/, 'a secrets manager secret name');

/** How each key is read. */
const FIELDS: { [K in keyof AppConfig]-?: ContextField<NonNullable<AppConfig[K]>> } = {
  stackPrefix: text(/^[A-Za-z][A-Za-z0-9-]{0,100}$/, 'a stack name prefix of letters, digits and dashes'),
  account: text(/^\d{12}$/, 'a 12-digit account id'),
  region: text(/^[a-z]{2}(-[a-z]+)+-\d$/, 'a region name such as eu-west-1'),
  entitlementsTableName: text(/^[A-Za-z0-9_.-]{3,255}$/, 'a dynamodb table name'),
  meshStateTableName: text(/^[A-Za-z0-9_.-]{3,255}$/, 'a dynamodb table name'),
  dashboardName: text(/^[A-Za-z0-9_-]{1,255}$/, 'a dashboard name of letters, digits, dashes and underscores'),
  vpcId: text(/^vpc-[0-9a-f]{8,17}$/, 'a vpc id (vpc-…)'),
  availabilityZones: list(/^[a-z]{2}(-[a-z]+)+-\d[a-z]$/, 'availability zone names'),
  privateSubnetIds: list(/^subnet-[0-9a-f]{8,17}$/, 'subnet ids'),
  svidSecretArn: arn('secretsmanager'),
  svidSecretName: SECRET_NAME,
  svidSecretKmsKeyArn: arn('kms'),
  webhookSigningSecretArn: arn('secretsmanager'),
  webhookSigningSecretName: SECRET_NAME,
  webhookSigningSecretKmsKeyArn: arn('kms'),
  namespaceName: text(/^[!-~]{1,1024}$/, 'a cloud map namespace name'),
  namespaceId: text(/^ns-[a-z0-9]{16}$/, 'a cloud map namespace id (ns-…)'),
  namespaceArn: arn('servicediscovery'),
  namespaceType: oneOf(NAMESPACE_TYPES),
  spiffeId,
  discoveryScheme: oneOf(DISCOVERY_SCHEMES),
  discoveryDnsFirst: bool,
  mtlsEnabled: bool,
  contactServiceName: NAME,
  contactServiceSpiffeId: spiffeId,
  contactServiceAddress: text(/^(\[[0-9A-Fa-f:.]+\]|[^:[\]\s]+):\d{1,5}$/, 'host:port or [ipv6]:port'),
  contactServiceTimeoutSeconds: TIMEOUT,
  circuitBreakerFailureThreshold: integer(1, 1000),
  circuitBreakerSuccessThreshold: integer(1, 1000),
  circuitBreakerTimeoutSeconds: integer(1, 3600),
  circuitBreakerHalfOpenMaxCalls: integer(1, 1000),
  circuitBreakerShared: bool,
  circuitBreakerSharedReadSeconds: integer(1, 300),
  circuitBreakerSlowStartSeconds: integer(0, 3600),
  logLevel: oneOf(LOG_LEVELS),
  logRetentionDays: oneOf(Object.values(RetentionDays).filter((v): v is RetentionDays => typeof v === 'number')),
  bundleAwsSdk: bool,
  sourceMaps: bool,
  compileCache: bool,
  architecture: oneOf(ARCHITECTURES),
  secretsExtension: bool,
  // AWS's bound for SECRETS_MANAGER_TTL; CDK's ParamsAndSecrets rejects more.
  secretsExtensionCacheTtlSeconds: integer(0, 300),
  paymentWebhookMemoryMb: MEMORY,
  paymentWebhookTimeoutSeconds: TIMEOUT,
  grantEntitlementsMemoryMb: MEMORY,
  grantEntitlementsTimeoutSeconds: TIMEOUT,
  getUserInfoMemoryMb: MEMORY,
  // API Gateway's HTTP API gives up on an integration after 30 s.
  getUserInfoTimeoutSeconds: integer(1, 30),
  meshHealthMemoryMb: MEMORY,
  meshHealthTimeoutSeconds: TIMEOUT,
  meshHealthScheduleMinutes: integer(1, 1440),
  queueBatchSize: integer(1, 10_000),
  queueMaxBatchingWindowSeconds: integer(0, 300),
  queueMaxReceiveCount: integer(1, 1000),
  queueRetentionDays: integer(1, 14),
  // Lambda's bounds for an SQS event source's MaximumConcurrency.
  queueMaximumConcurrency: integer(2, 1000),
  queueBackoffEnabled: bool,
  queueBackoffBaseSeconds: integer(1, MAX_VISIBILITY_SECONDS),
  queueBackoffMaxSeconds: integer(1, MAX_VISIBILITY_SECONDS),
  queuePausedAlarmMinutes: integer(1, 1440),
  stripeEntitlementMap: stripeEntitlementMap,
  stripeDefaultEntitlement: text(/^[^#\s]\S*$/, 'an entitlement name (no spaces, not starting with #)'),
  stripeRevokeOnRefund: bool,
  stripeRevokeOnDispute: bool,
  stripePastDueGraceSeconds: integer(0),
  apiThrottleRateLimit: integer(1, 100_000),
  apiThrottleBurstLimit: integer(1, 5_000),
  alarmTopicArn: arn('sns'),
  alarmEmail: text(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, 'an email address'),
  svidExpiryAlarmSeconds: integer(60),
  ...USER_API_FIELDS,
};

/** Every context key the app reads. */
export const APP_CONFIG_KEYS = Object.keys(FIELDS) as readonly (keyof AppConfig)[];

/** The keys that describe the target mesh: no default can be right for them. */
export const REQUIRED_KEYS: ReadonlySet<keyof AppConfig> = new Set([
  'vpcId',
  'availabilityZones',
  'privateSubnetIds',
  'namespaceName',
  'namespaceId',
  'namespaceArn',
] as const);

/**
 * Reads the app's configuration from CDK context, defaults applied; `account` and `region` fall
 * back to what the CDK CLI puts in `CDK_DEFAULT_ACCOUNT` / `CDK_DEFAULT_REGION`.
 *
 * @throws {ConfigError} `CONFIG_INVALID` listing every missing or invalid key with its value and
 *   the rule it broke, e.g. `context vpcId must be a vpc id (vpc-…), got "default"`.
 */
export function appConfigFromContext(node: Node, env: NodeJS.ProcessEnv = process.env): AppConfig {
  const issues: string[] = [];
  const values: Record<string, unknown> = {
    ...APP_CONFIG_DEFAULTS,
    account: env.CDK_DEFAULT_ACCOUNT,
    region: env.CDK_DEFAULT_REGION,
  };
  for (const [key, read] of Object.entries(FIELDS) as [keyof AppConfig, ContextField<unknown>][]) {
    const raw: unknown = node.tryGetContext(key);
    if (raw === undefined || raw === null || raw === '') {
      if (REQUIRED_KEYS.has(key)) issues.push(`context ${key} must be set`);
      continue;
    }
    const value = read(raw);
    if (value instanceof BrokenRule) issues.push(`context ${key} ${value.rule}, got ${quote(raw)}`);
    else values[key] = value;
  }
  const config = values as unknown as AppConfig;
  config.dashboardName ??= `${config.stackPrefix}-on-call`;
  if (issues.length === 0) issues.push(...crossFieldIssues(config), ...userApiIssues(config));
  if (issues.length > 0) throw new ConfigError('CONFIG_INVALID', `invalid cdk context: ${issues.join('; ')}`);
  return config;
}

/** The rules that span keys. */
function crossFieldIssues(config: AppConfig): string[] {
  const issues: string[] = [];
  const exactlyOne = (a: keyof AppConfig, b: keyof AppConfig) => {
    if ((config[a] === undefined) === (config[b] === undefined)) issues.push(`context must set exactly one of ${a} and ${b}`);
  };
  exactlyOne('svidSecretArn', 'svidSecretName');
  exactlyOne('webhookSigningSecretArn', 'webhookSigningSecretName');
  if (config.compileCache && config.architecture !== SYNTH_ARCHITECTURE) {
    issues.push(
      `context compileCache needs the functions' architecture to be this machine's (${SYNTH_ARCHITECTURE}): V8's cache is only used where it was built, got architecture ${quote(config.architecture)}`,
    );
  }
  if (config.alarmTopicArn !== undefined && config.alarmEmail !== undefined) {
    issues.push('context may set only one of alarmTopicArn and alarmEmail');
  }
  if (config.privateSubnetIds.length % config.availabilityZones.length !== 0) {
    issues.push(
      `context privateSubnetIds must hold the same number of subnets in each of the ${config.availabilityZones.length} availability zones, got ${config.privateSubnetIds.length}`,
    );
  }
  const namespaceRegion = config.namespaceArn.split(':')[3];
  if (config.region !== undefined && namespaceRegion !== config.region) {
    issues.push(`context namespaceArn must be in the region the functions deploy to (${config.region}), got ${quote(config.namespaceArn)}`);
  }
  const elsewhere = config.availabilityZones.filter((zone) => config.region !== undefined && zone.slice(0, -1) !== config.region);
  if (elsewhere.length > 0) {
    issues.push(`context availabilityZones must be zones of ${config.region}, got ${quote(elsewhere)}`);
  }
  if (!config.namespaceArn.endsWith(`:namespace/${config.namespaceId}`)) {
    issues.push(`context namespaceArn must be the arn of namespaceId ${quote(config.namespaceId)}, got ${quote(config.namespaceArn)}`);
  }
  // The functions refuse the variable with another scheme at init; refuse it here first.
  if (config.discoveryDnsFirst && config.discoveryScheme !== 'cloudmap') {
    issues.push(`context discoveryDnsFirst must be false unless discoveryScheme is cloudmap, got true with discoveryScheme ${quote(config.discoveryScheme)}`);
  }
  // An HTTP namespace has no DNS records: every lookup would miss and then ask the API anyway.
  if (config.discoveryDnsFirst && config.namespaceType === 'http') {
    issues.push(`context discoveryDnsFirst must be false for an http namespace (it has no dns records), got true with namespaceType "http"`);
  }
  // Lambda's own rule for SQS event sources.
  if (config.queueBatchSize > 10 && config.queueMaxBatchingWindowSeconds < 1) {
    issues.push(`context queueMaxBatchingWindowSeconds must be at least 1 when queueBatchSize is above 10, got ${config.queueMaxBatchingWindowSeconds}`);
  }
  if (config.queueBackoffMaxSeconds < config.queueBackoffBaseSeconds) {
    issues.push(`context queueBackoffMaxSeconds must be at least queueBackoffBaseSeconds (${config.queueBackoffBaseSeconds}), got ${config.queueBackoffMaxSeconds}`);
  }
  // A record waiting out an outage must not reach the DLQ within a day (issue #16).
  const span = minimumScheduleSpanSeconds(config.queueMaxReceiveCount, { baseSeconds: config.queueBackoffBaseSeconds, maxSeconds: config.queueBackoffMaxSeconds });
  if (config.queueBackoffEnabled && span < 86_400) {
    issues.push(
      `context queueMaxReceiveCount must give the backoff (base ${config.queueBackoffBaseSeconds} s, max ${config.queueBackoffMaxSeconds} s) at least 24 h before the DLQ, got ${config.queueMaxReceiveCount} receives spanning ${span} s`,
    );
  }
  if (config.queuePausedAlarmMinutes < config.meshHealthScheduleMinutes) {
    issues.push(`context queuePausedAlarmMinutes must be at least meshHealthScheduleMinutes (${config.meshHealthScheduleMinutes}), got ${config.queuePausedAlarmMinutes}`);
  }
  return issues;
}
