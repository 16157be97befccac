import { parseArgs } from 'node:util';
import { runPropagationBenchmark } from './propagation.js';
import { runStreamingBenchmark } from './streaming.js';
import { runThroughputBenchmark } from './throughput.js';

/**
 * `node bench/run.mjs [throughput|propagation|streaming] [--duration-ms N] [--warmup-ms N] [--concurrency N] [--iterations N]
 *   [--streams N] [--stream-warmup N] [--ttft-samples N]`
 * Runs the named benchmark (both when none is named), prints what it measured and, last, one JSON
 * line per benchmark. Benchmarks report; they do not fail the process when a target is missed.
 */
const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    'duration-ms': { type: 'string', default: '10000' },
    'warmup-ms': { type: 'string', default: '3000' },
    concurrency: { type: 'string', default: '32' },
    iterations: { type: 'string', default: '100' },
    streams: { type: 'string', default: '12' },
    'stream-warmup': { type: 'string', default: '2000' },
    'ttft-samples': { type: 'string', default: '400' },
  },
});

const known = ['throughput', 'propagation', 'streaming'] as const;
type BenchmarkName = (typeof known)[number];
const isBenchmarkName = (name: string): name is BenchmarkName => (known as readonly string[]).includes(name);
const unknown = positionals.filter((name) => !isBenchmarkName(name));
if (unknown.length > 0) {
  process.stderr.write(`unknown benchmark ${unknown.join(', ')}; choose from ${known.join(', ')}\n`);
  process.exit(2);
}
const selected = positionals.length === 0 ? [...known] : positionals.filter(isBenchmarkName);
const log = (line: string): void => void process.stdout.write(`${line}\n`);

const summaries: object[] = [];
for (const name of selected) {
  switch (name) {
    case 'throughput':
      summaries.push(
        await runThroughputBenchmark(
          {
            durationMs: Number(values['duration-ms']),
            warmupMs: Number(values['warmup-ms']),
            concurrency: Number(values.concurrency),
          },
          log,
        ),
      );
      break;
    case 'propagation':
      summaries.push(await runPropagationBenchmark({ iterations: Number(values.iterations), deadlineMs: 5000 }, log));
      break;
    case 'streaming':
      summaries.push(
        await runStreamingBenchmark(
          {
            requests: Number(values.streams),
            warmup: Number(values['stream-warmup']),
            ttftSamples: Number(values['ttft-samples']),
          },
          log,
        ),
      );
      break;
  }
}
for (const summary of summaries) log(JSON.stringify(summary));
process.exit(0);
