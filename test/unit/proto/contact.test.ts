// Checks the ahead-of-time generated code wires into grpc-js (insecure loopback: mTLS is tested
// with the transport) and round-trips the wire format.
import { credentials, Server, ServerCredentials, status, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ContactServiceClient,
  ContactServiceService,
  GetFamilyMembersRequest,
  GetFamilyMembersResponse,
  GetUserInfoRequest,
  HealthCheckRequest,
  HealthCheckResponse,
  HealthCheckResponse_ServingStatus,
  HealthClient,
  HealthService,
  UserInfo,
  type ContactServiceServer,
  type HealthServer,
} from '../../../shared/proto/index.js';

const ALICE: UserInfo = { id: 'u-1', name: 'Alice', email: 'alice@example.com', familyId: 'f-1' };
const BOB: UserInfo = { id: 'u-2', name: 'Bob', email: 'bob@example.com', familyId: 'f-1' };
const USERS = new Map([ALICE, BOB].map((u) => [u.id, u]));

const contactImpl: ContactServiceServer = {
  getUserInfo(call, callback) {
    const user = USERS.get(call.request.userId);
    if (user === undefined) callback({ code: status.NOT_FOUND, details: `no user ${call.request.userId}` });
    else callback(null, user);
  },
  getFamilyMembers(call, callback) {
    const members = [...USERS.values()].filter((u) => u.familyId === call.request.familyId);
    callback(null, { members });
  },
};

const SERVING = new Map([
  ['', HealthCheckResponse_ServingStatus.SERVING],
  ['jia.contact.v1.ContactService', HealthCheckResponse_ServingStatus.SERVING],
]);

const healthImpl: HealthServer = {
  check(call, callback) {
    const current = SERVING.get(call.request.service);
    if (current === undefined) callback({ code: status.NOT_FOUND, details: 'unknown service' });
    else callback(null, { status: current });
  },
  watch(call) {
    call.write({ status: SERVING.get(call.request.service) ?? HealthCheckResponse_ServingStatus.SERVICE_UNKNOWN });
    call.end();
  },
};

/** Promisifies one unary call of a generated client. */
function unary<Res>(start: (callback: (err: ServiceError | null, res: Res) => void) => unknown): Promise<Res> {
  return new Promise((resolve, reject) => {
    start((err, res) => (err ? reject(err) : resolve(res)));
  });
}

describe('generated gRPC code', () => {
  const server = new Server();
  let contact: ContactServiceClient;
  let health: HealthClient;

  beforeAll(async () => {
    server.addService(ContactServiceService, contactImpl);
    server.addService(HealthService, healthImpl);
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
    });
    contact = new ContactServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
    health = new HealthClient(`127.0.0.1:${port}`, credentials.createInsecure());
  });

  afterAll(async () => {
    contact?.close();
    health?.close();
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  });

  it('serves GetUserInfo through the generated client', async () => {
    const user = await unary<UserInfo>((cb) => contact.getUserInfo({ userId: 'u-1' }, cb));
    expect(user).toEqual(ALICE);
  });

  it('carries NOT_FOUND for an unknown user', async () => {
    await expect(unary<UserInfo>((cb) => contact.getUserInfo({ userId: 'nobody' }, cb))).rejects.toMatchObject({
      code: status.NOT_FOUND,
    });
  });

  it('serves GetFamilyMembers with repeated members', async () => {
    const res = await unary<GetFamilyMembersResponse>((cb) => contact.getFamilyMembers({ familyId: 'f-1' }, cb));
    expect(res.members).toEqual([ALICE, BOB]);
    const none = await unary<GetFamilyMembersResponse>((cb) => contact.getFamilyMembers({ familyId: 'f-404' }, cb));
    expect(none.members).toEqual([]);
  });

  it('uses the wire paths of the published contracts', () => {
    expect(ContactServiceService.getUserInfo.path).toBe('/jia.contact.v1.ContactService/GetUserInfo');
    expect(ContactServiceService.getFamilyMembers.path).toBe('/jia.contact.v1.ContactService/GetFamilyMembers');
    expect(HealthService.check.path).toBe('/grpc.health.v1.Health/Check');
    expect(HealthService.watch.path).toBe('/grpc.health.v1.Health/Watch');
  });

  it('answers grpc.health.v1 Check', async () => {
    const res = await unary<HealthCheckResponse>((cb) => health.check({ service: 'jia.contact.v1.ContactService' }, cb));
    expect(res.status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    await expect(unary<HealthCheckResponse>((cb) => health.check({ service: 'other' }, cb))).rejects.toMatchObject({
      code: status.NOT_FOUND,
    });
  });

  it('streams grpc.health.v1 Watch', async () => {
    const seen: HealthCheckResponse[] = [];
    await new Promise<void>((resolve, reject) => {
      const stream = health.watch({ service: 'other' });
      stream.on('data', (r: HealthCheckResponse) => seen.push(r));
      stream.on('error', reject);
      stream.on('end', resolve);
    });
    expect(seen).toEqual([{ status: HealthCheckResponse_ServingStatus.SERVICE_UNKNOWN }]);
  });
});

describe('generated message codecs', () => {
  it('round-trips every contact message through the wire format', () => {
    expect(GetUserInfoRequest.decode(GetUserInfoRequest.encode({ userId: 'u-1' }).finish())).toEqual({ userId: 'u-1' });
    expect(UserInfo.decode(UserInfo.encode(ALICE).finish())).toEqual(ALICE);
    expect(GetFamilyMembersRequest.decode(GetFamilyMembersRequest.encode({ familyId: 'f-1' }).finish())).toEqual({
      familyId: 'f-1',
    });
    const family = { members: [ALICE, BOB] };
    expect(GetFamilyMembersResponse.decode(GetFamilyMembersResponse.encode(family).finish())).toEqual(family);
  });

  it('encodes proto3 defaults as nothing and decodes them back', () => {
    expect(UserInfo.encode(UserInfo.create()).finish()).toHaveLength(0);
    expect(UserInfo.decode(new Uint8Array())).toEqual({ id: '', name: '', email: '', familyId: '' });
  });

  it('uses the field numbers of the contract', () => {
    // family_id = 4, length-delimited: tag (4 << 3) | 2 = 0x22.
    expect([...UserInfo.encode({ id: '', name: '', email: '', familyId: 'f' }).finish()]).toEqual([0x22, 1, 0x66]);
    // status = 1, varint: tag 0x08.
    const bytes = HealthCheckResponse.encode({ status: HealthCheckResponse_ServingStatus.NOT_SERVING }).finish();
    expect([...bytes]).toEqual([0x08, 2]);
    expect(HealthCheckRequest.decode(HealthCheckRequest.encode({ service: 's' }).finish())).toEqual({ service: 's' });
  });
});
