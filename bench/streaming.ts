import { aiInstance, aiRoute } from '@switchboard/e2e/dist/support/ai-routes.js';
import { startCluster } from '@switchboard/e2e/dist/support/cluster.js';
import { httpRequest } from '@switchboard/e2e/dist/support/http.js';
import { pollUntil } from '@switchboard/e2e/dist/support/poll.js';
import { detectEnvironment } from './environment.js';
import { type PinnedProcess, pinTo, runNodeProcess, startNodeProcess } from './pinned-process.js';
import { percentile, round } from './stats.js';
import type { StreamingClientResult } from './streaming-client.js';

export interface StreamingOptions {
  /** Measured streams per target. */
  readonly requests: number;
  readonly concurrency: number;
  readonly warmup: number;
  /** Extra short streams measured for time to first byte only. */
  readonly ttftSamples: number;
}

interface TargetFigures {
  readonly ttft_p50_ms: number;
  readonly chunk_latency_p50_ms: number;
  readonly chunk_latency_p99_ms: number;
  readonly chunk_gap_mean_ms: number;
  readonly chunks_per_stream: number;
  readonly errors: number;
}

export interface StreamingSummary {
  readonly benchmark: 'streaming';
  readonly pinned: boolean;
  readonly chunks: 64;
  readonly interval_ms: 20;
  readonly streams: number;
  readonly direct: TargetFigures;
  /** A bare undici pass-through on the gateway's core: the floor of any Node proxy hop. */
  readonly forwarder: TargetFigures;
  readonly gateway: TargetFigures;
  /** Gateway minus direct, median time to the first body byte. */
  readonly added_ttft_ms: number;
  /** Gateway minus direct, mean gap between consecutive chunks. */
  readonly added_chunk_gap_ms: number;
  /** Gateway minus direct, median one-way latency of a chunk (mock write → client read). */
  readonly added_chunk_latency_ms: number;
  /** Gateway minus forwarder: what the gateway costs beyond the proxy hop itself. */
  readonly added_ttft_over_forwarder_ms: number;
  readonly added_chunk_latency_over_forwarder_ms: number;
  readonly target_added_ttft_ms: 1;
  readonly target_added_chunk_gap_ms: 0.1;
  readonly pass: boolean;
}

const CHUNKS = 64;
const INTERVAL_MS = 20;
const CHAT_PATH = '/v1/chat/completions';

const sorted = (values: readonly number[]) => [...values].sort((left, right) => left - right);
const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / Math.max(values.length, 1);

function figuresOf(result: StreamingClientResult): TargetFigures {
  const latencies = sorted(result.chunkLatencyMs);
  return {
    ttft_p50_ms: round(percentile(sorted(result.ttftMs), 50), 3),
    chunk_latency_p50_ms: round(percentile(latencies, 50), 3),
    chunk_latency_p99_ms: round(percentile(latencies, 99), 3),
    chunk_gap_mean_ms: round(mean(result.meanGapMs), 4),
    chunks_per_stream: round(mean(result.chunksPerRequest), 1),
    errors: result.errors,
  };
}

function describe(figures: TargetFigures): string {
  return (
    `TTFT p50 ${figures.ttft_p50_ms} ms, chunk latency p50 ${figures.chunk_latency_p50_ms} ms ` +
    `(p99 ${figures.chunk_latency_p99_ms} ms), mean gap ${figures.chunk_gap_mean_ms} ms, ` +
    `${figures.chunks_per_stream} chunks/stream, ${figures.errors} errors`
  );
}

/**
 * Streaming overhead (issue 3, DECISIONS "Beyond APISIX"): a paced mock (64 chunks, 20 ms apart) called
 * directly, through a bare undici forwarder and through one data-plane worker (ai-proxy-multi, one
 * instance); proxies pinned to core 0, mock and client to core 1, streams one at a time so they never
 * queue behind each other. Reports, from one run, the added time to first byte and the added per-chunk
 * gap (targets ≤ 1 ms and ≤ 0.1 ms) and the one-way chunk latency; the forwarder shows how much of
 * that any extra process hop costs on this machine.
 */
