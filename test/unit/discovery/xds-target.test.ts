import { experimental } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { loadMeshConfig } from '../../../shared/config/load-mesh-config.js';
import { XdsBootstrapError } from '../../../shared/discovery/xds-bootstrap.js';
import { channelTargetFor } from '../../../shared/discovery/xds-target.js';

const BOOTSTRAP = {
  xds_servers: [{ server_uri: '127.0.0.1:18000', channel_creds: [{ type: 'insecure' }] }],
  node: { id: 'payment-functions~local', locality: { zone: 'local' } },
};

describe('channelTargetFor', () => {
  const env = {
    SERVICE_MESH_SPIFFE_ID: 'spiffe://jia.app/payment-functions',
    SVID_DIR: '/nonexistent',
    EXTERNAL_SERVICES_CONTACT_SERVICE_ADDRESS: '127.0.0.1:50051',
  };

  it('addresses services through the mesh: resolver unless the scheme is xds, without looking at the bootstrap', () => {
    const target = channelTargetFor(loadMeshConfig({ ...env, SERVICE_MESH_DISCOVERY_SCHEME: 'static' }), {});

    expect(target('contact-service')).toBe('mesh:///contact-service');
  });

  it('fails before any channel exists when the scheme is xds and there is no bootstrap', () => {
    const config = loadMeshConfig({ ...env, SERVICE_MESH_DISCOVERY_SCHEME: 'xds' });

    expect(() => channelTargetFor(config, {})).toThrow(XdsBootstrapError);
    expect(() => channelTargetFor(config, {})).toThrow(/^GRPC_XDS_BOOTSTRAP .* or GRPC_XDS_BOOTSTRAP_CONFIG /);
    expect(experimental.isLoadBalancerNameRegistered('xds_cluster_manager')).toBe(false);
  });

  it('addresses services as xds-fallback:///<service> with grpc-js-xds registered into our grpc-js', () => {
    const config = loadMeshConfig({ ...env, SERVICE_MESH_DISCOVERY_SCHEME: 'xds' });

    const target = channelTargetFor(config, { GRPC_XDS_BOOTSTRAP_CONFIG: JSON.stringify(BOOTSTRAP) });

    expect(target('contact-service')).toBe('xds-fallback:///contact-service');
    expect(experimental.isLoadBalancerNameRegistered('xds_cluster_manager')).toBe(true);
  });
});
