import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';

/**
 * The baseline for the throughput benchmark: the least a Node proxy can do. It forwards each request
 * to one upstream with a keep-alive undici Pool and relays status, content-type and body.
 *   node bench/dist/undici-forwarder.js --target http://127.0.0.1:PORT [--port 0]
 * Prints `forwarder listening on <url>`.
 */
const { values } = parseArgs({ options: { target: { type: 'string' }, port: { type: 'string', default: '0' } } });
if (values.target === undefined) throw new Error('--target is required');
const pool = new Pool(values.target, { connections: 128, keepAliveTimeout: 30_000 });

const server = createServer(async (req, res) => {
  try {
    const upstream = await pool.request({
      method: 'POST',
      path: req.url ?? '/',
      headers: { 'content-type': req.headers['content-type'] ?? 'application/json', authorization: 'Bearer forwarder' },
      body: req,
    });
    res.writeHead(upstream.statusCode, {
      'content-type': String(upstream.headers['content-type'] ?? 'application/json'),
    });
    for await (const chunk of upstream.body) res.write(chunk);
    res.end();
  } catch (error) {
    res.writeHead(502, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: String(error) }));
  }
});
server.keepAliveTimeout = 65_000;
server.listen(Number(values.port), '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`forwarder listening on http://127.0.0.1:${port}\n`);
});
process.once('SIGTERM', () => process.exit(0));