export async function runStreamingBenchmark(
  options: StreamingOptions,
  log: (line: string) => void,
): Promise<StreamingSummary> {
  const environment = detectEnvironment();
  const pinned = environment.taskset && environment.cores >= 2;
  const proxyCore = pinTo(0, environment);
  const clientCore = pinTo(1, environment);
  log(
    `streaming: ${pinned ? 'gateway on core 0, mock and client on core 1' : 'not pinned (no taskset or a single core)'}`,
  );

  const started: Array<{ stop(): Promise<unknown> }> = [];
  try {
    const mock: PinnedProcess = await startNodeProcess({
      prefix: clientCore,
      script: 'bench/dist/streaming-mock.js',
      args: ['--port', '0', '--chunks', String(CHUNKS), '--interval-ms', String(INTERVAL_MS)],
      readyPattern: /listening on (\S+)/,
    });
    started.push(mock);
    const mockUrl = mock.ready[1] ?? '';

    const cluster = await startCluster({
      dataPlanes: 1,
      commandPrefix: { dataPlane: proxyCore },
      dataPlaneConfig: { nginx_config: { worker_processes: 1, http: { access_log: '/dev/null' } } },
    });
    started.push({ stop: () => cluster.close() });
    const route = aiRoute({ uri: CHAT_PATH, instances: [aiInstance({ name: 'paced', endpoint: mockUrl })] });
    const put = await cluster.admin.put('/routes/streaming', route);
    if (put.status !== 201 && put.status !== 200) throw new Error(`route PUT failed: ${put.status} ${put.text}`);
    const gatewayUrl = cluster.proxyUrls[0] ?? '';
    const forwarderProcess = await startNodeProcess({
      prefix: proxyCore,
      script: 'bench/dist/undici-forwarder.js',
      args: ['--target', mockUrl],
      readyPattern: /listening on (\S+)/,
    });
    started.push(forwarderProcess);
    const forwarderUrl = forwarderProcess.ready[1] ?? '';
    await pollUntil(
      async () =>
        (await httpRequest(`${gatewayUrl}${CHAT_PATH}`, { body: { messages: [], stream: true } })).status === 200,
      { timeoutMs: 15_000, description: 'the benchmark route' },
    );

    const measure = async (baseUrl: string): Promise<StreamingClientResult> =>
      JSON.parse(
        await runNodeProcess(clientCore, 'bench/dist/streaming-client.js', [
          '--url',
          `${baseUrl}${CHAT_PATH}`,
          '--requests',
          String(options.requests),
          '--concurrency',
          String(options.concurrency),
          '--warmup',
          String(options.warmup),
          '--ttft-samples',
          String(options.ttftSamples),
        ]),
      ) as StreamingClientResult;

    log(
      `  ${options.warmup} warm-up and ${options.ttftSamples} short streams (time to first byte), then ` +
        `${options.requests} streams of ${CHUNKS} chunks ${INTERVAL_MS} ms apart, ${options.concurrency} at a time, ` +
        'to each of: the mock directly, a bare undici forwarder, the gateway…',
    );
    const direct = figuresOf(await measure(mockUrl));
    log(`  direct:    ${describe(direct)}`);
    const forwarder = figuresOf(await measure(forwarderUrl));
    log(`  forwarder: ${describe(forwarder)}`);
    const gateway = figuresOf(await measure(gatewayUrl));
    log(`  gateway:   ${describe(gateway)}`);

    const addedTtft = round(gateway.ttft_p50_ms - direct.ttft_p50_ms, 3);
    const addedGap = round(gateway.chunk_gap_mean_ms - direct.chunk_gap_mean_ms, 4);
    const addedLatency = round(gateway.chunk_latency_p50_ms - direct.chunk_latency_p50_ms, 3);
    log(`  added time to first token: ${addedTtft} ms (target ≤ 1 ms)`);
    log(`  added per-chunk gap: ${addedGap} ms (target ≤ 0.1 ms)`);
    log(`  added per-chunk latency (p50, one way): ${addedLatency} ms`);
    const overForwarderTtft = round(gateway.ttft_p50_ms - forwarder.ttft_p50_ms, 3);
    const overForwarderLatency = round(gateway.chunk_latency_p50_ms - forwarder.chunk_latency_p50_ms, 3);
    log(
      `  of which the proxy hop itself (bare forwarder − direct): TTFT ${round(forwarder.ttft_p50_ms - direct.ttft_p50_ms, 3)} ms, ` +
        `chunk ${round(forwarder.chunk_latency_p50_ms - direct.chunk_latency_p50_ms, 3)} ms; ` +
        `gateway − forwarder: TTFT ${overForwarderTtft} ms, chunk ${overForwarderLatency} ms`,
    );
    return {
      benchmark: 'streaming',
      pinned,
      chunks: CHUNKS,
      interval_ms: INTERVAL_MS,
      streams: options.requests,
      direct,
      forwarder,
      gateway,
      added_ttft_ms: addedTtft,
      added_chunk_gap_ms: addedGap,
      added_chunk_latency_ms: addedLatency,
      added_ttft_over_forwarder_ms: overForwarderTtft,
      added_chunk_latency_over_forwarder_ms: overForwarderLatency,
      target_added_ttft_ms: 1,
      target_added_chunk_gap_ms: 0.1,
      pass:
        addedTtft <= 1 &&
        addedGap <= 0.1 &&
        direct.errors === 0 &&
        gateway.errors === 0 &&
        gateway.chunks_per_stream === CHUNKS,
    };
  } finally {
    await Promise.all(started.reverse().map((item) => item.stop()));
  }
}
