import { beforeAll, describe, expect, it } from 'vitest';
import { synthApp, type SynthesizedApp } from '../../cdk/synth-fixture.js';
import { HTTP_ROUTES, matchRoute } from './http-routes.js';

let synth: SynthesizedApp;

beforeAll(() => {
  synth = synthApp();
});

/** The stack's routes: route key, the function its integration invokes (by service name), its authorisation. */
function deployedRoutes() {
  const template = synth.functionsTemplate;
  const integrations = template.findResources('AWS::ApiGatewayV2::Integration');
  const functions = template.findResources('AWS::Lambda::Function');
  const serviceOf = (logicalId: string) => functions[logicalId]?.Properties.Environment.Variables.POWERTOOLS_SERVICE_NAME as string;
  return Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map((route) => {
    const integrationId = (route.Properties.Target['Fn::Join'][1][1] as { Ref: string }).Ref;
    const functionArn = integrations[integrationId]!.Properties.IntegrationUri['Fn::GetAtt'] as [string, string];
    return {
      routeKey: route.Properties.RouteKey as string,
      functionName: serviceOf(functionArn[0]),
      authorization: route.Properties.AuthorizationType === 'AWS_IAM' ? 'iam' : 'none',
    };
  });
}

describe('serve\'s HTTP routes', () => {
  it('are exactly the CDK stack\'s routes, to the same functions, with the same authorisation', () => {
    const byKey = (a: { routeKey: string }, b: { routeKey: string }) => a.routeKey.localeCompare(b.routeKey);

    expect([...HTTP_ROUTES].sort(byKey)).toEqual(deployedRoutes().sort(byKey));
  });

  it('capture a path parameter from one segment, as API Gateway does', () => {
    expect(matchRoute('GET', '/users/user-1')).toMatchObject({ route: { functionName: 'get-user-info' }, pathParameters: { userId: 'user-1' } });
    expect(matchRoute('post', '/webhooks/payments')).toMatchObject({ route: { functionName: 'payment-webhook' }, pathParameters: {} });
  });
});
