import { Pool } from 'undici';
import { percentile, round } from './stats.js';

export interface LoadOptions {
  /** Full URL of the endpoint under test. */
  readonly url: string;
  readonly body: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Requests in flight at once; also the number of connections. */
  readonly concurrency: number;
  readonly durationMs: number;
  /** Traffic before measuring, discarded (JIT, connection set-up, pools). */
  readonly warmupMs: number;
}

export interface LoadResult {
  readonly requests: number;
  /** Transport errors plus answers that are not 2xx. */
  readonly errors: number;
  readonly non2xx: number;
  readonly durationMs: number;
  readonly requestsPerSecond: number;
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number };
  /** The first few errors, to say what went wrong. */
  readonly errorSamples: readonly string[];
}

/**
 * Closed-loop HTTP load with undici: `concurrency` loops each send the next request as soon as the
 * previous answer was read in full. Fixed duration, errors counted, latencies kept for percentiles.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const target = new URL(options.url);
  const pool = new Pool(target.origin, { connections: options.concurrency, pipelining: 1, keepAliveTimeout: 30_000 });
  const headers = { 'content-type': 'application/json', ...options.headers };
  const path = `${target.pathname}${target.search}`;
  try {
    await phase(pool, path, headers, options, options.warmupMs, false);
    return await phase(pool, path, headers, options, options.durationMs, true);
  } finally {
    await pool.close();
  }
}

async function phase(
  pool: Pool,
  path: string,
  headers: Record<string, string>,
  options: LoadOptions,
  durationMs: number,
  measure: boolean,
): Promise<LoadResult> {
  const latencies: number[] = [];
  const errorSamples: string[] = [];
  let requests = 0;
  let errors = 0;
  let non2xx = 0;
  const started = performance.now();
  const deadline = started + durationMs;

  const loop = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const sent = performance.now();
      try {
        const response = await pool.request({ method: 'POST', path, headers, body: options.body });
        await response.body.dump({ limit: Number.MAX_SAFE_INTEGER });
        if (response.statusCode < 200 || response.statusCode > 299) {
          non2xx++;
          errors++;
          if (errorSamples.length < 5) errorSamples.push(`status ${response.statusCode}`);
        }
      } catch (error) {
        errors++;
        if (errorSamples.length < 5) errorSamples.push(error instanceof Error ? error.message : String(error));
      }
      requests++;
      if (measure) latencies.push(performance.now() - sent);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, loop));
  const elapsed = performance.now() - started;
  latencies.sort((a, b) => a - b);
  return {
    requests,
    errors,
    non2xx,
    durationMs: round(elapsed, 0),
    requestsPerSecond: round((requests / elapsed) * 1000, 0),
    latencyMs: {
      p50: round(percentile(latencies, 50)),
      p99: round(percentile(latencies, 99)),
      max: round(latencies.at(-1) ?? Number.NaN),
    },
    errorSamples,
  };
}
