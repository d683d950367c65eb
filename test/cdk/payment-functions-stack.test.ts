import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { SYNTH_ARCHITECTURE } from '../../cdk/config.js';
import { loadMeshConfig } from '../../shared/config/load-mesh-config.js';
import {
  TEST_CONTEXT,
  actionsOf,
  allStatements,
  fnOf,
  functionsByService,
  resourcesOf,
  statementsOf,
  synthApp,
  type FunctionResource,
  type PolicyStatement,
  type SynthesizedApp,
} from './synth-fixture.js';

const SVID_SECRET_ARN = TEST_CONTEXT.svidSecretArn;
/** Referenced by name: the ARN Secrets Manager will have, whatever six characters it appended. */
const SIGNING_SECRET_ARN = `arn:aws:secretsmanager:eu-central-1:123456789012:secret:${TEST_CONTEXT.webhookSigningSecretName}-??????`;
const MESH_FUNCTIONS = ['grant-entitlements', 'get-user-info', 'mesh-health'] as const;

let synth: SynthesizedApp;
let template: Template;
let functions: Record<string, FunctionResource>;

beforeAll(() => {
  synth = synthApp({
    queueBatchSize: 25,
    queueMaxBatchingWindowSeconds: '4',
    grantEntitlementsTimeoutSeconds: 45,
    stripeEntitlementMap: { premium_monthly: 'premium_features' },
    stripeRevokeOnDispute: 'false',
  });
  template = synth.functionsTemplate;
  functions = functionsByService(template);
});

/** The environment variables of a function (CloudFormation expressions for what deploy resolves). */
function envOf(service: string): Record<string, unknown> {
  return fnOf(functions, service).properties.Environment.Variables;
}

/** The variables already known at synth, as the function will read them. */
/** The literal variables of `service`, with a stand-in name for the mesh-state table (a deploy-time reference). */
function literalEnvOf(service: string): Record<string, string> {
  const env = envOf(service);
  const literal = Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
  return env.MESH_STATE_TABLE === undefined ? literal : { ...literal, MESH_STATE_TABLE: 'mesh-state' };
}

function logicalIdOf(type: string, props: Record<string, unknown>): string {
  const [id] = Object.keys(template.findResources(type, { Properties: props }));
  if (id === undefined) throw new Error(`no ${type} with ${JSON.stringify(props)}`);
  return id;
}

describe('the HTTP API', () => {
  it('routes POST /webhooks/payments to payment-webhook without AWS authorisation', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: 'POST /webhooks/payments',
      AuthorizationType: 'NONE',
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationUri: { 'Fn::GetAtt': [fnOf(functions, 'payment-webhook').logicalId, 'Arn'] },
    });
  });

  it('routes GET /users/{userId} to get-user-info behind IAM authorisation', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: 'GET /users/{userId}',
      AuthorizationType: 'AWS_IAM',
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationUri: { 'Fn::GetAtt': [fnOf(functions, 'get-user-info').logicalId, 'Arn'] },
    });
  });

  it('has exactly these two routes', () => {
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map((r) => r.Properties.RouteKey);
    expect(routes.sort()).toEqual(['GET /users/{userId}', 'POST /webhooks/payments']);
  });

  it('logs access, throttles and publishes per-route metrics on its default stage', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      AccessLogSettings: { DestinationArn: Match.anyValue() },
      DefaultRouteSettings: { DetailedMetricsEnabled: true, ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
    });
  });
});

