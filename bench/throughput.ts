import { aiInstance, aiRoute, CHAT_BODY } from '@switchboard/e2e/dist/support/ai-routes.js';
import { startCluster } from '@switchboard/e2e/dist/support/cluster.js';
import { httpRequest } from '@switchboard/e2e/dist/support/http.js';
import { pollUntil } from '@switchboard/e2e/dist/support/poll.js';
import { busyPercent, sampleCpu } from './cpu-usage.js';
import { detectEnvironment } from './environment.js';
import type { LoadResult } from './load-generator.js';
import { type PinnedProcess, pinTo, runNodeProcess, startNodeProcess } from './pinned-process.js';
import { round } from './stats.js';

export interface ThroughputOptions {
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly concurrency: number;
}

export interface ThroughputSummary {
  readonly benchmark: 'throughput';
  readonly pinned: boolean;
  readonly concurrency: number;
  readonly duration_ms: number;
  readonly forwarder_rps: number;
  readonly gateway_rps: number;
  readonly ratio: number;
  /**
   * Requests per busy second of the proxy's core, gateway over forwarder. When the mock and load
   * generator's core saturates first, the forwarder's plain rps understates it and `ratio` flatters
   * the gateway; this figure does not.
   */
  readonly cpu_normalised_ratio: number | null;
  readonly forwarder_errors: number;
  readonly gateway_errors: number;
  readonly gateway_p50_ms: number;
  readonly gateway_p99_ms: number;
  readonly forwarder_p50_ms: number;
  readonly forwarder_p99_ms: number;
  /** Busy percent of each core during the run (core 0: proxy; core 1: mock + load generator). */
  readonly forwarder_core_busy_pct: readonly number[];
  readonly gateway_core_busy_pct: readonly number[];
  readonly target_ratio: 0.7;
  readonly pass: boolean;
}

const CHAT_PATH = '/v1/chat/completions';

/**
 * The data plane (ai-proxy-multi, two instances 8:2 on the mock, one worker) against a bare undici
 * forwarder, both pinned to core 0; the mock and the load generator share core 1. Same load, same
 * mock, one after the other.
 */
