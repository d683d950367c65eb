import type { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadJwtSvidConfig } from '../../shared/config/jwt-svid-config.js';
import { fnOf, functionsByService, synthApp, type SynthesizedApp } from './synth-fixture.js';

/** get-user-info's route with `userApiAuthorization`: iam (default) or jwt-svid, with and without the gateway's JWT authorizer. */
const JWT_SVID = {
  userApiAuthorization: 'jwt-svid',
  jwtSvidAllowedIds: ['spiffe://jia.app/family-service', 'spiffe://jia.app/document-service'],
  jwtSvidBundleUrl: 'https://spire-bundle.jia.app:8443',
  jwtSvidBundleEndpointSpiffeId: 'spiffe://jia.app/spire/server',
  jwtSvidFederatedBundleUrls: { 'spiffe://partner.example': 'https://partner.example/bundle' },
};
const ISSUER = 'https://oidc.jia.app';

let iam: SynthesizedApp;
let jwt: SynthesizedApp;
let gateway: SynthesizedApp;

beforeAll(() => {
  iam = synthApp();
  jwt = synthApp(JWT_SVID);
  gateway = synthApp({ ...JWT_SVID, jwtSvidIssuer: ISSUER, jwtSvidBundleUrl: `${ISSUER}/keys`, jwtSvidBundleFormat: 'jwks', jwtSvidBundleEndpointSpiffeId: undefined });
});

const userRoute = (template: Template) =>
  Object.values(template.findResources('AWS::ApiGatewayV2::Route')).find((r) => r.Properties.RouteKey === 'GET /users/{userId}')!.Properties as Record<string, unknown>;
const literalEnv = (synth: SynthesizedApp, service: string) =>
  Object.fromEntries(
    Object.entries(fnOf(functionsByService(synth.functionsTemplate), service).properties.Environment.Variables).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );
const jwtVariables = (synth: SynthesizedApp, service: string) => Object.keys(literalEnv(synth, service)).filter((k) => k.startsWith('JWT_SVID_'));

describe('userApiAuthorization iam (default)', () => {
  it('keeps GET /users/{userId} behind IAM and gives get-user-info no JWT-SVID settings', () => {
    expect(userRoute(iam.functionsTemplate).AuthorizationType).toBe('AWS_IAM');
    expect(jwtVariables(iam, 'get-user-info')).toEqual([]);
  });
});

describe('userApiAuthorization jwt-svid', () => {
  it('takes the IAM authorizer off the route: the function validates the caller', () => {
    expect(userRoute(jwt.functionsTemplate).AuthorizationType).toBe('NONE');
    expect(jwt.functionsTemplate.findResources('AWS::ApiGatewayV2::Authorizer')).toEqual({});
  });

  it('gives get-user-info, and only it, settings its own configuration loader accepts', () => {
    const env = literalEnv(jwt, 'get-user-info');

    expect(env).toMatchObject({
      JWT_SVID_AUDIENCE: 'spiffe://jia.app/payment-functions',
      JWT_SVID_ALLOWED_IDS: 'spiffe://jia.app/family-service,spiffe://jia.app/document-service',
      JWT_SVID_BUNDLE_URL: 'https://spire-bundle.jia.app:8443',
      JWT_SVID_BUNDLE_FORMAT: 'spiffe',
      JWT_SVID_BUNDLE_ENDPOINT_SPIFFE_ID: 'spiffe://jia.app/spire/server',
      JWT_SVID_FEDERATED_BUNDLE_URLS: '{"spiffe://partner.example":"https://partner.example/bundle"}',
    });
    expect(loadJwtSvidConfig(env)?.bundles.map((b) => b.trustDomain.name)).toEqual(['jia.app', 'partner.example']);
    for (const other of ['grant-entitlements', 'mesh-health', 'payment-webhook']) expect(jwtVariables(jwt, other)).toEqual([]);
  });

  it('passes cdk-nag with the unauthenticated route acknowledged for its reason', () => {
    const report = new AwsSolutionsChecks().validateScope(jwt.app);

    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  });
});

describe('userApiAuthorization jwt-svid with jwtSvidIssuer', () => {
  it('puts an API Gateway JWT authorizer for that issuer and the audience in front', () => {
    expect(userRoute(gateway.functionsTemplate).AuthorizationType).toBe('JWT');
    gateway.functionsTemplate.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: { Issuer: ISSUER, Audience: ['spiffe://jia.app/payment-functions'] },
    });
  });

  it('still has the function check the caller against the allow-list', () => {
    expect(literalEnv(gateway, 'get-user-info')).toMatchObject({ JWT_SVID_ALLOWED_IDS: expect.any(String) as string, JWT_SVID_BUNDLE_FORMAT: 'jwks' });
  });
});
