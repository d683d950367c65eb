import { ArnFormat, CfnOutput, Duration, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import { HttpApi, HttpMethod, HttpStage, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer, HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { SecurityGroup, Vpc } from 'aws-cdk-lib/aws-ec2';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Key } from 'aws-cdk-lib/aws-kms';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Secret, type ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { HttpNamespace, PrivateDnsNamespace, PublicDnsNamespace, type INamespace } from 'aws-cdk-lib/aws-servicediscovery';
import { Topic, type ITopic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { AppConfig } from '../config.js';
import { MeshFunction, type MeshMembership } from '../constructs/mesh-function.js';
import { OnCallDashboard } from '../constructs/on-call-dashboard.js';
import { PaymentAlarms } from '../constructs/payment-alarms.js';
import { jwtSvidEnvironment } from '../user-api-config.js';

export interface PaymentFunctionsStackProps extends StackProps {
  readonly config: AppConfig;
  /** The entitlements table, owned by the data stack. */
  readonly table: ITable;
  /** The fleet's shared breakers, owned by the data stack. */
  readonly meshStateTable: ITable;
}

/**
 * AWS recommends an SQS visibility timeout of at least six times the consumer's timeout (plus its
 * batching window), so a batch Lambda retries after throttling is not delivered twice meanwhile.
 */
const VISIBILITY_TIMEOUT_FACTOR = 6;

/** Everything stateless: the four functions and what triggers them, the queue, alarms and dashboard. */
export class PaymentFunctionsStack extends Stack {
  readonly api: HttpApi;
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly functions: Readonly<Record<'paymentWebhook' | 'grantEntitlements' | 'getUserInfo' | 'meshHealth', MeshFunction>>;
  readonly alarms: PaymentAlarms;
  /** grant-entitlements' SQS event source: mesh-health pauses and resumes its mapping. */
  readonly entitlementEventSource: SqsEventSource;

  constructor(scope: Construct, id: string, props: PaymentFunctionsStackProps) {
    super(scope, id, props);
    const { config } = props;

    const vpc = Vpc.fromVpcAttributes(this, 'MeshVpc', {
      vpcId: config.vpcId,
      availabilityZones: config.availabilityZones,
      privateSubnetIds: config.privateSubnetIds,
    });
    Validations.of(vpc).acknowledge({
      id: 'Annotation::@aws-cdk/aws-ec2:noSubnetRouteTableId',
      reason: 'Lambda placement needs subnet ids only; nothing here reads or changes the mesh VPC\'s routes.',
    });
    const securityGroup = new SecurityGroup(this, 'FunctionsSecurityGroup', {
      vpc,
      description: 'payment-functions Lambdas: no inbound; outbound to AWS APIs and mesh services',
      allowAllOutbound: true,
    });
    const common = {
      vpc,
      securityGroup,
      logRetention: config.logRetentionDays,
      logLevel: config.logLevel,
      bundleAwsSdk: config.bundleAwsSdk,
      sourceMaps: config.sourceMaps,
      compileCache: config.compileCache,
      architecture: config.architecture,
      ...(config.secretsExtension ? { secretsExtension: { cacheTtl: Duration.seconds(config.secretsExtensionCacheTtlSeconds) } } : {}),
    };
    const mesh: MeshMembership = {
      spiffeId: config.spiffeId,
      svidSecret: importSecret(this, 'SvidSecret', config.svidSecretArn, config.svidSecretName, config.svidSecretKmsKeyArn),
      namespace: importNamespace(this, config),
      discoveryScheme: config.discoveryScheme,
      discoveryDnsFirst: config.discoveryDnsFirst,
      mtlsEnabled: config.mtlsEnabled,
      circuitBreaker: {
        failureThreshold: config.circuitBreakerFailureThreshold,
        successThreshold: config.circuitBreakerSuccessThreshold,
        timeoutSeconds: config.circuitBreakerTimeoutSeconds,
        halfOpenMaxCalls: config.circuitBreakerHalfOpenMaxCalls,
      },
      sharedBreaker: {
        table: props.meshStateTable,
        enabled: config.circuitBreakerShared,
        readSeconds: config.circuitBreakerSharedReadSeconds,
        slowStartSeconds: config.circuitBreakerSlowStartSeconds,
      },
      services: [
        {
          key: 'CONTACT_SERVICE',
          name: config.contactServiceName,
          spiffeId: config.contactServiceSpiffeId,
          timeoutSeconds: config.contactServiceTimeoutSeconds,
          ...(config.contactServiceAddress === undefined ? {} : { address: config.contactServiceAddress }),
        },
      ],
    };

    // Webhook → queue → grant-entitlements.
    const grantEntitlements = new MeshFunction(this, 'GrantEntitlements', {
      entry: 'functions/grant-entitlements/handler.ts',
      serviceName: 'grant-entitlements',
      description: 'Grants or revokes entitlements for every member of the purchaser\'s family',
      memorySize: config.grantEntitlementsMemoryMb,
      timeout: Duration.seconds(config.grantEntitlementsTimeoutSeconds),
      mesh,
      ...common,
    });
    const batchingWindow = Duration.seconds(config.queueMaxBatchingWindowSeconds);
    this.deadLetterQueue = new Queue(this, 'EntitlementDeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new Queue(this, 'EntitlementQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // Paid events wait out a long outage here, paused or backing off, rather than expire.
      retentionPeriod: Duration.days(config.queueRetentionDays),
      visibilityTimeout: Duration.seconds(
        VISIBILITY_TIMEOUT_FACTOR * config.grantEntitlementsTimeoutSeconds + batchingWindow.toSeconds(),
      ),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: config.queueMaxReceiveCount },
    });
    this.entitlementEventSource = new SqsEventSource(this.queue, {
      batchSize: config.queueBatchSize,
      maxBatchingWindow: batchingWindow,
      reportBatchItemFailures: true,
      // Bounds the calls a recovering contact-service gets: at most this × the bulkhead in flight.
      maxConcurrency: config.queueMaximumConcurrency,
    });
    grantEntitlements.addEventSource(this.entitlementEventSource);
    grantEntitlements.addEnvironment('QUEUE_BACKOFF_ENABLED', String(config.queueBackoffEnabled));
    grantEntitlements.addEnvironment('QUEUE_BACKOFF_BASE_SECONDS', String(config.queueBackoffBaseSeconds));
    grantEntitlements.addEnvironment('QUEUE_BACKOFF_MAX_SECONDS', String(config.queueBackoffMaxSeconds));
    grantEntitlements.useTable(props.table, 'ENTITLEMENTS_TABLE', 'readWrite');

    // The webhook never calls the mesh: a mesh outage must not slow Stripe's delivery down.
    const paymentWebhook = new MeshFunction(this, 'PaymentWebhook', {
      entry: 'functions/payment-webhook/handler.ts',
      serviceName: 'payment-webhook',
      description: 'Verifies Stripe payment webhooks and queues entitlement commands',
      memorySize: config.paymentWebhookMemoryMb,
      timeout: Duration.seconds(config.paymentWebhookTimeoutSeconds),
      ...common,
    });
    paymentWebhook.useQueue(this.queue, 'QUEUE_URL');
    // How Stripe events map onto entitlements (README "Stripe events"); unset keys keep the code's defaults.
    paymentWebhook.addEnvironment('STRIPE_REVOKE_ON_REFUND', String(config.stripeRevokeOnRefund));
    paymentWebhook.addEnvironment('STRIPE_REVOKE_ON_DISPUTE', String(config.stripeRevokeOnDispute));
    if (config.stripeEntitlementMap !== undefined) paymentWebhook.addEnvironment('STRIPE_ENTITLEMENT_MAP', config.stripeEntitlementMap);
    if (config.stripeDefaultEntitlement !== undefined) paymentWebhook.addEnvironment('STRIPE_DEFAULT_ENTITLEMENT', config.stripeDefaultEntitlement);
    if (config.stripePastDueGraceSeconds !== undefined) {
      paymentWebhook.addEnvironment('STRIPE_PAST_DUE_GRACE_SECONDS', String(config.stripePastDueGraceSeconds));
    }
    paymentWebhook.useSecret(
      importSecret(
        this,
        'WebhookSigningSecret',
        config.webhookSigningSecretArn,
        config.webhookSigningSecretName,
        config.webhookSigningSecretKmsKeyArn,
      ),
      'WEBHOOK_SIGNING_SECRET_ID',
    );

    const getUserInfo = new MeshFunction(this, 'GetUserInfo', {
      entry: 'functions/get-user-info/handler.ts',
      serviceName: 'get-user-info',
      description: 'Serves a user\'s contact info and entitlements',
      memorySize: config.getUserInfoMemoryMb,
      timeout: Duration.seconds(config.getUserInfoTimeoutSeconds),
      mesh,
      ...common,
    });
    getUserInfo.useTable(props.table, 'ENTITLEMENTS_TABLE', 'read');
    for (const [name, value] of Object.entries(jwtSvidEnvironment(config))) getUserInfo.addEnvironment(name, value);

    const meshHealth = new MeshFunction(this, 'MeshHealth', {
      entry: 'functions/mesh-health/handler.ts',
      serviceName: 'mesh-health',
      description: 'Probes every mesh service and reports service_up, breaker state and SVID expiry',
      memorySize: config.meshHealthMemoryMb,
      timeout: Duration.seconds(config.meshHealthTimeoutSeconds),
      mesh,
      ...common,
    });
    // mesh-health pauses and resumes grant-entitlements' consumption: that one mapping, nothing else.
    meshHealth.addEnvironment('GRANT_EVENT_SOURCE_MAPPING_ID', this.entitlementEventSource.eventSourceMappingId);
    meshHealth.addToRolePolicy(
      new PolicyStatement({
        actions: ['lambda:GetEventSourceMapping', 'lambda:UpdateEventSourceMapping'],
        resources: [this.entitlementEventSource.eventSourceMappingArn],
      }),
    );
    const meshHealthInterval = Duration.minutes(config.meshHealthScheduleMinutes);
    // The next scheduled run is the retry: a repeated probe would only double-count.
    meshHealth.configureAsyncInvoke({ retryAttempts: 0 });
    new Rule(this, 'MeshHealthSchedule', {
      description: 'Runs mesh-health',
      schedule: Schedule.rate(meshHealthInterval),
      targets: [new LambdaFunction(meshHealth, { retryAttempts: 0 })],
    });

    this.api = this.#httpApi(config, paymentWebhook, getUserInfo);
    this.functions = { paymentWebhook, grantEntitlements, getUserInfo, meshHealth };

    this.alarms = new PaymentAlarms(this, 'Alarms', {
      deadLetterQueue: this.deadLetterQueue,
      functions: Object.values(this.functions),
      meshHealthInterval,
      svidExpiryThresholdSeconds: config.svidExpiryAlarmSeconds,
      consumptionPausedAlarmMinutes: config.queuePausedAlarmMinutes,
      ...alarmAction(this, config),
    });
    new OnCallDashboard(this, 'OnCall', {
      dashboardName: config.dashboardName,
      api: this.api,
      queue: this.queue,
      deadLetterQueue: this.deadLetterQueue,
      webhook: paymentWebhook,
      functions: Object.values(this.functions),
      alarms: this.alarms.all,
      svidExpiryThresholdSeconds: config.svidExpiryAlarmSeconds,
    });

    new CfnOutput(this, 'ApiUrl', { value: this.api.apiEndpoint, description: 'Base URL of the HTTP API' });
    new CfnOutput(this, 'FunctionsSecurityGroupId', {
      value: securityGroup.securityGroupId,
      description: 'Allow this group in the mesh services\' ingress rules',
    });
  }

  /**
   * `POST /webhooks/payments` (Stripe signs it; no AWS auth) and `GET /users/{userId}`: IAM, or
   * with `jwt-svid` no AWS auth (the function validates the caller's JWT-SVID), optionally behind
   * an API Gateway JWT authorizer trusting `jwtSvidIssuer`.
   */
  #httpApi(config: AppConfig, paymentWebhook: MeshFunction, getUserInfo: MeshFunction): HttpApi {
    const api = new HttpApi(this, 'PaymentApi', {
      description: 'payment-functions: Stripe webhooks and user info',
      createDefaultStage: false,
    });
    const accessLogs = new LogGroup(this, 'PaymentApiAccessLogs', { retention: config.logRetentionDays });
    new HttpStage(this, 'PaymentApiDefaultStage', {
      httpApi: api,
      autoDeploy: true,
      accessLogSettings: { destination: new LogGroupLogDestination(accessLogs) },
      throttle: { rateLimit: config.apiThrottleRateLimit, burstLimit: config.apiThrottleBurstLimit },
      // Per-route Count, 4xx, 5xx and latency for the dashboard.
      detailedMetricsEnabled: true,
    });
    const [webhookRoute] = api.addRoutes({
      path: '/webhooks/payments',
      methods: [HttpMethod.POST],
      integration: new HttpLambdaIntegration('PaymentWebhookIntegration', paymentWebhook),
    });
    const [userRoute] = api.addRoutes({
      path: '/users/{userId}',
      methods: [HttpMethod.GET],
      integration: new HttpLambdaIntegration('GetUserInfoIntegration', getUserInfo),
      authorizer: userApiAuthorizer(config),
    });
    if (userRoute && config.userApiAuthorization === 'jwt-svid' && config.jwtSvidIssuer === undefined) {
      Validations.of(userRoute).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          'Mesh workloads have no AWS credentials; get-user-info authenticates every request by its JWT-SVID (JWT-SVID spec validation against the trust domain bundle, caller SPIFFE ID on an allow-list) before reading anything, and the stage is throttled.',
      });
    }
    if (webhookRoute) {
      Validations.of(webhookRoute).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          'Stripe cannot sign requests with SigV4 or present a token; every webhook is authenticated by its Stripe-Signature (HMAC-SHA256 over the raw body, with a timestamp tolerance) before anything is queued, and the stage is throttled.',
      });
    }
    return api;
  }
}

