import type { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadMeshConfig } from '../../shared/config/load-mesh-config.js';
import { secretsManagerAccessFromEnv } from '../../shared/config/secrets-manager-access-config.js';
import { TEST_CONTEXT, actionsOf, fnOf, functionsByService, statementsOf, synthApp, type FunctionResource, type SynthesizedApp } from './synth-fixture.js';

const SERVICES = ['payment-webhook', 'grant-entitlements', 'get-user-info', 'mesh-health'] as const;
const MESH_FUNCTIONS = ['grant-entitlements', 'get-user-info', 'mesh-health'] as const;

let synth: SynthesizedApp;
let template: Template;
let functions: Record<string, FunctionResource>;

beforeAll(() => {
  synth = synthApp({ secretsExtension: 'true', secretsExtensionCacheTtlSeconds: 120 });
  template = synth.functionsTemplate;
  functions = functionsByService(template);
});

/** The variables known at synth, as the function will read them. */
function literalEnvOf(service: string): Record<string, string> {
  const env = fnOf(functions, service).properties.Environment.Variables;
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}

describe('the secretsExtension knob', () => {
  it.each(SERVICES)('gives %s the Parameters and Secrets extension layer for arm64 in its region', (service) => {
    const layers = template.toJSON().Resources[fnOf(functions, service).logicalId].Properties.Layers as unknown[];
    expect(layers).toEqual([expect.stringMatching(/^arn:aws:lambda:eu-central-1:187925254637:layer:AWS-Parameters-and-Secrets-Lambda-Extension-Arm64:\d+$/)]);
  });

  it.each(SERVICES)('switches %s to reading secrets through it, with the configured cache TTL', (service) => {
    expect(literalEnvOf(service)).toMatchObject({
      SECRETS_MANAGER_ACCESS: 'extension',
      PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: '2773',
      SECRETS_MANAGER_TTL: '120',
    });
    expect(secretsManagerAccessFromEnv(literalEnvOf(service))).toEqual({ mode: 'extension', extensionPort: 2773, extensionCacheTtlSeconds: 120 });
  });

  it.each(MESH_FUNCTIONS)('%s loads a mesh configuration that reads its SVID through the extension', (service) => {
    const env = { ...literalEnvOf(service), MESH_STATE_TABLE: 'mesh-state' };
    expect(loadMeshConfig(env).secretsManager).toEqual({ mode: 'extension', extensionPort: 2773, extensionCacheTtlSeconds: 120 });
  });

  it.each(MESH_FUNCTIONS)('keeps GetSecretValue on the SVID secret for %s: the extension calls Secrets Manager with its role', (service) => {
    const statements = statementsOf(template, fnOf(functions, service)).filter((s) => actionsOf(s).some((a) => a.startsWith('secretsmanager:')));
    expect(statements).toEqual([{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: TEST_CONTEXT.svidSecretArn }]);
  });

  it('adds no cdk-nag AwsSolutions finding', () => {
    const report = new AwsSolutionsChecks().validateScope(synth.app);
    expect(report.violations.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
  });
});
