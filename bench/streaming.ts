import { loadavg } from 'node:os';
import { aiInstance, aiRoute } from '@switchboard/e2e/dist/support/ai-routes.js';
import { startCluster } from '@switchboard/e2e/dist/support/cluster.js';
import { httpRequest } from '@switchboard/e2e/dist/support/http.js';
import { pollUntil } from '@switchboard/e2e/dist/support/poll.js';
import { busyPercent, sampleCpu } from './cpu-usage.js';
import { detectEnvironment } from './environment.js';
import { type PinnedProcess, pinTo, runNodeProcess, startNodeProcess } from './pinned-process.js';
import { percentile, round } from './stats.js';
import type { StreamingClientResult, TargetResult } from './streaming-client.js';

export interface StreamingOptions {
  /** Rounds of full streams (one per target each). */
  readonly requests: number;
  /** Unmeasured rounds of short unpaced streams, so every process runs optimised code. */
  readonly warmup: number;
  /** Rounds of short streams measured for time to first byte only. */
  readonly ttftSamples: number;
}

interface TargetFigures {
  readonly ttft_p50_ms: number;
  readonly ttft_p90_ms: number;
  readonly chunk_latency_p50_ms: number;
  readonly chunk_latency_p99_ms: number;
  readonly chunk_gap_mean_ms: number;
  readonly chunks_per_stream: number;
  readonly errors: number;
}

/** A per-round difference of time to first byte between two targets, over the rounds both answered. */
interface PairedFigures {
  readonly p50_ms: number;
  readonly p90_ms: number;
  readonly rounds: number;
}

export interface StreamingSummary {
  readonly benchmark: 'streaming';
  readonly pinned: boolean;
  readonly chunks: 64;
  readonly interval_ms: 20;
  readonly streams: number;
  readonly warmup_rounds: number;
  readonly ttft_rounds: number;
  readonly direct: TargetFigures;
  /** A bare undici pass-through on the gateway's core: the floor of any Node proxy hop. */
  readonly forwarder: TargetFigures;
  readonly gateway: TargetFigures;
  /** Gateway minus direct, time to the first body byte, median of the per-round differences. */
  readonly added_ttft_ms: number;
  readonly added_ttft_p90_ms: number;
  /** Forwarder minus direct: what the extra process hop costs by itself. */
  readonly proxy_hop_ttft_ms: number;
  readonly proxy_hop_ttft_p90_ms: number;
  /** Gateway minus forwarder: what the gateway costs beyond the hop. */
  readonly added_ttft_over_forwarder_ms: number;
  readonly added_ttft_over_forwarder_p90_ms: number;
  /** Gateway minus direct, mean gap between consecutive chunks. */
  readonly added_chunk_gap_ms: number;
  /** Gateway minus direct, median one-way latency of a chunk (mock write → client read). */
  readonly added_chunk_latency_ms: number;
  readonly added_chunk_latency_over_forwarder_ms: number;
  /** How busy each core was during the measured rounds, and the 1-minute load average after them. */
  readonly core_busy_pct: readonly number[];
  readonly load_average: number;
  readonly target_added_ttft_ms: 1;
  readonly target_added_chunk_gap_ms: 0.1;
  readonly pass: boolean;
}

const CHUNKS = 64;
const INTERVAL_MS = 20;
const CHAT_PATH = '/v1/chat/completions';

const sorted = (values: readonly number[]) => [...values].sort((left, right) => left - right);
const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / Math.max(values.length, 1);
const answered = (values: ReadonlyArray<number | null>) => values.filter((value): value is number => value !== null);

function figuresOf(result: TargetResult): TargetFigures {
  const ttft = sorted(answered(result.ttftMs));
  const latencies = sorted(result.chunkLatencyMs);
  return {
    ttft_p50_ms: round(percentile(ttft, 50), 3),
    ttft_p90_ms: round(percentile(ttft, 90), 3),
    chunk_latency_p50_ms: round(percentile(latencies, 50), 3),
    chunk_latency_p99_ms: round(percentile(latencies, 99), 3),
    chunk_gap_mean_ms: round(mean(result.meanGapMs), 4),
    chunks_per_stream: round(mean(result.chunksPerRequest), 1),
    errors: result.errors,
  };
}

/** `of` minus `than`, round by round: both were measured moments apart, under the same load. */
function pairedDifference(of: TargetResult, than: TargetResult): PairedFigures {
  const differences: number[] = [];
  of.ttftMs.forEach((value, index) => {
    const other = than.ttftMs[index];
    if (value !== null && other !== null && other !== undefined) differences.push(value - other);
  });
  const ordered = sorted(differences);
  return {
    p50_ms: round(percentile(ordered, 50), 3),
    p90_ms: round(percentile(ordered, 90), 3),
    rounds: ordered.length,
  };
}

function describe(figures: TargetFigures): string {
  return (
    `TTFT p50 ${figures.ttft_p50_ms} ms (p90 ${figures.ttft_p90_ms}), chunk latency p50 ${figures.chunk_latency_p50_ms} ms ` +
    `(p99 ${figures.chunk_latency_p99_ms} ms), mean gap ${figures.chunk_gap_mean_ms} ms, ` +
    `${figures.chunks_per_stream} chunks/stream, ${figures.errors} errors`
  );
}

const describePair = (pair: PairedFigures) => `median ${pair.p50_ms} ms, p90 ${pair.p90_ms} ms`;

