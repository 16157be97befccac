import { Agent, request } from 'node:http';
import { parseArgs } from 'node:util';

/**
 * The client of the streaming benchmark, as its own process so it can be pinned. It measures several
 * targets (`--target name=url`, repeated) in interleaved rounds: each round sends one stream to every
 * target, one at a time, in a shuffled order. A change in the machine's load (it is shared) then hits
 * every target alike, and a round's figures can be compared pairwise. The order is shuffled because
 * it matters: a proxy that always follows the other proxy on its core starts with caches the other
 * just filled, and a fixed rotation measured the same gateway up to 0.4 ms slower.
 *   1. `--warmup` rounds of 4-chunk streams without pauses, unmeasured: enough requests for V8 to
 *      optimise every process's request path. After a few hundred, part of it still runs in the
 *      interpreter, which alone added 0.3–0.5 ms to the gateway's time to first byte.
 *   2. `--ttft-samples` rounds of 2-chunk streams (the second chunk 20 ms later, so every process idles
 *      between requests, as it does while a model thinks): time to the first body byte only.
 *   3. `--requests` rounds of full streams: time to first byte, each content chunk's one-way latency
 *      (arrival minus the mock's `sent_ns`, both CLOCK_MONOTONIC) and the gaps between chunks.
 *   node bench/dist/streaming-client.js --target direct=URL --target gateway=URL [--requests 12] [--warmup 2000] [--ttft-samples 400]
 * Prints one JSON line (StreamingClientResult) and exits.
 */
export interface StreamingClientResult {
  /** Rounds with a time to first byte: the short ones, then the full ones. */
  readonly rounds: number;
  readonly targets: Readonly<Record<string, TargetResult>>;
}

export interface TargetResult {
  readonly errors: number;
  readonly errorSamples: readonly string[];
  /** Per round (index = round): ms from sending the request to its first body byte; null when it failed. */
  readonly ttftMs: ReadonlyArray<number | null>;
  /** Per content chunk of the full streams: ms from the mock writing it to the client reading it. */
  readonly chunkLatencyMs: readonly number[];
  /** Per full stream: mean ms between consecutive content chunks. */
  readonly meanGapMs: readonly number[];
  readonly chunksPerRequest: readonly number[];
}

const { values } = parseArgs({
  options: {
    target: { type: 'string', multiple: true },
    requests: { type: 'string', default: '12' },
    warmup: { type: 'string', default: '2000' },
    'ttft-samples': { type: 'string', default: '400' },
  },
});
const targets = (values.target ?? []).map((spec) => {
  const at = spec.indexOf('=');
  return { name: spec.slice(0, at), url: spec.slice(at + 1) };
});
if (targets.length === 0 || targets.some((target) => target.name === '' || target.url === '')) {
  process.stderr.write('usage: streaming-client --target name=URL [--target name=URL …] [--requests N] [--warmup N]\n');
  process.exit(2);
}

const streamBody = (fields: Record<string, number>) =>
  JSON.stringify({ model: 'paced', stream: true, ...fields, messages: [{ role: 'user', content: 'Count.' }] });
const WARMUP_BODY = streamBody({ bench_chunks: 4, bench_interval_ms: 0 });
const SHORT_BODY = streamBody({ bench_chunks: 2 });
const FULL_BODY = streamBody({});
const SENT = /"sent_ns":"(\d+)"/;

interface OneStream {
  readonly ttftMs: number;
  readonly latenciesMs: number[];
  readonly arrivalsNs: bigint[];
}

function nsToMs(ns: bigint): number {
  return Number(ns) / 1e6;
}

function streamOnce(url: string, agent: Agent, body: string): Promise<OneStream> {
  return new Promise((resolve, reject) => {
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
    const started = process.hrtime.bigint();
    req.end(body);
  });
}

interface TargetState extends TargetResult {
  readonly name: string;
  readonly url: string;
  readonly agent: Agent;
  errors: number;
  readonly errorSamples: string[];
  readonly ttftMs: Array<number | null>;
  readonly chunkLatencyMs: number[];
  readonly meanGapMs: number[];
  readonly chunksPerRequest: number[];
}

const states: TargetState[] = targets.map((target) => ({
  ...target,
  agent: new Agent({ keepAlive: true, maxSockets: 1 }),
  errors: 0,
  errorSamples: [],
  ttftMs: [],
  chunkLatencyMs: [],
  meanGapMs: [],
  chunksPerRequest: [],
}));

/** mulberry32: a small seeded generator, so every run shuffles the rounds the same way. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

const random = seededRandom(20_240_601);

/** Fisher–Yates over a copy. */
function shuffled<T>(items: readonly T[]): T[] {
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [copy[index], copy[other]] = [copy[other] as T, copy[index] as T];
  }
  return copy;
}

/** `count` rounds of one stream per target, in a shuffled order each round. */
async function runRounds(
  count: number,
  body: string,
  onStream: (state: TargetState, stream: OneStream | undefined, error: unknown) => void,
): Promise<void> {
  for (let round = 0; round < count; round++) {
    for (const state of shuffled(states)) {
      try {
        onStream(state, await streamOnce(state.url, state.agent, body), undefined);
      } catch (error) {
        onStream(state, undefined, error);
      }
    }
  }
}

function recordFailure(state: TargetState, error: unknown): void {
  state.errors += 1;
  state.ttftMs.push(null);
  if (state.errorSamples.length < 3) state.errorSamples.push(String(error));
}

await runRounds(Number(values.warmup), WARMUP_BODY, () => {});
await runRounds(Number(values['ttft-samples']), SHORT_BODY, (state, stream, error) => {
  if (stream === undefined) recordFailure(state, error);
  else state.ttftMs.push(stream.ttftMs);
});
await runRounds(Number(values.requests), FULL_BODY, (state, stream, error) => {
  if (stream === undefined) {
    recordFailure(state, error);
    return;
  }
  state.ttftMs.push(stream.ttftMs);
  state.chunkLatencyMs.push(...stream.latenciesMs);
  state.chunksPerRequest.push(stream.arrivalsNs.length);
  const { arrivalsNs } = stream;
  const firstArrival = arrivalsNs[0];
  const lastArrival = arrivalsNs.at(-1);
  if (firstArrival !== undefined && lastArrival !== undefined && arrivalsNs.length > 1)
    state.meanGapMs.push(nsToMs(lastArrival - firstArrival) / (arrivalsNs.length - 1));
});
for (const state of states) state.agent.destroy();

const result: StreamingClientResult = {
  rounds: Number(values['ttft-samples']) + Number(values.requests),
  targets: Object.fromEntries(
    states.map(({ name, errors, errorSamples, ttftMs, chunkLatencyMs, meanGapMs, chunksPerRequest }) => [
      name,
      { errors, errorSamples, ttftMs, chunkLatencyMs, meanGapMs, chunksPerRequest },
    ]),
  ),
};
process.stdout.write(`${JSON.stringify(result)}\n`);
