// Synthesises the app the way cdk/app.ts wires it, with test context and without bundling (the
// bundles are built once, by the `cdk synth` test). Each test file synthesises once, in beforeAll.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type AppProps } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { appConfigFromContext, type AppConfig } from '../../cdk/config.js';
import { EntitlementsDataStack } from '../../cdk/stacks/entitlements-data-stack.js';
import { PaymentFunctionsStack } from '../../cdk/stacks/payment-functions-stack.js';

/** A complete mesh description, unlike cdk.json's examples: the SVID by ARN, the webhook secret by name. */
export const TEST_CONTEXT = {
  account: '123456789012',
  region: 'eu-central-1',
  vpcId: 'vpc-0123456789abcdef0',
  availabilityZones: ['eu-central-1a', 'eu-central-1b'],
  privateSubnetIds: ['subnet-0123456789abcdef1', 'subnet-0123456789abcdef2'],
  namespaceName: 'mesh.test.jia.app',
  namespaceId: 'ns-abcdefghijklmnop',
  namespaceArn: 'arn:aws:servicediscovery:eu-central-1:123456789012:namespace/ns-abcdefghijklmnop',
  svidSecretArn: 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:spire/payment-functions-AbCdEf',
  webhookSigningSecretName: 'stripe/webhook-signing',
  alarmTopicArn: 'arn:aws:sns:eu-central-1:123456789012:on-call',
} as const;

/** The feature flags cdk.json sets, so the tests synthesise what `cdk synth` does (not its example mesh). */
export const FEATURE_FLAGS = Object.fromEntries(
  Object.entries(JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')).context as Record<string, unknown>).filter(
    ([key]) => key.startsWith('@aws-cdk'),
  ),
);

/**
 * App props for every test app: cdk.json's flags, and no built-in CloudFormation schema validation,
 * which costs ~10 s per test process; the `cdk synth` test runs it, as every user synth does.
 */
export function testAppProps(context: Record<string, unknown> = {}): AppProps {
  return {
    builtinCloudFormationValidation: false,
    outdir: mkdtempSync(join(tmpdir(), 'cdk-test-')),
    context: { ...FEATURE_FLAGS, ...context },
  };
}

export interface SynthesizedApp {
  app: App;
  config: AppConfig;
  data: EntitlementsDataStack;
  functions: PaymentFunctionsStack;
  dataTemplate: Template;
  functionsTemplate: Template;
}

/** Builds and synthesises the app; `context` overrides or removes (`undefined`) test context keys. */
export function synthApp(context: Record<string, unknown> = {}): SynthesizedApp {
  const app = new App(testAppProps({ ...TEST_CONTEXT, ...context, 'aws:cdk:bundling-stacks': [] }));
  // No CDK_DEFAULT_* from whoever runs the tests: the context alone decides.
  const config = appConfigFromContext(app.node, {});
  const env = { account: config.account, region: config.region };
  const data = new EntitlementsDataStack(app, `${config.stackPrefix}-data`, { env, config });
  const functions = new PaymentFunctionsStack(app, config.stackPrefix, { env, config, table: data.table, meshStateTable: data.meshStateTable });
  app.synth();
  return {
    app,
    config,
    data,
    functions,
    dataTemplate: Template.fromStack(data),
    functionsTemplate: Template.fromStack(functions),
  };
}

export interface FunctionResource {
  logicalId: string;
  properties: {
    Runtime: string;
    Architectures: string[];
    Handler: string;
    MemorySize: number;
    Timeout: number;
    TracingConfig?: { Mode: string };
    Environment: { Variables: Record<string, unknown> };
    VpcConfig?: { SubnetIds: unknown[]; SecurityGroupIds: unknown[] };
    LoggingConfig?: { LogGroup: { Ref: string } };
    Role: { 'Fn::GetAtt': [string, string] };
  };
}

/** The Lambda functions of a template by `POWERTOOLS_SERVICE_NAME`. */
export function functionsByService(template: Template): Record<string, FunctionResource> {
  const found: Record<string, FunctionResource> = {};
  for (const [logicalId, resource] of Object.entries(template.findResources('AWS::Lambda::Function'))) {
    const properties = resource.Properties as FunctionResource['properties'];
    const service = properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME;
    if (typeof service === 'string') found[service] = { logicalId, properties };
  }
  return found;
}

export interface PolicyStatement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

/** Every inline statement granted to the execution role of `fn`. */
export function statementsOf(template: Template, fn: FunctionResource): PolicyStatement[] {
  const role = fn.properties.Role['Fn::GetAtt'][0];
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((policy) => (policy.Properties.Roles as unknown[]).some((r) => JSON.stringify(r) === JSON.stringify({ Ref: role })))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as PolicyStatement[]);
}

/** Every inline statement in the template, whoever holds it. */
export function allStatements(template: Template): PolicyStatement[] {
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
    (policy) => policy.Properties.PolicyDocument.Statement as PolicyStatement[],
  );
}

/** The actions of a statement as a list. */
export function actionsOf(statement: PolicyStatement): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

/** The resources of a statement as a list. */
export function resourcesOf(statement: PolicyStatement): unknown[] {
  return Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
}

/** Looks a function up by service name, failing the test with the names there are. */
export function fnOf(functions: Record<string, FunctionResource>, service: string): FunctionResource {
  const fn = functions[service];
  if (fn === undefined) throw new Error(`no function ${service}; there are ${Object.keys(functions).join(', ')}`);
  return fn;
}