/**
 * Streaming overhead (issue 3, DECISIONS "Beyond APISIX"): a paced mock (64 chunks, 20 ms apart) called
 * directly, through a bare undici forwarder and through one data-plane worker (ai-proxy-multi, one
 * instance); proxies pinned to core 0, mock and client to core 1, one stream at a time so they never
 * queue behind each other. One client measures the three targets in interleaved, shuffled rounds after a
 * long warm-up (streaming-client.ts) and reports the added time to first byte as the median and p90 of the
 * per-round differences (target ≤ 1 ms, median), the added per-chunk gap (≤ 0.1 ms) and the one-way
 * chunk latency; the forwarder splits the added time into the hop itself and the gateway's own work.
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
    `streaming: ${pinned ? 'gateway and forwarder on core 0, mock and client on core 1' : 'not pinned (no taskset or a single core)'}`,
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

    log(
      `  ${options.warmup} warm-up rounds, ${options.ttftSamples} rounds of short streams (time to first byte), ` +
        `then ${options.requests} rounds of ${CHUNKS} chunks ${INTERVAL_MS} ms apart; each round sends one stream ` +
        'to each of the mock directly, a bare undici forwarder and the gateway, one at a time in a shuffled order…',
    );
    const cpuBefore = sampleCpu();
    const measured = JSON.parse(
      await runNodeProcess(clientCore, 'bench/dist/streaming-client.js', [
        ...['--target', `direct=${mockUrl}${CHAT_PATH}`],
        ...['--target', `forwarder=${forwarderUrl}${CHAT_PATH}`],
        ...['--target', `gateway=${gatewayUrl}${CHAT_PATH}`],
        ...['--requests', String(options.requests)],
        ...['--warmup', String(options.warmup)],
        ...['--ttft-samples', String(options.ttftSamples)],
      ]),
    ) as StreamingClientResult;
    const coreBusy = busyPercent(cpuBefore, sampleCpu());
    const loadAverage = round(loadavg()[0] ?? 0, 2);
    const results = {
      direct: measured.targets.direct as TargetResult,
      forwarder: measured.targets.forwarder as TargetResult,
      gateway: measured.targets.gateway as TargetResult,
    };
    const direct = figuresOf(results.direct);
    const forwarder = figuresOf(results.forwarder);
    const gateway = figuresOf(results.gateway);
    log(`  direct:    ${describe(direct)}`);
    log(`  forwarder: ${describe(forwarder)}`);
    log(`  gateway:   ${describe(gateway)}`);
    for (const [name, result] of Object.entries(results))
      for (const sample of result.errorSamples) log(`  ${name} error sample: ${sample}`);

    const added = pairedDifference(results.gateway, results.direct);
    const hop = pairedDifference(results.forwarder, results.direct);
    const overForwarder = pairedDifference(results.gateway, results.forwarder);
    const addedGap = round(gateway.chunk_gap_mean_ms - direct.chunk_gap_mean_ms, 4);
    const addedLatency = round(gateway.chunk_latency_p50_ms - direct.chunk_latency_p50_ms, 3);
    const overForwarderLatency = round(gateway.chunk_latency_p50_ms - forwarder.chunk_latency_p50_ms, 3);
    log(
      `  added time to first token (gateway − direct, per round, ${added.rounds} rounds): ${describePair(added)} (target ≤ 1 ms)`,
    );
    log(`    the proxy hop itself (bare forwarder − direct): ${describePair(hop)}`);
    log(`    the gateway beyond the hop (gateway − forwarder): ${describePair(overForwarder)}`);
    log(`  added per-chunk gap: ${addedGap} ms (target ≤ 0.1 ms)`);
    log(
      `  added per-chunk latency (p50, one way): ${addedLatency} ms, of which the gateway beyond the hop ${overForwarderLatency} ms`,
    );
    log(
      `  machine: cores busy ${coreBusy.map((busy) => `${busy}%`).join(' / ')} during the rounds, load average ${loadAverage} ` +
        '(the rounds alone keep it low; more means other work shared the cores)',
    );
    return {
      benchmark: 'streaming',
      pinned,
      chunks: CHUNKS,
      interval_ms: INTERVAL_MS,
      streams: options.requests,
      warmup_rounds: options.warmup,
      ttft_rounds: measured.rounds,
      direct,
      forwarder,
      gateway,
      added_ttft_ms: added.p50_ms,
      added_ttft_p90_ms: added.p90_ms,
      proxy_hop_ttft_ms: hop.p50_ms,
      proxy_hop_ttft_p90_ms: hop.p90_ms,
      added_ttft_over_forwarder_ms: overForwarder.p50_ms,
      added_ttft_over_forwarder_p90_ms: overForwarder.p90_ms,
      added_chunk_gap_ms: addedGap,
      added_chunk_latency_ms: addedLatency,
      added_chunk_latency_over_forwarder_ms: overForwarderLatency,
      core_busy_pct: coreBusy,
      load_average: loadAverage,
      target_added_ttft_ms: 1,
      target_added_chunk_gap_ms: 0.1,
      pass:
        added.p50_ms <= 1 &&
        addedGap <= 0.1 &&
        direct.errors === 0 &&
        gateway.errors === 0 &&
        gateway.chunks_per_stream === CHUNKS,
    };
  } finally {
    await Promise.all(started.reverse().map((item) => item.stop()));
  }
}
