/**
 * `npm run -s mint-jwt-svid -- --sub <spiffe id> [--aud <audience>]… [--ttl <seconds>]`: prints
 * one JWT-SVID signed by the local JWT authority (`<local>/pki/jwt`), for curl:
 *
 *   curl -H "Authorization: Bearer $(npm run -s mint-jwt-svid -- --sub spiffe://jia.app/family-service)" …
 *
 * get-user-info trusts it with `JWT_SVID_BUNDLE_FILE=<local>/pki/jwt/jwt-bundle.json` (the path
 * is printed on stderr). stdout carries the token only.
 */
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSpiffeId } from '../../shared/spiffe/spiffe-id.js';
import { ensureLocalJwtAuthority, LOCAL_JWT_AUDIENCE } from './local-jwt-authority.js';

const USAGE = 'usage: npm run -s mint-jwt-svid -- --sub <spiffe id> [--aud <audience>]... [--ttl <seconds>]\n';
const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

async function main(args: string[]): Promise<number> {
  let sub: string | undefined;
  const aud: string[] = [];
  let ttlSeconds = 300;
  for (let i = 0; i < args.length; i++) {
    const flag = args[i]!;
    const value = args[++i];
    if (flag === '-h' || flag === '--help') {
      process.stdout.write(USAGE);
      return 0;
    }
    if (value === undefined) {
      process.stderr.write(`mint-jwt-svid: ${flag} needs a value\n${USAGE}`);
      return 2;
    }
    if (flag === '--sub') sub = value;
    else if (flag === '--aud') aud.push(value);
    else if (flag === '--ttl' && Number(value) > 0) ttlSeconds = Number(value);
    else {
      process.stderr.write(`mint-jwt-svid: bad argument ${flag} ${value}\n${USAGE}`);
      return 2;
    }
  }
  if (sub === undefined) {
    process.stderr.write(`mint-jwt-svid: --sub is required\n${USAGE}`);
    return 2;
  }
  try {
    parseSpiffeId(sub);
  } catch (error) {
    process.stderr.write(`mint-jwt-svid: --sub must be a SPIFFE ID: ${(error as Error).message}\n`);
    return 2;
  }
  const localDir = resolve(process.env.PAYMENT_FUNCTIONS_LOCAL_DIR || join(PROJECT_ROOT, '.local'));
  const { authority, bundlePath, created } = await ensureLocalJwtAuthority(join(localDir, 'pki', 'jwt'));
  const token = await authority.mint({ sub, aud: aud.length > 0 ? aud : [LOCAL_JWT_AUDIENCE], ttlSeconds });
  process.stderr.write(`mint-jwt-svid: ${created ? 'created' : 'reusing'} the dev JWT authority (kid ${authority.keyId}); bundle: ${bundlePath}\n`);
  process.stdout.write(`${token}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`mint-jwt-svid: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
