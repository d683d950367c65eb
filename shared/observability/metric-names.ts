import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { MetricUnit as MetricUnitName } from '@aws-lambda-powertools/metrics/types';

/**
 * The mesh's own metric names (the Prometheus names its other services export), so one dashboard
 * and one set of alarms read Lambda and container services alike.
 */
export const MESH_METRICS = {
  /** Attempts, per service, method and code (`Count`; one value per EMF document: read it with Sum). */
  requestsTotal: 'grpc_client_requests_total',
  /** Each attempt's duration (`Seconds`; every value, so CloudWatch can compute percentiles). */
  requestDurationSeconds: 'grpc_client_request_duration_seconds',
  /** Attempts whose code is not `OK`, per service, method and code (`Count`). */
  requestsFailedTotal: 'grpc_client_requests_failed_total',
  /** 0 closed, 1 open, 2 half-open, per service; one value per transition, in order. */
  circuitBreakerState: 'circuit_breaker_state',
  /** Seconds until the function's own SVID expires, per SPIFFE ID (negative once expired). */
  svidExpirySeconds: 'svid_expiry_seconds',
  /** 1 when a service answered its health check, 0 when not, per service. */
  serviceUp: 'service_up',
  /** Failed reads and writes of the shared breaker's `mesh-state` table, per service (`Count`). */
  breakerStoreErrorsTotal: 'breaker_store_errors_total',
  /** 1 while a consumer's event source mapping is disabled because the fleet's breaker is open, per consumer. */
  queueConsumptionPaused: 'queue_consumption_paused',
  /** Members whose entitlement a grant took effect for, per entitlement (`Count`). */
  entitlementsGrantedTotal: 'entitlements_granted_total',
  /** Members whose entitlement a revoke took effect for, per entitlement (`Count`). */
  entitlementsRevokedTotal: 'entitlements_revoked_total',
} as const;

export type MeshMetricName = (typeof MESH_METRICS)[keyof typeof MESH_METRICS];

/** The CloudWatch unit of each mesh metric, declared once. */
export const MESH_METRIC_UNITS: Readonly<Record<MeshMetricName, MetricUnitName>> = {
  grpc_client_requests_total: MetricUnit.Count,
  grpc_client_request_duration_seconds: MetricUnit.Seconds,
  grpc_client_requests_failed_total: MetricUnit.Count,
  circuit_breaker_state: MetricUnit.NoUnit,
  svid_expiry_seconds: MetricUnit.Seconds,
  service_up: MetricUnit.NoUnit,
  breaker_store_errors_total: MetricUnit.Count,
  queue_consumption_paused: MetricUnit.NoUnit,
  entitlements_granted_total: MetricUnit.Count,
  entitlements_revoked_total: MetricUnit.Count,
};

/** The CloudWatch namespace when neither the option nor `POWERTOOLS_METRICS_NAMESPACE` names one. */
export const DEFAULT_METRICS_NAMESPACE = 'PaymentFunctions';
