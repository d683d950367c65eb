import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { SecurityGroup, Vpc } from 'aws-cdk-lib/aws-ec2';
import { Key } from 'aws-cdk-lib/aws-kms';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { beforeAll, describe, expect, it } from 'vitest';
import { MeshFunction } from '../../cdk/constructs/mesh-function.js';
import { actionsOf, fnOf, functionsByService, statementsOf, type FunctionResource, type PolicyStatement, testAppProps } from './synth-fixture.js';

const KEY_ARN = 'arn:aws:kms:eu-central-1:123456789012:key/0d9c1b2a-0000-4000-8000-000000000001';
const COMPLETE_ARN = 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:spire/one-AbCdEf';

/** A stack holding one MeshFunction per way a secret can be referenced. */
let secretsTemplate: Template;
let secretFunctions: Record<string, FunctionResource>;

beforeAll(() => {
  const app = new App(testAppProps({ 'aws:cdk:bundling-stacks': [] }));
  const stack = new Stack(app, 'Secrets', { env: { account: '123456789012', region: 'eu-central-1' } });
  const vpc = Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-0123456789abcdef0',
    availabilityZones: ['eu-central-1a'],
    privateSubnetIds: ['subnet-0123456789abcdef1'],
  });
  Validations.of(vpc).acknowledge({ id: 'Annotation::@aws-cdk/aws-ec2:noSubnetRouteTableId', reason: 'no routes are read' });
  const securityGroup = new SecurityGroup(stack, 'Group', { vpc });
  const fn = (service: string) =>
    new MeshFunction(stack, service, {
      entry: 'functions/payment-webhook/handler.ts',
      serviceName: service,
      description: service,
      memorySize: 256,
      timeout: Duration.seconds(5),
      logRetention: RetentionDays.ONE_WEEK,
      logLevel: 'DEBUG',
      vpc,
      securityGroup,
    });
  fn('by-complete-arn').useSecret(Secret.fromSecretCompleteArn(stack, 'Complete', COMPLETE_ARN), 'THE_SECRET');
  fn('by-name').useSecret(Secret.fromSecretNameV2(stack, 'Named', 'spire/two'), 'THE_SECRET');
  fn('with-own-key').useSecret(
    Secret.fromSecretAttributes(stack, 'Keyed', { secretCompleteArn: COMPLETE_ARN, encryptionKey: Key.fromKeyArn(stack, 'Key', KEY_ARN) }),
    'THE_SECRET',
  );
  secretsTemplate = Template.fromStack(stack);
  secretFunctions = functionsByService(secretsTemplate);
});

describe('a MeshFunction', () => {
  const each = () => Object.values(secretFunctions);

  it('runs Node.js 24 on arm64, with the bundle ESM handler', () => {
    for (const fn of each()) {
      expect(fn.properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], Handler: 'index.handler' });
    }
  });

  it('traces with X-Ray', () => {
    for (const fn of each()) expect(fn.properties.TracingConfig).toEqual({ Mode: 'Active' });
  });

  it('logs to its own log group, kept for the given retention', () => {
    const groups = each().map((fn) => fn.properties.LoggingConfig?.LogGroup.Ref);
    expect(new Set(groups).size).toBe(3);
    for (const group of groups) {
      expect(secretsTemplate.toJSON().Resources[group ?? '']).toMatchObject({ Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: 7 } });
    }
  });

  it('has the given memory and timeout', () => {
    for (const fn of each()) expect(fn.properties).toMatchObject({ MemorySize: 256, Timeout: 5 });
  });

  it('runs in the given VPC subnets with the given security group', () => {
    for (const fn of each()) {
      expect(fn.properties.VpcConfig).toEqual({
        SubnetIds: ['subnet-0123456789abcdef1'],
        SecurityGroupIds: [{ 'Fn::GetAtt': [expect.stringMatching(/^Group/), 'GroupId'] }],
      });
    }
  });

  it('reports to the PaymentFunctions namespace under its service name, with no Node options by default', () => {
    for (const [service, fn] of Object.entries(secretFunctions)) {
      expect(fn.properties.Environment.Variables).toMatchObject({
        POWERTOOLS_SERVICE_NAME: service,
        POWERTOOLS_METRICS_NAMESPACE: 'PaymentFunctions',
        POWERTOOLS_LOG_LEVEL: 'DEBUG',
      });
      expect(Object.keys(fn.properties.Environment.Variables).filter((key) => key.startsWith('NODE_'))).toEqual([]);
    }
  });

  it('has no mesh identity unless it joins the mesh', () => {
    for (const fn of each()) {
      expect(Object.keys(fn.properties.Environment.Variables).filter((k) => /^(SERVICE_MESH_|SVID_|EXTERNAL_SERVICES_)/.test(k))).toEqual([]);
    }
  });
});

describe('useSecret', () => {
  const secretStatements = (service: string): PolicyStatement[] =>
    statementsOf(secretsTemplate, fnOf(secretFunctions, service)).filter((s) => actionsOf(s).some((a) => /^(secretsmanager|kms):/.test(a)));
  const env = (service: string) => fnOf(secretFunctions, service).properties.Environment.Variables.THE_SECRET;

  it('grants GetSecretValue on exactly a secret referenced by complete ARN, and names it by that ARN', () => {
    expect(secretStatements('by-complete-arn')).toEqual([{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: COMPLETE_ARN }]);
    expect(env('by-complete-arn')).toBe(COMPLETE_ARN);
  });

  it('grants GetSecretValue on a secret referenced by name with only the six-character suffix open, and names it by name', () => {
    expect(secretStatements('by-name')).toEqual([
      {
        Effect: 'Allow',
        Action: 'secretsmanager:GetSecretValue',
        Resource: 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:spire/two-??????',
      },
    ]);
    expect(env('by-name')).toBe('spire/two');
  });

  it('lets the function decrypt with the secret\'s own key only through Secrets Manager', () => {
    expect(secretStatements('with-own-key')).toEqual([
      { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: COMPLETE_ARN },
      {
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: KEY_ARN,
        Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.eu-central-1.amazonaws.com' } },
      },
    ]);
  });

  it('grants nothing else: not DescribeSecret, not a wildcard', () => {
    const all = ['by-complete-arn', 'by-name', 'with-own-key'].flatMap(secretStatements).flatMap(actionsOf);
    expect(new Set(all)).toEqual(new Set(['secretsmanager:GetSecretValue', 'kms:Decrypt']));
  });
});
