import { App, Duration, Stack } from 'aws-cdk-lib';
import { SecurityGroup, Vpc } from 'aws-cdk-lib/aws-ec2';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { HttpNamespace, PrivateDnsNamespace } from 'aws-cdk-lib/aws-servicediscovery';
import { beforeAll, describe, expect, it } from 'vitest';
import { MeshFunction, type MeshMembership } from '../../cdk/constructs/mesh-function.js';
import { loadMeshConfig } from '../../shared/config/load-mesh-config.js';
import { ConfigError } from '../../shared/errors.js';
import { actionsOf, fnOf, functionsByService, statementsOf, synthApp, testAppProps, TEST_CONTEXT, type SynthesizedApp } from './synth-fixture.js';

const MESH_FUNCTIONS = ['grant-entitlements', 'get-user-info', 'mesh-health'] as const;

let synth: SynthesizedApp;

beforeAll(() => {
  synth = synthApp({ discoveryDnsFirst: 'true' });
});

describe('the discoveryDnsFirst knob', () => {
  it.each(MESH_FUNCTIONS)('%s gets SERVICE_MESH_DISCOVERY_DNS_FIRST=true, which the mesh layer reads as dns → cloudmap → static', (service) => {
    const env = fnOf(functionsByService(synth.functionsTemplate), service).properties.Environment.Variables;
    const literal = Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));

    expect(env.SERVICE_MESH_DISCOVERY_DNS_FIRST).toBe('true');
    expect(loadMeshConfig({ ...literal, MESH_STATE_TABLE: 'mesh-state' }).discovery).toMatchObject({
      namespace: TEST_CONTEXT.namespaceName,
      dnsFirst: true,
      order: ['dns', 'cloudmap', 'static'],
    });
  });

  it.each(MESH_FUNCTIONS)('%s may still call DiscoverInstances, the fallback when DNS has no answer', (service) => {
    const fn = fnOf(functionsByService(synth.functionsTemplate), service);

    expect(statementsOf(synth.functionsTemplate, fn).some((s) => actionsOf(s).includes('servicediscovery:DiscoverInstances'))).toBe(true);
  });

  it('is refused at synth for a function in an http namespace', () => {
    expect(() => meshFunctionIn((stack) => HttpNamespace.fromHttpNamespaceAttributes(stack, 'Ns', NAMESPACE), true)).toThrow(ConfigError);
    expect(() => meshFunctionIn((stack) => HttpNamespace.fromHttpNamespaceAttributes(stack, 'Ns', NAMESPACE), true)).toThrow(
      /discoveryDnsFirst must be false for an http namespace \(it has no dns records\), got true with namespace "mesh\.test\.jia\.app" of type HTTP/,
    );
    expect(() => meshFunctionIn((stack) => HttpNamespace.fromHttpNamespaceAttributes(stack, 'Ns', NAMESPACE), false)).not.toThrow();
  });

  it('is accepted for a function in a private DNS namespace', () => {
    expect(() => meshFunctionIn((stack) => PrivateDnsNamespace.fromPrivateDnsNamespaceAttributes(stack, 'Ns', NAMESPACE), true)).not.toThrow();
  });
});

const NAMESPACE = { namespaceName: TEST_CONTEXT.namespaceName, namespaceId: TEST_CONTEXT.namespaceId, namespaceArn: TEST_CONTEXT.namespaceArn };

/** One MeshFunction joining the mesh through the namespace `namespaceOf` imports. */
function meshFunctionIn(namespaceOf: (stack: Stack) => MeshMembership['namespace'], dnsFirst: boolean): MeshFunction {
  const app = new App(testAppProps({ 'aws:cdk:bundling-stacks': [] }));
  const stack = new Stack(app, 'DnsFirst', { env: { account: TEST_CONTEXT.account, region: TEST_CONTEXT.region } });
  const vpc = Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: TEST_CONTEXT.vpcId, availabilityZones: ['eu-central-1a'], privateSubnetIds: ['subnet-0123456789abcdef1'] });
  return new MeshFunction(stack, 'Fn', {
    entry: 'functions/get-user-info/handler.ts',
    serviceName: 'get-user-info',
    description: 'get-user-info',
    memorySize: 256,
    timeout: Duration.seconds(5),
    logRetention: RetentionDays.ONE_WEEK,
    logLevel: 'INFO',
    vpc,
    securityGroup: new SecurityGroup(stack, 'Group', { vpc }),
    mesh: {
      spiffeId: 'spiffe://jia.app/payment-functions',
      svidSecret: Secret.fromSecretCompleteArn(stack, 'Svid', TEST_CONTEXT.svidSecretArn),
      namespace: namespaceOf(stack),
      discoveryScheme: 'cloudmap',
      discoveryDnsFirst: dnsFirst,
      mtlsEnabled: true,
      circuitBreaker: { failureThreshold: 5, successThreshold: 2, timeoutSeconds: 60, halfOpenMaxCalls: 3 },
      services: [{ key: 'CONTACT_SERVICE', name: 'contact-service', spiffeId: 'spiffe://jia.app/contact-service', timeoutSeconds: 5 }],
    },
  });
}
