import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { startMockLlm } from '@switchboard/e2e/dist/mock-llm/server.js';
import { aiInstance, aiRoute, CHAT_BODY } from '@switchboard/e2e/dist/support/ai-routes.js';
import { startCluster } from '@switchboard/e2e/dist/support/cluster.js';
import { httpRequest } from '@switchboard/e2e/dist/support/http.js';
import { percentile, round } from './stats.js';

export interface PropagationOptions {
  readonly iterations: number;
  /** Give up on one iteration after this long (it then counts as a failure). */
  readonly deadlineMs: number;
}

export interface PropagationSummary {
  readonly benchmark: 'propagation';
  readonly iterations: number;
  readonly p50_ms: number;
  readonly p99_ms: number;
  readonly max_ms: number;
  readonly failures: number;
  readonly target_p99_ms: 100;
  readonly pass: boolean;
}

/**
 * One control plane and two data planes on etcd. Each iteration PUTs a route with a fresh uri and
 * measures from the PUT's answer until both replicas serve it, polling each every millisecond.
 */
export async function runPropagationBenchmark(
  options: PropagationOptions,
  log: (line: string) => void,
): Promise<PropagationSummary> {
  const [cluster, mock] = await Promise.all([
    startCluster({ dataPlanes: 2 }),
    startMockLlm({ name: 'propagation', record: false }),
  ]);
  try {
    log(`propagation: ${options.iterations} route PUTs, 1 control plane, 2 data planes, etcd`);
    const samples: number[] = [];
    let failures = 0;
    for (let iteration = 0; iteration < options.iterations; iteration++) {
      const uri = `/propagation/${iteration}/${randomUUID()}`;
      const route = aiRoute({ uri, instances: [aiInstance({ name: 'mock', endpoint: mock.url })] });
      const put = await cluster.admin.put(`/routes/propagation-${iteration}`, route);
      const putAnswered = performance.now();
      if (put.status !== 201 && put.status !== 200) throw new Error(`PUT failed: ${put.status} ${put.text}`);
      const perReplica = await Promise.all(
        cluster.proxyUrls.map((proxyUrl) => timeUntilServed(`${proxyUrl}${uri}`, putAnswered, options.deadlineMs)),
      );
      if (perReplica.some((elapsed) => elapsed === undefined)) failures++;
      else samples.push(Math.max(...(perReplica as number[])));
    }
    samples.sort((a, b) => a - b);
    const summary: PropagationSummary = {
      benchmark: 'propagation',
      iterations: options.iterations,
      p50_ms: round(percentile(samples, 50)),
      p99_ms: round(percentile(samples, 99)),
      max_ms: round(samples.at(-1) ?? Number.NaN),
      failures,
      target_p99_ms: 100,
      pass: failures === 0 && percentile(samples, 99) <= 100,
    };
    log(
      `  both replicas serving after: p50 ${summary.p50_ms} ms, p99 ${summary.p99_ms} ms, max ${summary.max_ms} ms; ${failures} not served within ${options.deadlineMs} ms`,
    );
    log('  (target p99 ≤ 100 ms)');
    return summary;
  } finally {
    await Promise.all([cluster.close(), mock.close()]);
  }
}

/** Milliseconds from `since` until `url` answers 200, or undefined past the deadline. */
async function timeUntilServed(url: string, since: number, deadlineMs: number): Promise<number | undefined> {
  for (;;) {
    const response = await httpRequest(url, { body: CHAT_BODY }).catch(() => undefined);
    const now = performance.now();
    if (response?.status === 200) return now - since;
    if (now - since > deadlineMs) return undefined;
    await sleep(1);
  }
}