/**
 * The authorizer of `GET /users/{userId}`: IAM by default; with `jwt-svid`, API Gateway's JWT
 * authorizer when an issuer is configured (a first filter: it checks signature, `iss`, `aud` and
 * `exp`, but cannot check `sub` against the allow-list, so the function still validates), else none.
 */
function userApiAuthorizer(config: AppConfig): HttpIamAuthorizer | HttpJwtAuthorizer | undefined {
  if (config.userApiAuthorization === 'iam') return new HttpIamAuthorizer();
  if (config.jwtSvidIssuer === undefined) return undefined;
  return new HttpJwtAuthorizer('JwtSvidAuthorizer', config.jwtSvidIssuer, {
    jwtAudience: [config.jwtSvidAudience ?? config.spiffeId],
    identitySource: ['$request.header.Authorization'],
  });
}

/**
 * The mesh's Cloud Map namespace, owned elsewhere, imported by attributes as the kind
 * `namespaceType` says it is (which decides whether DNS can answer for it).
 */
function importNamespace(scope: Construct, config: AppConfig): INamespace {
  const attributes = { namespaceName: config.namespaceName, namespaceId: config.namespaceId, namespaceArn: config.namespaceArn };
  switch (config.namespaceType) {
    case 'dns-private':
      return PrivateDnsNamespace.fromPrivateDnsNamespaceAttributes(scope, 'MeshNamespace', attributes);
    case 'dns-public':
      return PublicDnsNamespace.fromPublicDnsNamespaceAttributes(scope, 'MeshNamespace', attributes);
    case 'http':
      return HttpNamespace.fromHttpNamespaceAttributes(scope, 'MeshNamespace', attributes);
  }
}