describe('the entitlement queue', () => {
  it('sends a record to the dead-letter queue after 12 receives, which the backoff spreads over more than a day', () => {
    const [dlq] = Object.entries(template.findResources('AWS::SQS::Queue')).find(([, r]) => r.Properties.RedrivePolicy === undefined) ?? [];
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlq, 'Arn'] }, maxReceiveCount: 12 },
    });
  });

  it('keeps a batch invisible for at least six times the worker timeout', () => {
    const [queue] = Object.values(template.findResources('AWS::SQS::Queue', { Properties: { RedrivePolicy: Match.anyValue() } }));
    const worker = fnOf(functions, 'grant-entitlements').properties.Timeout;
    expect(worker).toBe(45);
    expect(queue?.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * worker + 4);
  });

  it('encrypts both queues at rest', () => {
    const queues = Object.values(template.findResources('AWS::SQS::Queue'));
    expect(queues).toHaveLength(2);
    for (const queue of queues) expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
  });

  it('refuses requests without TLS on both queues', () => {
    const policies = Object.values(template.findResources('AWS::SQS::QueuePolicy'));
    expect(policies).toHaveLength(2);
    for (const policy of policies) {
      expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
    }
  });

  it('feeds grant-entitlements in batches that report item failures, with the configured size and window', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: fnOf(functions, 'grant-entitlements').logicalId },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 25,
      MaximumBatchingWindowInSeconds: 4,
    });
  });

  it('is the queue payment-webhook sends to', () => {
    const queue = logicalIdOf('AWS::SQS::Queue', { RedrivePolicy: Match.anyValue() });
    expect(envOf('payment-webhook').QUEUE_URL).toEqual({ Ref: queue });
    const sends = statementsOf(template, fnOf(functions, 'payment-webhook')).filter((s) => actionsOf(s).includes('sqs:SendMessage'));
    expect(sends.map(resourcesOf)).toEqual([[{ 'Fn::GetAtt': [queue, 'Arn'] }]]);
  });
});

describe('mesh-health', () => {
  it('runs every minute, without retries', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [{ Arn: { 'Fn::GetAtt': [fnOf(functions, 'mesh-health').logicalId, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 0 } }],
    });
  });
});

