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
    template.hasResourceProperties('AWS::DynamoDB::Table', { BillingMode: 'PAY_PER_REQUEST' });
  });

  it('has point-in-time recovery', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  it('is retained when the stack is deleted or the table replaced, and protected from deletion', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: { DeletionProtectionEnabled: true },
    });
  });

  it('is the only resource of the data stack', () => {
    expect(Object.values(template.toJSON().Resources as Record<string, { Type: string }>).map((r) => r.Type)).toEqual(['AWS::DynamoDB::Table']);
  });

  it('takes its physical name from entitlementsTableName when given', () => {
    const app = new App(testAppProps());
    const named = Template.fromStack(new EntitlementsDataStack(app, 'Named', { config: { entitlementsTableName: 'entitlements-prod' } }));
    named.hasResourceProperties('AWS::DynamoDB::Table', { TableName: 'entitlements-prod' });
  });
});
