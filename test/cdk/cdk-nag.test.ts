import { Stack, Validations } from 'aws-cdk-lib';
import type { PolicyValidationPluginReport } from 'aws-cdk-lib';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { synthApp, type SynthesizedApp } from './synth-fixture.js';

let synth: SynthesizedApp;
let report: PolicyValidationPluginReport;

beforeAll(() => {
  // The email topic is the path that creates the most resources to check.
  synth = synthApp({ alarmTopicArn: undefined, alarmEmail: 'oncall@example.com', svidSecretKmsKeyArn: 'arn:aws:kms:eu-central-1:123456789012:key/1' });
  report = new AwsSolutionsChecks().validateScope(synth.app);
});

/** Every acknowledgement recorded in the construct tree: rule id → reasons. */
function acknowledgements(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const construct of synth.app.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, value] of Object.entries(entry.data as Record<string, { reason?: string }>)) {
        found.set(id, [...(found.get(id) ?? []), String(value?.reason ?? value)]);
      }
    }
  }
  return found;
}

describe('cdk-nag AwsSolutions', () => {
  it('finds nothing unacknowledged, neither error nor warning', () => {
    const findings = report.violations.map((v) => `${v.ruleName} (${v.severity}) at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);
    expect(findings).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('acknowledges only IAM findings and the webhook route\'s missing AWS authorisation, each with a reason', () => {
    const nag = [...acknowledgements()].filter(([id]) => id.includes('AwsSolutions-'));
    expect(new Set(nag.map(([id]) => id.replace(/^annotation::/i, '').replace(/\[.*\]$/, '')))).toEqual(
      new Set(['AwsSolutions-APIG4', 'AwsSolutions-IAM4', 'AwsSolutions-IAM5']),
    );
    for (const [id, reasons] of nag) {
      expect(id.replace(/^annotation::/i, '')).toMatch(/^AwsSolutions-(APIG4|IAM4\[Policy::.+\]|IAM5\[Resource::.+\])$/);
      for (const reason of reasons) expect(reason.length).toBeGreaterThan(40);
    }
  });

  it('would report a resource that breaks a rule (the check is live)', () => {
    const stack = new Stack(synth.app, 'Canary');
    new Queue(stack, 'PlainQueue');
    const canary = new AwsSolutionsChecks().validateScope(stack);
    expect(canary.violations.map((v) => v.ruleName)).toEqual(expect.arrayContaining(['AwsSolutions-SQS3', 'AwsSolutions-SQS4']));
  });
});
