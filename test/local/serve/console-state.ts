/**
 * What the local console shows, gathered on request: recent invocations with their log lines,
 * the queue (visible, in flight, dead letters with the reason each last failed), entitlements
 * grouped by family and user (read from the table), and the mesh as the functions reported it
 * (calls with the peer SPIFFE ID, breaker state per service, the SVID's expiry).
 */
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EventSourceMapping } from './event-source-mapping.js';
import type { FailureReasons } from './failure-reasons.js';
import type { FunctionPool } from './function-pool.js';
import type { InvocationHistory, InvocationRecord } from './invocation-history.js';

export interface ConsoleSources {
  history: InvocationHistory;
  pools: ReadonlyMap<string, FunctionPool>;
  mapping?: EventSourceMapping;
  reasons: FailureReasons;
  maxReceiveCount: number;
  dynamo?: { client: DynamoDBClient; table: string };
  startedAt: string;
  meshHealthEverySeconds: number;
}

export interface MeshCall {
  at: string;
  functionName: string;
  service: string;
  method: string;
  peer?: string;
  code: string;
  durationMs?: number;
  breakerState?: string;
}

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** The mesh as the functions' own log lines and mesh-health's reports describe it. */
export function meshViewOf(invocations: readonly InvocationRecord[]) {
  const calls: MeshCall[] = [];
  const breakers: Record<string, { state: string; at: string; by: string }> = {};
  let svid: { spiffeId?: string; expiresAt: string; reportedBy: string } | undefined;
  let health: { checkedAt: string; services: unknown[] } | undefined;
  // Oldest first, so later observations win.
  for (const invocation of [...invocations].reverse()) {
    for (const { json } of invocation.logs) {
      if (!json) continue;
      const at = str(json.timestamp) ?? invocation.startedAt;
      const service = str(json.meshService);
      if (json.message === 'mesh call' && service) {
        calls.push({
          at,
          functionName: invocation.functionName,
          service,
          method: str(json.method) ?? '',
          ...(str(json.peer) ? { peer: str(json.peer)! } : {}),
          code: str(json.code) ?? '',
          ...(typeof json.durationMs === 'number' ? { durationMs: json.durationMs } : {}),
          ...(str(json.breakerState) ? { breakerState: str(json.breakerState)! } : {}),
        });
        if (str(json.breakerState)) breakers[service] = { state: str(json.breakerState)!, at, by: invocation.functionName };
      } else if (json.message === 'circuit breaker state changed' && service && str(json.to)) {
        breakers[service] = { state: str(json.to)!, at, by: invocation.functionName };
      } else if (typeof json.svid_expiry_seconds === 'number') {
        const emfTime = (json._aws as { Timestamp?: unknown } | undefined)?.Timestamp;
        const measured = typeof emfTime === 'number' ? emfTime : Date.parse(invocation.startedAt);
        svid = { ...svid, expiresAt: new Date(measured + json.svid_expiry_seconds * 1000).toISOString(), reportedBy: invocation.functionName };
      }
    }
    const report = invocation.functionName === 'mesh-health' && invocation.state === 'succeeded' ? (invocation.result as Record<string, unknown> | null) : null;
    if (report && Array.isArray(report.services) && typeof report.checkedAt === 'string') {
      health = { checkedAt: report.checkedAt, services: report.services };
      for (const s of report.services as { service: string; breaker: string }[]) breakers[s.service] = { state: s.breaker, at: report.checkedAt, by: 'mesh-health' };
      if (typeof report.svidExpiresInSeconds === 'number') {
        svid = {
          spiffeId: str(report.spiffeId),
          expiresAt: new Date(Date.parse(report.checkedAt) + report.svidExpiresInSeconds * 1000).toISOString(),
          reportedBy: 'mesh-health',
        };
      }
    }
  }
  return { calls: calls.sort((a, b) => b.at.localeCompare(a.at)).slice(0, 30), breakers, svid, health };
}

interface EntitlementRow {
  userId: string;
  entitlement: string;
  status: string;
  familyId?: string;
  purchaserId?: string;
  eventType?: string;
  eventId?: string;
  grantedAt?: string;
  updatedAt?: string;
  expiresAt?: number;
}

/** Every entitlement in the table, grouped by family, then user. */
async function entitlementsOf(dynamo: NonNullable<ConsoleSources['dynamo']>) {
  const documents = DynamoDBDocumentClient.from(dynamo.client);
  const rows: EntitlementRow[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await documents.send(new ScanCommand({ TableName: dynamo.table, ExclusiveStartKey: start }));
    rows.push(...((page.Items ?? []) as EntitlementRow[]));
    start = page.LastEvaluatedKey;
  } while (start);
  // The table also holds Stripe's links and feature summaries, under sort keys starting with `#`.
  const links = rows
    .filter((row) => row.entitlement === '#link')
    .map((row) => ({ stripeObject: row.userId.replace(/^stripe#/, ''), userId: (row as EntitlementRow & { linkedUserId?: string }).linkedUserId ?? '' }));
  const families = new Map<string, Map<string, EntitlementRow[]>>();
  for (const row of rows.filter((r) => !r.entitlement.startsWith('#'))) {
    const family = families.get(row.familyId ?? '(no family)') ?? new Map<string, EntitlementRow[]>();
    families.set(row.familyId ?? '(no family)', family);
    family.set(row.userId, [...(family.get(row.userId) ?? []), row]);
  }
  const byFamily = [...families.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([familyId, users]) => ({
      familyId,
      members: [...users.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([userId, items]) => ({
          userId,
          entitlements: items.map((e) => ({
            name: e.entitlement,
            status: e.status,
            eventType: e.eventType,
            eventId: e.eventId,
            purchaserId: e.purchaserId,
            grantedAt: e.grantedAt,
            updatedAt: e.updatedAt,
            expiresAt: e.expiresAt,
          })),
        })),
    }));
  return { families: byFamily, links };
}

/** The console's whole state, as JSON. A part that cannot be read says why instead. */
export async function consoleState(sources: ConsoleSources) {
  const invocations = sources.history.recent();
  const queue = sources.mapping?.options.queue;
  const [counts, deadLetters, entitlements] = await Promise.all([
    queue?.counts().catch((error: Error) => ({ error: error.message })),
    queue?.deadLetters?.().catch(() => []),
    sources.dynamo ? entitlementsOf(sources.dynamo).catch((error: Error) => ({ error: error.message })) : undefined,
  ]);
  return {
    startedAt: sources.startedAt,
    now: new Date().toISOString(),
    functions: [...sources.pools.values()].map((p) => ({
      name: p.definition.name,
      containers: p.containerCount,
      timeoutSeconds: p.definition.timeoutSeconds,
      memoryMb: p.definition.memoryMb,
    })),
    invocations,
    queue: queue
      ? {
          url: queue.url,
          counts,
          mapping: {
            enabled: sources.mapping!.enabled,
            batchSize: sources.mapping!.options.batchSize,
            maxBatchingWindowSeconds: sources.mapping!.options.maxBatchingWindowSeconds,
            visibilityTimeoutSeconds: sources.mapping!.options.visibilityTimeoutSeconds,
            maxReceiveCount: sources.maxReceiveCount,
          },
          canRedrive: queue.redrive !== undefined,
          deadLetters: (deadLetters ?? []).map((d) => ({ ...d, reason: sources.reasons.get(d.messageId)?.reason ?? 'unknown (failed before this serve recorded reasons)' })),
        }
      : undefined,
    entitlements,
    mesh: { ...meshViewOf(invocations), meshHealthEverySeconds: sources.meshHealthEverySeconds },
  };
}
