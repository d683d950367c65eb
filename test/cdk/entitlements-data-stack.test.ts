import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { EntitlementsDataStack } from '../../cdk/stacks/entitlements-data-stack.js';
import { testAppProps } from './synth-fixture.js';

let template: Template;

beforeAll(() => {
  // The data stack needs nothing from the rest of the app: synthesise it alone.
  const app = new App(testAppProps());
  template = Template.fromStack(new EntitlementsDataStack(app, 'PaymentFunctions-data', { config: {} }));
});

const ENTITLEMENTS_KEY = [
  { AttributeName: 'userId', KeyType: 'HASH' },
  { AttributeName: 'entitlement', KeyType: 'RANGE' },
];

describe('the entitlements table', () => {
  it('is keyed by userId (partition) and entitlement (sort), both strings', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'userId', KeyType: 'HASH' },
        { AttributeName: 'entitlement', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'userId', AttributeType: 'S' },
        { AttributeName: 'entitlement', AttributeType: 'S' },
      ],
    });
  });

  it('is billed on demand', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', { KeySchema: ENTITLEMENTS_KEY, BillingMode: 'PAY_PER_REQUEST' });
  });

  it('has point-in-time recovery', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: ENTITLEMENTS_KEY,
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  it('is retained when the stack is deleted or the table replaced, and protected from deletion', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: { KeySchema: ENTITLEMENTS_KEY, DeletionProtectionEnabled: true },
    });
  });

  it('shares the data stack with the mesh-state table only', () => {
    expect(Object.values(template.toJSON().Resources as Record<string, { Type: string }>).map((r) => r.Type)).toEqual([
      'AWS::DynamoDB::Table',
      'AWS::DynamoDB::Table',
    ]);
  });

  it('takes its physical name from entitlementsTableName when given', () => {
    const app = new App(testAppProps());
    const named = Template.fromStack(new EntitlementsDataStack(app, 'Named', { config: { entitlementsTableName: 'entitlements-prod' } }));
    named.hasResourceProperties('AWS::DynamoDB::Table', { TableName: 'entitlements-prod' });
  });
});

describe('the mesh-state table', () => {
  const MESH_STATE_KEY = [{ AttributeName: 'pk', KeyType: 'HASH' }];

  it('is keyed by pk (string) alone and billed on demand', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: MESH_STATE_KEY,
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    });
  });

  it('expires items through DynamoDB TTL on expiresAt, the attribute the breaker writes', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: MESH_STATE_KEY,
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
  });

  it('is deleted with the stack: it holds seconds-old state, never records', () => {
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete', Properties: { KeySchema: MESH_STATE_KEY } });
  });

  it('takes its physical name from meshStateTableName when given', () => {
    const app = new App(testAppProps());
    const named = Template.fromStack(new EntitlementsDataStack(app, 'Named', { config: { meshStateTableName: 'mesh-state-prod' } }));
    named.hasResourceProperties('AWS::DynamoDB::Table', { TableName: 'mesh-state-prod', KeySchema: MESH_STATE_KEY });
  });
});
