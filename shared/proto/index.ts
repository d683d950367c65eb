// Generated gRPC contracts (`npm run gen:proto`): re-exports only.
export {
  ContactServiceClient,
  ContactServiceService,
  GetFamilyMembersRequest,
  GetFamilyMembersResponse,
  GetUserInfoRequest,
  UserInfo,
  type ContactServiceServer,
} from './gen/jia/contact/v1/contact.js';
export {
  HealthCheckRequest,
  HealthCheckResponse,
  HealthCheckResponse_ServingStatus,
  HealthClient,
  HealthService,
  type HealthServer,
} from './gen/grpc/health/v1/health.js';