describe('the functions', () => {
  it('are the four handlers, each its own service', () => {
    expect(Object.keys(functions).sort()).toEqual(['get-user-info', 'grant-entitlements', 'mesh-health', 'payment-webhook']);
  });

  it('are all house functions: Node.js 24 on arm64, traced, each with its own log group', () => {
    for (const fn of Object.values(functions)) {
      expect(fn.properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], TracingConfig: { Mode: 'Active' } });
    }
    expect(new Set(Object.values(functions).map((fn) => fn.properties.LoggingConfig?.LogGroup.Ref)).size).toBe(4);
  });

  it('take the bundling knobs from the context: architecture, source maps, compile cache', () => {
    const knobs = functionsByService(synthApp({ architecture: SYNTH_ARCHITECTURE, sourceMaps: 'true', compileCache: 'true' }).functionsTemplate);
    for (const fn of Object.values(knobs)) {
      expect(fn.properties.Architectures).toEqual([SYNTH_ARCHITECTURE]);
      expect(fn.properties.Environment.Variables).toMatchObject({
        NODE_OPTIONS: '--enable-source-maps',
        NODE_COMPILE_CACHE: '/var/task/.node-compile-cache',
        NODE_COMPILE_CACHE_PORTABLE: '1',
      });
    }
  });

  it('have the memory and timeout configured for each', () => {
    const sizing = Object.fromEntries(Object.entries(functions).map(([service, fn]) => [service, [fn.properties.MemorySize, fn.properties.Timeout]]));
    expect(sizing).toEqual({
      'payment-webhook': [256, 10],
      'grant-entitlements': [512, 45],
      'get-user-info': [512, 10],
      'mesh-health': [256, 30],
    });
  });

  it('run in the mesh VPC private subnets with the functions security group', () => {
    const group = logicalIdOf('AWS::EC2::SecurityGroup', { VpcId: TEST_CONTEXT.vpcId });
    for (const fn of Object.values(functions)) {
      expect(fn.properties.VpcConfig).toEqual({
        SubnetIds: [...TEST_CONTEXT.privateSubnetIds],
        SecurityGroupIds: [{ 'Fn::GetAtt': [group, 'GroupId'] }],
      });
    }
  });

  it('accept no inbound traffic', () => {
    template.hasResourceProperties('AWS::EC2::SecurityGroup', { VpcId: TEST_CONTEXT.vpcId, SecurityGroupIngress: Match.absent() });
    template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
  });

  it.each(MESH_FUNCTIONS)('%s gets an environment the mesh layer accepts, naming the SVID secret and contact-service', (service) => {
    const config = loadMeshConfig(literalEnvOf(service));
    expect(config).toMatchObject({
      enabled: true,
      mtlsEnabled: true,
      spiffeId: expect.objectContaining({ path: '/payment-functions' }),
      discovery: { namespace: TEST_CONTEXT.namespaceName, scheme: 'cloudmap', dnsFirst: false, order: ['cloudmap', 'dns', 'static'] },
      svid: { secretId: SVID_SECRET_ARN },
      circuitBreaker: { failureThreshold: 5, successThreshold: 2, timeoutSeconds: 60, halfOpenMaxCalls: 3 },
    });
    expect(config.services['contact-service']).toMatchObject({ spiffeId: 'spiffe://jia.app/contact-service', timeoutSeconds: 5 });
  });

  it('gives payment-webhook no mesh identity: it never calls the mesh', () => {
    const env = envOf('payment-webhook');
    expect(Object.keys(env).filter((k) => /^(SERVICE_MESH_|EXTERNAL_SERVICES_|SVID_|MTLS_|CIRCUIT_BREAKER_)/.test(k))).toEqual([]);
  });

  it('name the entitlements table to the functions that use it, and only to them', () => {
    const [tableId] = Object.keys(synth.dataTemplate.findResources('AWS::DynamoDB::Table'));
    const outputs = synth.dataTemplate.toJSON().Outputs as Record<string, { Value: unknown }>;
    const [tableName] = Object.entries(outputs).find(([, output]) => JSON.stringify(output.Value) === JSON.stringify({ Ref: tableId })) ?? [];
    expect(tableName).toBeDefined();
    // A weak reference (cdk.json's recommended flags): no export ties the data stack to this one.
    const reference = { 'Fn::GetStackOutput': expect.objectContaining({ StackName: 'PaymentFunctions-data', OutputName: tableName }) };
    expect(envOf('grant-entitlements').ENTITLEMENTS_TABLE).toEqual(reference);
    expect(envOf('get-user-info').ENTITLEMENTS_TABLE).toEqual(reference);
    expect(envOf('payment-webhook').ENTITLEMENTS_TABLE).toBeUndefined();
    expect(envOf('mesh-health').ENTITLEMENTS_TABLE).toBeUndefined();
  });

  it('let grant-entitlements write the table and get-user-info only read it', () => {
    // Only the entitlements table's statements (the functions also share the mesh-state table).
    const [tableId] = Object.entries(synth.dataTemplate.findResources('AWS::DynamoDB::Table')).find(([, r]) => r.Properties.DeletionProtectionEnabled) ?? [];
    const outputs = Object.entries(synth.dataTemplate.toJSON().Outputs as Record<string, { Value: unknown }>)
      .filter(([, output]) => JSON.stringify(output.Value).includes(`"${tableId}"`))
      .map(([name]) => name);
    expect(outputs.length).toBeGreaterThan(0);
    const onEntitlements = (statement: PolicyStatement) => outputs.some((name) => JSON.stringify(statement.Resource).includes(`"${name}"`));
    const dynamoActions = (service: string) =>
      statementsOf(template, fnOf(functions, service))
        .filter(onEntitlements)
        .flatMap(actionsOf)
        .filter((a) => a.startsWith('dynamodb:'));
    expect(dynamoActions('grant-entitlements')).toEqual(expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:UpdateItem']));
    expect(dynamoActions('get-user-info')).not.toEqual(expect.arrayContaining(['dynamodb:PutItem']));
    expect(dynamoActions('get-user-info').filter((a) => /Put|Update|Delete|Write/.test(a))).toEqual([]);
    expect(dynamoActions('payment-webhook')).toEqual([]);
    expect(dynamoActions('mesh-health')).toEqual([]);
  });
});

