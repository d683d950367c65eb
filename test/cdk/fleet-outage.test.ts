// What the stack does for a contact-service outage (issue #16), from one synthesis with the defaults:
// the mapping's concurrency, the queue's retention, the mesh-state table's grants, and mesh-health's
// control of exactly one event source mapping.
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadMeshConfig } from '../../shared/config/load-mesh-config.js';
import {
  actionsOf,
  allStatements,
  fnOf,
  functionsByService,
  resourcesOf,
  statementsOf,
  synthApp,
  type FunctionResource,
  type SynthesizedApp,
} from './synth-fixture.js';

let synth: SynthesizedApp;
let template: Template;
let functions: Record<string, FunctionResource>;
let mappingId: string;

beforeAll(() => {
  synth = synthApp();
  template = synth.functionsTemplate;
  functions = functionsByService(template);
  [mappingId] = Object.keys(template.findResources('AWS::Lambda::EventSourceMapping')) as [string];
});

const envOf = (service: string) => fnOf(functions, service).properties.Environment.Variables;
const meshStateOutput = () => {
  const [tableId] = Object.entries(synth.dataTemplate.findResources('AWS::DynamoDB::Table')).find(([, r]) => r.Properties.TimeToLiveSpecification) ?? [];
  const outputs = synth.dataTemplate.toJSON().Outputs as Record<string, { Value: unknown }>;
  return Object.entries(outputs).filter(([, o]) => JSON.stringify(o.Value).includes(`"${tableId}"`)).map(([name]) => name);
};

describe('grant-entitlements\' event source mapping', () => {
  it('polls with at most 20 concurrent instances, so a recovering contact-service gets at most 20 × the bulkhead', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: fnOf(functions, 'grant-entitlements').logicalId },
      ScalingConfig: { MaximumConcurrency: 20 },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('is named to mesh-health, which may get and update that mapping and no other', () => {
    expect(envOf('mesh-health').GRANT_EVENT_SOURCE_MAPPING_ID).toEqual({ Ref: mappingId });
    const onMappings = allStatements(template).filter((s) => actionsOf(s).some((a) => /EventSourceMapping/.test(a)));
    expect(onMappings).toHaveLength(1);
    const [statement] = onMappings;
    expect(actionsOf(statement!).sort()).toEqual(['lambda:GetEventSourceMapping', 'lambda:UpdateEventSourceMapping']);
    expect(resourcesOf(statement!)).toHaveLength(1);
    const resource = JSON.stringify(resourcesOf(statement!)[0]);
    expect(resource).toContain(':event-source-mapping:');
    expect(resource).toContain(`{"Ref":"${mappingId}"}`);
    expect(statementsOf(template, fnOf(functions, 'mesh-health'))).toContainEqual(statement);
  });
});

describe('the entitlement queue', () => {
  it('keeps messages 14 days, so a long outage expires nothing', () => {
    template.hasResourceProperties('AWS::SQS::Queue', { MessageRetentionPeriod: 1_209_600, RedrivePolicy: { maxReceiveCount: 12 } });
  });

  it('gives grant-entitlements the backoff schedule it validates at init', () => {
    expect(envOf('grant-entitlements')).toMatchObject({
      QUEUE_BACKOFF_ENABLED: 'true',
      QUEUE_BACKOFF_BASE_SECONDS: '60',
      QUEUE_BACKOFF_MAX_SECONDS: '43200',
    });
  });

  it('lets grant-entitlements change the visibility of the records it receives', () => {
    const sqsActions = statementsOf(template, fnOf(functions, 'grant-entitlements')).flatMap(actionsOf).filter((a) => a.startsWith('sqs:'));
    expect(sqsActions).toContain('sqs:ChangeMessageVisibility');
  });
});

describe('the shared breaker', () => {
  it.each(['grant-entitlements', 'get-user-info', 'mesh-health'])('%s shares its breakers through the mesh-state table with the mesh layer\'s defaults', (service) => {
    const env = envOf(service);
    expect(meshStateOutput().some((name) => JSON.stringify(env.MESH_STATE_TABLE).includes(`"${name}"`))).toBe(true);
    expect(env).toMatchObject({ CIRCUIT_BREAKER_SHARED: 'true', CIRCUIT_BREAKER_SHARED_READ_SECONDS: '5', CIRCUIT_BREAKER_SLOW_START_SECONDS: '30' });
    const literal = Object.fromEntries(Object.entries(env).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
    expect(loadMeshConfig({ ...literal, MESH_STATE_TABLE: 'mesh-state' }).sharedBreaker).toEqual({ table: 'mesh-state', readIntervalSeconds: 5, slowStartSeconds: 30 });
  });

  it.each(['grant-entitlements', 'get-user-info', 'mesh-health'])('%s may only GetItem and UpdateItem the mesh-state table', (service) => {
    const outputs = meshStateOutput();
    const onMeshState = statementsOf(template, fnOf(functions, service)).filter((s) => outputs.some((name) => JSON.stringify(s.Resource).includes(`"${name}"`)));
    expect(onMeshState.length).toBeGreaterThan(0);
    expect(onMeshState.flatMap(actionsOf).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
  });

  it('is unknown to payment-webhook, which never calls the mesh', () => {
    expect(envOf('payment-webhook').MESH_STATE_TABLE).toBeUndefined();
  });
});
