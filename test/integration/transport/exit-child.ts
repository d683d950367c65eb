/**
 * A process that calls the contact-service once through a MeshChannel and then returns from its
 * work without `process.exit`, as a Lambda handler does: it must end on its own once the channel
 * is closed. Driven by `process-exit.test.ts` through the environment.
 */
import { ContactClient } from '../../../shared/transport/contact-client.js';
import { contactChannel, fixedIdentity, materialOf } from './local-mesh.js';

const { CONTACT_ADDRESS = '', SVID_JSON = '{}', BUNDLE_PEM = '', CLOSE_CHANNEL = '1' } = process.env;
const channel = contactChannel(CONTACT_ADDRESS, fixedIdentity(materialOf(JSON.parse(SVID_JSON), BUNDLE_PEM)));
const user = await new ContactClient(channel).getUserInfo('user-1');
if (CLOSE_CHANNEL === '1') channel.close();
// What still holds the event loop a moment later (grpc-js destroys sessions on the next turn),
// leaving out the stdio pipes and this very timer.
setTimeout(() => {
  const resources = process.getActiveResourcesInfo().filter((r) => r !== 'PipeWrap');
  resources.splice(resources.indexOf('Timeout'), 1);
  process.stdout.write(`${JSON.stringify({ user: user.id, resources })}\n`);
}, 50);