describe('secrets', () => {
  const secretStatements = (service: string) =>
    statementsOf(template, fnOf(functions, service)).filter((s) => actionsOf(s).some((a) => a.startsWith('secretsmanager:')));

  it('no policy statement grants a secretsmanager action on *', () => {
    const onSecrets = allStatements(template).filter((s) => actionsOf(s).some((a) => a.startsWith('secretsmanager:')));
    expect(onSecrets.length).toBeGreaterThan(0);
    for (const statement of onSecrets) {
      for (const resource of resourcesOf(statement)) expect(JSON.stringify(resource)).not.toMatch(/"\*"|:\*"|secret:\*/);
    }
  });

  it.each(MESH_FUNCTIONS)('%s may only GetSecretValue on the SVID secret, by its exact ARN', (service) => {
    expect(secretStatements(service)).toEqual([{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: SVID_SECRET_ARN }]);
    expect(envOf(service).SVID_SECRET_ID).toBe(SVID_SECRET_ARN);
  });

  it('payment-webhook may only GetSecretValue on the signing secret, by name with the generated suffix', () => {
    expect(secretStatements('payment-webhook')).toEqual([
      { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: SIGNING_SECRET_ARN },
    ]);
    expect(envOf('payment-webhook').WEBHOOK_SIGNING_SECRET_ID).toBe(TEST_CONTEXT.webhookSigningSecretName);
  });

  it('creates no secret: SPIRE owns the SVID secret', () => {
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
  });
});

describe('alarms', () => {
  it('notify the configured topic when they fire and when they recover', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms.length).toBeGreaterThan(0);
    for (const alarm of alarms) {
      expect(alarm.Properties).toMatchObject({ AlarmActions: [TEST_CONTEXT.alarmTopicArn], OKActions: [TEST_CONTEXT.alarmTopicArn] });
    }
    template.resourceCountIs('AWS::SNS::Topic', 0);
  });
});

describe('Cloud Map discovery', () => {
  const discoveryStatements = (service: string) =>
    statementsOf(template, fnOf(functions, service)).filter((s) => actionsOf(s).some((a) => a.startsWith('servicediscovery:')));

  it.each(MESH_FUNCTIONS)('%s may only discover the contact-service in the mesh namespace', (service) => {
    expect(discoveryStatements(service)).toEqual([
      {
        Effect: 'Allow',
        Action: ['servicediscovery:DiscoverInstances', 'servicediscovery:DiscoverInstancesRevision'],
        Resource: [TEST_CONTEXT.namespaceArn, 'arn:aws:servicediscovery:eu-central-1:123456789012:service/*'],
        Condition: {
          StringEquals: {
            'servicediscovery:NamespaceName': TEST_CONTEXT.namespaceName,
            'servicediscovery:ServiceName': ['contact-service'],
          },
        },
      },
    ]);
  });

  it('payment-webhook may not discover anything', () => {
    expect(discoveryStatements('payment-webhook')).toEqual([]);
  });
});

describe('Stripe event settings', () => {
  it('reach payment-webhook as its STRIPE_* variables, the defaults stated, the unset ones left to the code', () => {
    const env = literalEnvOf('payment-webhook');

    expect(env['STRIPE_ENTITLEMENT_MAP']).toBe('{"premium_monthly":"premium_features"}');
    expect(env['STRIPE_REVOKE_ON_REFUND']).toBe('true');
    expect(env['STRIPE_REVOKE_ON_DISPUTE']).toBe('false');
    expect(env).not.toHaveProperty('STRIPE_PAST_DUE_GRACE_SECONDS');
    expect(env).not.toHaveProperty('STRIPE_DEFAULT_ENTITLEMENT');
    expect(literalEnvOf('grant-entitlements')).not.toHaveProperty('STRIPE_REVOKE_ON_REFUND');
  });
});
