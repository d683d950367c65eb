// Structured logs and EMF metrics for the mesh layer: re-exports only.
export { callCodeOf, OK_CODE } from './call-code.js';
export { CallAggregate, type CallSeries } from './call-aggregate.js';
export { correlationIdOf, type InvocationContext } from './correlation-id.js';
export { summarizeError, type ErrorSummary } from './error-summary.js';
export { GaugeAggregate, type GaugeSeries } from './gauge-aggregate.js';
export { instrumentIdentity, type IdentityInstrumentOptions } from './instrument-identity.js';
export {
  instrumentPolicy,
  MESH_CALL_MESSAGE,
  recordPolicyRejection,
  type MeshCallEvent,
  type MeshInstrumentTarget,
  type PolicyInstrumentOptions,
} from './instrument-policy.js';
export { isSensitiveKey, REDACTED, scrubLogValue, scrubText } from './log-scrubber.js';
export { createMeshLogger, DEFAULT_LOG_SERVICE_NAME, MeshLogger } from './mesh-logger.js';
export { MeshMetrics, type FlushSampler, type MeshMetricsOptions } from './mesh-metrics.js';
export { createMeshTelemetry, meshTelemetry, type MeshTelemetry, type MeshTelemetryOptions } from './mesh-telemetry.js';
export { DEFAULT_METRICS_NAMESPACE, MESH_METRIC_UNITS, MESH_METRICS, type MeshMetricName } from './metric-names.js';
export { logStaleDiscovery, staleDiscoveryReporter, type StaleDiscoveryReport } from './stale-discovery.js';
