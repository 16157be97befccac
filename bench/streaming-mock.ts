import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';

/**
 * The paced upstream of the streaming benchmark: every POST is answered with an OpenAI chat stream of
 * `--chunks` content chunks, the first at once and then one every `--interval-ms` (on a fixed
 * schedule, so timer drift does not accumulate), then finish, usage and `[DONE]`. Each content chunk
 * carries `sent_ns`, the CLOCK_MONOTONIC time it was written (`process.hrtime`, the same clock in
 * every process on the machine), so a client can measure each chunk's one-way latency. Body fields
 * `bench_chunks: N` and `bench_interval_ms: M` ask for a shorter or faster stream (warm-up, time to
 * first byte); they are in the body because every proxy forwards that, while headers and the query may
 * be dropped on the way.
 *   node bench/dist/streaming-mock.js [--port 0] [--chunks 64] [--interval-ms 20]
 * Prints `streaming mock listening on <url>`.
 */
const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    chunks: { type: 'string', default: '64' },
    'interval-ms': { type: 'string', default: '20' },
  },
});
const chunkCount = Number(values.chunks);
const intervalMs = Number(values['interval-ms']);

function contentChunk(index: number): string {
  const chunk = {
    id: 'chatcmpl-paced',
    object: 'chat.completion.chunk',
    model: 'paced',
    choices: [{ index: 0, delta: { content: `tok${index} ` }, finish_reason: null }],
    sent_ns: String(process.hrtime.bigint()),
  };
  return `data: ${JSON.stringify(chunk)}\n\n`;
}

const ENDING = [
  { id: 'chatcmpl-paced', object: 'chat.completion.chunk', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
  {
    id: 'chatcmpl-paced',
    object: 'chat.completion.chunk',
    choices: [],
    usage: { prompt_tokens: 8, completion_tokens: chunkCount, total_tokens: 8 + chunkCount },
  },
]
  .map((chunk) => `data: ${JSON.stringify(chunk)}\n\n`)
  .join('');

/** A non-negative integer field of the request body (`bench_chunks`, `bench_interval_ms`), else the fallback. */
function requested(body: string, field: string, fallback: number): number {
  const match = new RegExp(`"${field}"\\s*:\\s*(\\d+)`).exec(body);
  return match === null ? fallback : Number(match[1]);
}

const server = createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (text: string) => {
    body += text;
  });
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const started = performance.now();
    const chunks = requested(body, 'bench_chunks', chunkCount);
    const interval = requested(body, 'bench_interval_ms', intervalMs);
    let index = 0;
    const next = (): void => {
      if (res.destroyed) return;
      res.write(contentChunk(index));
      index += 1;
      if (index >= chunks) {
        res.end(`${ENDING}data: [DONE]\n\n`);
        return;
      }
      setTimeout(next, Math.max(0, started + index * interval - performance.now()));
    };
    next();
  });
});
server.keepAliveTimeout = 65_000;
server.listen(Number(values.port), '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`streaming mock listening on http://127.0.0.1:${port}\n`);
});
process.once('SIGTERM', () => process.exit(0));
