import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CONTROL_PREFIX, handleControl } from './control.js';
import { loadFixtures, type MockFixtures } from './fixtures.js';
import { createRequestRecorder, parseJsonOrUndefined, type RecordedRequest } from './recorder.js';
import { respond } from './respond.js';
import { describeScenario, isRecord, parseScenario, parseScenarioValue, type Scenario } from './scenario.js';
import { createScenarioSchedule } from './scenario-schedule.js';
import { createStreamGate } from './stream-gate.js';

export interface MockLlmOptions {
  /** 0 (default) picks a free port. */
  readonly port?: number;
  readonly host?: string;
  /** Sent as `x-mock-name` and written into response ids; default `mock`. */
  readonly name?: string;
  /** Keep every request for `requests()` (default true; benchmarks turn it off). */
  readonly record?: boolean;
  readonly fixtures?: MockFixtures;
  readonly now?: () => number;
}

export interface MockLlm {
  readonly url: string;
  readonly port: number;
  readonly name: string;
  requests(): readonly RecordedRequest[];
  clear(): void;
  /** A string (`'status:500'`) or object scenario for requests without `x-mock-scenario`. */
  setScenario(scenario: string | Scenario, options?: { readonly times?: number }): void;
  /** Lets a `gated-stream` response send its next chunk (permits accumulate). */
  releaseChunk(count?: number): void;
  close(): Promise<void>;
}

export const SCENARIO_HEADER = 'x-mock-scenario';

/**
 * Starts a scripted OpenAI-compatible server on loopback.
 * @example
 *   const mock = await startMockLlm({ name: 'a' });
 *   mock.setScenario('status:429', { times: 1 });
 *   // … point an instance's override.endpoint at `${mock.url}/v1/chat/completions` …
 *   mock.requests()[0]?.headers.authorization;
 */
export async function startMockLlm(options: MockLlmOptions = {}): Promise<MockLlm> {
  const name = options.name ?? 'mock';
  const fixtures = options.fixtures ?? loadFixtures();
  const now = options.now ?? Date.now;
  const recorder = createRequestRecorder({ enabled: options.record ?? true });
  const schedule = createScenarioSchedule();
  const gate = createStreamGate();
  const closing = new AbortController();
  let seq = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://mock.invalid');
    const method = req.method ?? 'GET';
    const bodyText = body.toString('utf8');
    if (url.pathname.startsWith(CONTROL_PREFIX)) {
      handleControl({ schedule, recorder, gate }, method, url.pathname, bodyText, res);
      return;
    }
    const scenario = scenarioFor(req, schedule.take.bind(schedule), res);
    if (scenario === undefined) return;
    const json = parseJsonOrUndefined(bodyText);
    seq++;
    const request: RecordedRequest = {
      seq,
      method,
      path: url.pathname,
      rawQuery: url.search.slice(1),
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      body,
      bodyText,
      json,
      scenario: describeScenario(scenario),
    };
    recorder.add(request);
    const requestedModel = isRecord(json) && typeof json.model === 'string' ? json.model : undefined;
    await respond({
      res,
      request,
      scenario,
      fixtures,
      identity: { name, seq, requestedModel },
      gate,
      signal: closing.signal,
      now,
    });
  };

  const server = createServer({ keepAliveTimeout: 65_000, noDelay: true }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: `mock failure: ${String(error)}` }));
      } else {
        res.destroy();
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    name,
    requests: () => recorder.list(),
    clear: () => recorder.clear(),
    setScenario(scenario, scheduleOptions) {
      schedule.set(
        typeof scenario === 'string' ? parseScenario(scenario) : parseScenarioValue(scenario),
        scheduleOptions,
      );
    },
    releaseChunk: (count) => gate.release(count),
    close() {
      closing.abort();
      gate.close();
      return new Promise((resolve) => {
        server.close(() => resolve());
        // Hanging and stalled responses would keep close() waiting forever.
        server.closeAllConnections();
      });
    },
  };
}

/** The header wins over the server-wide scenario; a bad header is answered 400 by the mock itself. */
function scenarioFor(req: IncomingMessage, takeScheduled: () => Scenario, res: ServerResponse): Scenario | undefined {
  const header = req.headers[SCENARIO_HEADER];
  if (typeof header !== 'string') return takeScheduled();
  try {
    return parseScenario(header);
  } catch (error) {
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({ error: `bad ${SCENARIO_HEADER}: ${error instanceof Error ? error.message : String(error)}` }),
    );
    return undefined;
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
