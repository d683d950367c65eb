/**
 * dynalite on its own thread for the fleet simulation (started by dynamo-thread.ts): DynamoDB's
 * work then runs beside the handlers instead of taking turns with them on one event loop, as a
 * real DynamoDB does. Counts requests by table and operation (`X-Amz-Target`) and answers
 * `counts` with them. Plain JavaScript: a worker does not inherit the TypeScript loader.
 */
import { createRequire } from 'node:module';
import { parentPort } from 'node:worker_threads';

const dynalite = createRequire(import.meta.url)('dynalite');
const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
const counts = new Map();

server.on('request', (request) => {
  const operation = String(request.headers['x-amz-target'] ?? '').split('.')[1] ?? 'unknown';
  let head = '';
  request.on('data', (chunk) => {
    if (head.length < 512) head += chunk.toString('utf8', 0, 512);
  });
  request.once('end', () => {
    const table = /"TableName":"([^"]+)"/.exec(head)?.[1] ?? '-';
    const key = `${table} ${operation}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  });
});

server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));

parentPort.on('message', (message) => {
  if (message === 'counts') parentPort.postMessage({ counts: Object.fromEntries(counts) });
  if (message === 'close') {
    server.closeAllConnections?.();
    server.close(() => parentPort.close());
  }
});
