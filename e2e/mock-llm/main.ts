import { parseArgs } from 'node:util';
import { startMockLlm } from './server.js';

/**
 * `node e2e/dist/mock-llm/main.js [--port N] [--host H] [--name X] [--no-record]`
 * Prints one line `mock-llm <name> listening on <url>` once it accepts connections, then runs until
 * SIGINT/SIGTERM. Benchmarks start it under `taskset` and wait for that line.
 */
const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    name: { type: 'string', default: 'mock' },
    'no-record': { type: 'boolean', default: false },
  },
});

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`invalid --port ${values.port}\n`);
  process.exit(2);
}

const mock = await startMockLlm({ port, host: values.host, name: values.name, record: !values['no-record'] });
process.stdout.write(`mock-llm ${mock.name} listening on ${mock.url}\n`);

const stop = (): void => {
  mock.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