export async function runThroughputBenchmark(
  options: ThroughputOptions,
  log: (line: string) => void,
): Promise<ThroughputSummary> {
  const environment = detectEnvironment();
  const pinned = environment.taskset && environment.cores >= 2;
  const proxyCore = pinTo(0, environment);
  const loadCore = pinTo(1, environment);
  log(
    `throughput: ${pinned ? 'proxies on core 0, mock and load generator on core 1' : 'not pinned (no taskset or a single core)'}`,
  );

  const started: Array<{ stop(): Promise<unknown> }> = [];
  try {
    const mock: PinnedProcess = await startNodeProcess({
      prefix: loadCore,
      script: 'e2e/dist/mock-llm/main.js',
      args: ['--port', '0', '--name', 'bench', '--no-record'],
      readyPattern: /listening on (\S+)/,
    });
    started.push(mock);
    const mockUrl = mock.ready[1] ?? '';

    const cluster = await startCluster({
      dataPlanes: 1,
      commandPrefix: { dataPlane: proxyCore },
      // The access log goes to a file as in production, not through the harness's pipe.
      dataPlaneConfig: { nginx_config: { worker_processes: 1, http: { access_log: '/dev/null' } } },
    });
    started.push({ stop: () => cluster.close() });
    const route = aiRoute({
      uri: CHAT_PATH,
      instances: [
        aiInstance({ name: 'heavy', weight: 8, endpoint: mockUrl }),
        aiInstance({ name: 'light', weight: 2, endpoint: mockUrl }),
      ],
    });
    const put = await cluster.admin.put('/routes/bench', route);
    if (put.status !== 201 && put.status !== 200) throw new Error(`route PUT failed: ${put.status} ${put.text}`);
    const gatewayUrl = cluster.proxyUrls[0] ?? '';
    await pollUntil(async () => (await httpRequest(`${gatewayUrl}${CHAT_PATH}`, { body: CHAT_BODY })).status === 200, {
      timeoutMs: 15_000,
      description: 'the benchmark route',
    });

    const forwarder = await startNodeProcess({
      prefix: proxyCore,
      script: 'bench/dist/undici-forwarder.js',
      args: ['--target', mockUrl],
      readyPattern: /listening on (\S+)/,
    });
    started.push(forwarder);
    const forwarderUrl = forwarder.ready[1] ?? '';

    const load = async (baseUrl: string): Promise<LoadResult & { readonly coreBusy: number[] }> => {
      const before = sampleCpu();
      const stdout = await runNodeProcess(loadCore, 'bench/dist/load-main.js', [
        '--url',
        `${baseUrl}${CHAT_PATH}`,
        '--body',
        JSON.stringify(CHAT_BODY),
        '--concurrency',
        String(options.concurrency),
        '--duration-ms',
        String(options.durationMs),
        '--warmup-ms',
        String(options.warmupMs),
      ]);
      // Includes the warm-up; enough to see which core was saturated.
      const coreBusy = busyPercent(before, sampleCpu());
      return { ...(JSON.parse(stdout) as LoadResult), coreBusy };
    };

    log(`  forwarder: ${options.warmupMs} ms warm-up, ${options.durationMs} ms at concurrency ${options.concurrency}…`);
    const baseline = await load(forwarderUrl);
    log(`  forwarder: ${describeRun(baseline)}`);
    log('  gateway:   same load…');
    const gateway = await load(gatewayUrl);
    log(`  gateway:   ${describeRun(gateway)}`);
    for (const sample of [...baseline.errorSamples, ...gateway.errorSamples]) log(`  error sample: ${sample}`);

    const ratio = round(gateway.requestsPerSecond / baseline.requestsPerSecond, 3);
    log(`  ratio gateway/forwarder: ${ratio} (target ≥ 0.7, zero errors)`);
    const perBusyCore = (run: typeof gateway) => {
      const busy = pinned ? run.coreBusy[0] : undefined;
      return busy === undefined || busy === 0 ? undefined : run.requestsPerSecond / busy;
    };
    const gatewayPerCore = perBusyCore(gateway);
    const forwarderPerCore = perBusyCore(baseline);
    const cpuNormalisedRatio =
      gatewayPerCore === undefined || forwarderPerCore === undefined
        ? null
        : round(gatewayPerCore / forwarderPerCore, 3);
    if (cpuNormalisedRatio !== null) log(`  per busy second of the proxy core: ${cpuNormalisedRatio}`);
    return {
      benchmark: 'throughput',
      pinned,
      concurrency: options.concurrency,
      duration_ms: options.durationMs,
      forwarder_rps: baseline.requestsPerSecond,
      gateway_rps: gateway.requestsPerSecond,
      ratio,
      cpu_normalised_ratio: cpuNormalisedRatio,
      forwarder_errors: baseline.errors,
      gateway_errors: gateway.errors,
      gateway_p50_ms: gateway.latencyMs.p50,
      gateway_p99_ms: gateway.latencyMs.p99,
      forwarder_p50_ms: baseline.latencyMs.p50,
      forwarder_p99_ms: baseline.latencyMs.p99,
      forwarder_core_busy_pct: baseline.coreBusy,
      gateway_core_busy_pct: gateway.coreBusy,
      target_ratio: 0.7,
      pass: ratio >= 0.7 && gateway.errors === 0 && baseline.errors === 0,
    };
  } finally {
    await Promise.all(started.reverse().map((item) => item.stop()));
  }
}

function describeRun(result: LoadResult & { readonly coreBusy: readonly number[] }): string {
  const cores = result.coreBusy.map((busy, core) => `core ${core} ${busy}%`).join(', ');
  return `${result.requestsPerSecond} req/s, ${result.errors} errors, p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms (busy: ${cores})`;
}
