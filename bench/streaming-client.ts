import { Agent, request } from 'node:http';
import { parseArgs } from 'node:util';

/**
 * The client of the streaming benchmark, as its own process so it can be pinned: runs `--requests`
 * streaming chat requests (`--concurrency` at a time, after `--warmup` unmeasured ones) over keep-alive
 * connections and records, per request, the time to the first body byte and, per content chunk, its
 * arrival time and one-way latency (arrival minus the mock's `sent_ns`, both CLOCK_MONOTONIC). Warm-up
 * streams are two chunks long (`bench_chunks` in the body), enough to get the proxy's code optimised; then
 * `--ttft-samples` more short streams add time-to-first-byte samples (a full stream gives only one).
 *   node bench/dist/streaming-client.js --url URL [--requests 16] [--concurrency 4] [--warmup 4] [--ttft-samples 0]
 * Prints one JSON line (StreamingClientResult) and exits.
 */
export interface StreamingClientResult {
  readonly requests: number;
  readonly errors: number;
  readonly errorSamples: readonly string[];
  /** Per request (short and full streams): ms from sending the request to its first body byte. */
  readonly ttftMs: readonly number[];
  /** Per content chunk: ms from the mock writing it to the client reading it. */
  readonly chunkLatencyMs: readonly number[];
  /** Per request: mean ms between consecutive content chunks. */
  readonly meanGapMs: readonly number[];
  readonly chunksPerRequest: readonly number[];
}

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    requests: { type: 'string', default: '16' },
    concurrency: { type: 'string', default: '4' },
    warmup: { type: 'string', default: '4' },
    'ttft-samples': { type: 'string', default: '0' },
  },
});
if (values.url === undefined) {
  process.stderr.write('usage: streaming-client --url URL [--requests N] [--concurrency N] [--warmup N]\n');
  process.exit(2);
}
const url = values.url;
const agent = new Agent({ keepAlive: true, maxSockets: Number(values.concurrency) });
const FULL_BODY = JSON.stringify({ model: 'paced', stream: true, messages: [{ role: 'user', content: 'Count.' }] });
const SHORT_BODY = JSON.stringify({
  model: 'paced',
  stream: true,
  bench_chunks: 2,
  messages: [{ role: 'user', content: 'Count.' }],
});
const SENT = /"sent_ns":"(\d+)"/;

interface OneStream {
  readonly ttftMs: number;
  readonly latenciesMs: number[];
  readonly arrivalsNs: bigint[];
}

function nsToMs(ns: bigint): number {
  return Number(ns) / 1e6;
}

function streamOnce(body: string): Promise<OneStream> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    let first: bigint | undefined;
    let pending = '';
    const latenciesMs: number[] = [];
    const arrivalsNs: bigint[] = [];
    const req = request(url, {
      method: 'POST',
      agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    });
    req.on('error', reject);
    // A stream that stalls counts as an error instead of hanging the benchmark.
    req.setTimeout(10_000, () => req.destroy(new Error('no data for 10 s')));
    req.on('response', (res) => {
      if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`));
      res.setEncoding('utf8');
      res.on('data', (text: string) => {
        const arrival = process.hrtime.bigint();
        first ??= arrival;
        pending += text;
        const events = pending.split('\n\n');
        pending = events.pop() ?? '';
        for (const event of events) {
          const sent = SENT.exec(event);
          if (sent === null) continue;
          latenciesMs.push(nsToMs(arrival - BigInt(sent[1] ?? '0')));
          arrivalsNs.push(arrival);
        }
      });
      res.on('end', () => resolve({ ttftMs: nsToMs((first ?? started) - started), latenciesMs, arrivalsNs }));
      res.on('error', reject);
    });
    req.end(body);
  });
}

async function runAll(
  count: number,
  options: { readonly concurrency: number; readonly body: string },
  onStream: (stream: OneStream) => void,
  onError: (error: unknown) => void,
) {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      next += 1;
      try {
        onStream(await streamOnce(options.body));
      } catch (error) {
        onError(error);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
}

const concurrency = Number(values.concurrency);
await runAll(
  Number(values.warmup),
  { concurrency, body: SHORT_BODY },
  () => {},
  () => {},
);
const ttftMs: number[] = [];
const chunkLatencyMs: number[] = [];
const meanGapMs: number[] = [];
const chunksPerRequest: number[] = [];
const errorSamples: string[] = [];
let errors = 0;
const onError = (error: unknown): void => {
  errors += 1;
  if (errorSamples.length < 3) errorSamples.push(String(error));
};
await runAll(
  Number(values['ttft-samples']),
  { concurrency, body: SHORT_BODY },
  (stream) => ttftMs.push(stream.ttftMs),
  onError,
);
await runAll(
  Number(values.requests),
  { concurrency, body: FULL_BODY },
  (stream) => {
    ttftMs.push(stream.ttftMs);
    chunkLatencyMs.push(...stream.latenciesMs);
    chunksPerRequest.push(stream.arrivalsNs.length);
    const { arrivalsNs } = stream;
    const firstArrival = arrivalsNs[0];
    const lastArrival = arrivalsNs.at(-1);
    if (firstArrival !== undefined && lastArrival !== undefined && arrivalsNs.length > 1)
      meanGapMs.push(nsToMs(lastArrival - firstArrival) / (arrivalsNs.length - 1));
  },
  onError,
);
agent.destroy();
const result: StreamingClientResult = {
  requests: Number(values.requests),
  errors,
  errorSamples,
  ttftMs,
  chunkLatencyMs,
  meanGapMs,
  chunksPerRequest,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
