/**
 * The routes of the CDK stack's HTTP API (`cdk/stacks/payment-functions-stack.ts`), matched as API
 * Gateway matches them: method and path, `{name}` capturing one path segment. A test checks this
 * table against the synthesised stack's `AWS::ApiGatewayV2::Route` resources.
 */
import type { FunctionName } from '../invoke-options.js';

export interface HttpRoute {
  /** `METHOD /path/{param}`, as the stack's `RouteKey`. */
  routeKey: string;
  functionName: FunctionName;
  /** The deployed route's authoriser; `iam` is not emulated locally (SigV4 is not checked). */
  authorization: 'none' | 'iam';
}

export const HTTP_ROUTES: readonly HttpRoute[] = [
  { routeKey: 'POST /webhooks/payments', functionName: 'payment-webhook', authorization: 'none' },
  { routeKey: 'GET /users/{userId}', functionName: 'get-user-info', authorization: 'iam' },
];

export interface RouteMatch {
  route: HttpRoute;
  /** Path parameters as they appear in the path (API Gateway passes them undecoded). */
  pathParameters: Record<string, string>;
}

/** The route `method` and `path` select, or undefined (API Gateway answers 404 then). */
export function matchRoute(method: string, path: string, routes: readonly HttpRoute[] = HTTP_ROUTES): RouteMatch | undefined {
  for (const route of routes) {
    const [routeMethod, routePath] = route.routeKey.split(' ') as [string, string];
    if (routeMethod !== method.toUpperCase()) continue;
    const want = routePath.split('/');
    const got = path.split('/');
    if (want.length !== got.length) continue;
    const pathParameters: Record<string, string> = {};
    const matches = want.every((segment, i) => {
      const param = /^\{(\w+)\}$/.exec(segment)?.[1];
      if (param === undefined) return segment === got[i];
      if (!got[i]) return false;
      pathParameters[param] = got[i]!;
      return true;
    });
    if (matches) return { route, pathParameters };
  }
  return undefined;
}
