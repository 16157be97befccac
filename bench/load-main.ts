import { parseArgs } from 'node:util';
import { runLoad } from './load-generator.js';

/**
 * The load generator as its own process, so it can be pinned to a core with `taskset`:
 *   node bench/dist/load-main.js --url URL --body JSON [--concurrency 32] [--duration-ms 10000] [--warmup-ms 2000]
 * Prints one JSON line (LoadResult) and exits.
 */
const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    body: { type: 'string' },
    concurrency: { type: 'string', default: '32' },
    'duration-ms': { type: 'string', default: '10000' },
    'warmup-ms': { type: 'string', default: '2000' },
  },
});
if (values.url === undefined || values.body === undefined) {
  process.stderr.write('usage: load-main --url URL --body JSON [--concurrency N] [--duration-ms N] [--warmup-ms N]\n');
  process.exit(2);
}
const result = await runLoad({
  url: values.url,
  body: values.body,
  concurrency: Number(values.concurrency),
  durationMs: Number(values['duration-ms']),
  warmupMs: Number(values['warmup-ms']),
});
process.stdout.write(`${JSON.stringify(result)}\n`);
