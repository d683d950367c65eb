// Import time of the bench function's bundle, before/after, interleaved: a fresh node per import.
import { execFileSync } from 'node:child_process';
const node = new URL('../node_modules/.bin/node', import.meta.url).pathname;
const runs = Number(process.argv[2] ?? 15);
const bundles = { before: '.measure/before/bench-function.mjs', after: '.measure/after/bench-function.mjs' };
const env = {
  PATH: process.env.PATH, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x',
  AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent', POWERTOOLS_LOG_LEVEL: 'INFO',
  SERVICE_MESH_SPIFFE_ID: 'spiffe://jia.app/payment-functions', SERVICE_MESH_DISCOVERY_NAMESPACE: 'mesh.local',
  SVID_SECRET_ID: 'payment-functions/svid', EXTERNAL_SERVICES_CONTACT_SERVICE_ADDRESS: '127.0.0.1:50051',
};
const script = "const t0 = performance.now(); await import(process.argv[1]); process.stdout.write(JSON.stringify({ sinceOrigin: performance.now(), importOnly: performance.now() - t0 }));";
const samples = { before: [], after: [] };
for (let i = 0; i < runs; i++) {
  const order = i % 2 === 0 ? ['before', 'after'] : ['after', 'before'];
  for (const side of order) {
    const out = execFileSync(node, ['--input-type=module', '-e', script, new URL(`../${bundles[side]}`, import.meta.url).href], { env, cwd: process.cwd() });
    samples[side].push(JSON.parse(out));
  }
}
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
for (const side of ['before', 'after']) {
  const imp = samples[side].map((s) => s.importOnly), org = samples[side].map((s) => s.sinceOrigin);
  console.log(`${side.padEnd(6)} import median ${median(imp).toFixed(1)} ms (min ${Math.min(...imp).toFixed(1)}, max ${Math.max(...imp).toFixed(1)}); since process start median ${median(org).toFixed(1)} ms; n=${imp.length}`);
}
