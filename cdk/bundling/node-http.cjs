// `node:http` for bundled functions: esbuild aliases every `import … from 'node:http'` to this file
// (cdk/bundling/function-bundling.ts). For an ES module import of a built-in, Node builds the
// module namespace by reading every export, and `http.WebSocket`, a lazy getter, then loads undici:
// 20–45 ms of a cold start on a small machine, for a WebSocket nobody opens. The importers are the
// AWS SDK's IMDS credential provider (`request`; in the bundle when `bundleAwsSdk` is set) and
// @middy/util (`STATUS_CODES`, when a middleware uses them). A CommonJS `require` reads only what
// is used. It names `http`, not `node:http`, which the alias would send back here.
module.exports = require('http');
