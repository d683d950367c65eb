/**
 * The bare client as a Lambda handler, for the cold-start and bundle-size figures: reads its PEMs
 * and the address from the environment at init (as the function reads its configuration), keeps
 * the client in module scope, and answers a direct invoke `{"userId"}` with the contact.
 *
 * Environment: `BARE_CONTACT_ADDRESS` (`host:port`) and `BARE_SVID_DIR` (spiffe-helper's
 * `svid.pem`, `svid_key.pem`, `svid_bundle.pem`: the very PEMs the function's SVID is made of).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bareContactClient, bareCredentialsFrom } from './bare-client.js';

const dir = process.env.BARE_SVID_DIR ?? '.';
const client = bareContactClient(
  process.env.BARE_CONTACT_ADDRESS ?? '127.0.0.1:50051',
  bareCredentialsFrom((name) => readFileSync(join(dir, name))),
);

export async function handler(event: { userId: string }) {
  return client.getUserInfo(event.userId);
}