/**
 * A secret SPIRE (or whoever manages the Stripe secret) owns, referenced by its complete ARN or
 * by name, with its customer-managed key when it has one.
 */
function importSecret(scope: Construct, id: string, arn?: string, name?: string, kmsKeyArn?: string): ISecret {
  const encryptionKey = kmsKeyArn === undefined ? undefined : Key.fromKeyArn(scope, `${id}Key`, kmsKeyArn);
  if (arn !== undefined) return Secret.fromSecretAttributes(scope, id, { secretCompleteArn: arn, encryptionKey });
  const partialArn = Stack.of(scope).formatArn({
    service: 'secretsmanager',
    resource: 'secret',
    resourceName: name,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
  return Secret.fromSecretAttributes(scope, id, { secretPartialArn: partialArn, encryptionKey });
}

/** The alarm action: the configured topic, a new topic mailing `alarmEmail`, or none. */
function alarmAction(scope: Construct, config: AppConfig): { action?: SnsAction } {
  let topic: ITopic | undefined;
  if (config.alarmTopicArn !== undefined) {
    topic = Topic.fromTopicArn(scope, 'AlarmTopic', config.alarmTopicArn);
  } else if (config.alarmEmail !== undefined) {
    const created = new Topic(scope, 'AlarmTopic', { displayName: 'payment-functions alarms', enforceSSL: true });
    created.addSubscription(new EmailSubscription(config.alarmEmail));
    topic = created;
  }
  return topic === undefined ? {} : { action: new SnsAction(topic) };
}
