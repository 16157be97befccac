import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { MALFORMED_EVENT } from './mock-llm/respond.js';
import { type MockLlm, startMockLlm } from './mock-llm/server.js';
import { aiInstance, aiRoute, CHAT_BODY } from './support/ai-routes.js';
import { type Cluster, startCluster } from './support/cluster.js';
import { type HttpResult, headerOf, httpRequest } from './support/http.js';
import { pollUntil } from './support/poll.js';
import { putRouteAndAwaitReplicas } from './support/put-route.js';
import type { SwitchboardNode } from './support/switchboard.js';

/**
 * Streaming fault scenarios of issue 4 through three data-plane replicas on one etcd
 * (docs/balancing.md "Timeouts" and "Honest streams", ai-proxy-multi.md §3.2, §6.3): each test names
 * the fault and what the client sees. Mock `a` is the preferred instance (priority 1), `b` the
 * fallback; both stream the fixture's six deltas with usage 12 + 6 unless a scenario says otherwise.
 */

const STREAM_BODY = { ...CHAT_BODY, stream: true };
const FULL_TEXT = 'Hello from the mock LLM.';

interface StreamEvent {
  readonly data: string;
  /** The parsed data, undefined for `[DONE]` and anything that is not JSON. */
  readonly json: Record<string, unknown> | undefined;
}

/** The events of a buffered SSE body, comments left out. */
function streamEvents(text: string): StreamEvent[] {
  return text
    .split(/\r?\n\r?\n/)
    .map((block) =>
      block
        .split(/\r?\n/)
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).replace(/^ /, ''))
        .join('\n'),
    )
    .filter((data) => data !== '')
    .map((data) => {
      try {
        return { data, json: JSON.parse(data) as Record<string, unknown> };
      } catch {
        return { data, json: undefined };
      }
    });
}

/** The text the content deltas of a chat stream add up to. */
function streamedText(events: readonly StreamEvent[]): string {
  let text = '';
  for (const event of events) {
    const choices = event.json?.choices;
    if (!Array.isArray(choices)) continue;
    const delta = (choices[0] as { delta?: { content?: unknown } } | undefined)?.delta;
    if (typeof delta?.content === 'string') text += delta.content;
  }
  return text;
}

/** The gateway's in-band error event, when the stream ended with one. */
function inBandError(events: readonly StreamEvent[]): { message: string; code: string } | undefined {
  const error = events.at(-1)?.json?.error as { message: string; code: string } | undefined;
  return error === undefined ? undefined : { message: error.message, code: error.code };
}

const hasDone = (events: readonly StreamEvent[]) => events.some((event) => event.data === '[DONE]');

/** The JSON access line (stdout) of the last AI request to `path` on `node`; access lines are flushed within a second. */
function accessLine(node: SwitchboardNode, path: string): Promise<Record<string, unknown>> {
  return pollUntil(
    () => {
      let found: Record<string, unknown> | undefined;
      for (const text of node.logs().split('\n')) {
        if (!text.startsWith('{') || !text.includes(`"path":"${path}"`)) continue;
        const line = JSON.parse(text) as Record<string, unknown>;
        if ('latency_ms' in line && line.request_type === 'ai_stream') found = line;
      }
      return found;
    },
    { timeoutMs: 5000, description: `the access line of ${path}` },
  );
}

describe('streaming faults through three data-plane replicas', { timeout: 120_000 }, () => {
  let cluster: Cluster;
  let mockA: MockLlm;
  let mockB: MockLlm;
  let routeSeq = 0;

  before(async () => {
    [cluster, mockA, mockB] = await Promise.all([
      startCluster({ dataPlanes: 3 }),
      startMockLlm({ name: 'a' }),
      startMockLlm({ name: 'b' }),
    ]);
  });
  after(async () => {
    await Promise.all([cluster?.close(), mockA?.close(), mockB?.close()]);
  });
  beforeEach(() => {
    for (const mock of [mockA, mockB]) {
      mock.setScenario('ok');
      mock.clear();
    }
  });

  /** PUTs a route with a fresh URI and waits until every replica serves it; resolves the path. */
  async function putRoute(pluginFields: Record<string, unknown>): Promise<string> {
    routeSeq += 1;
    const route = aiRoute({
      uri: `/streams/${routeSeq}`,
      pluginFields,
      instances: [
        { ...aiInstance({ name: 'a', endpoint: mockA.url }), priority: 1 },
        aiInstance({ name: 'b', endpoint: mockB.url }),
      ],
    });
    return putRouteAndAwaitReplicas(cluster, String(routeSeq), route);
  }

  const proxy = (index: number) => cluster.proxyUrls[index] ?? '';
  const node = (index: number) => cluster.dataPlanes[index] as SwitchboardNode;
  const streamChat = (proxyUrl: string, uri: string): Promise<HttpResult> =>
    httpRequest(`${proxyUrl}${uri}`, { body: STREAM_BODY });
  const posts = (mock: MockLlm) => mock.requests().filter((request) => request.method === 'POST').length;

  test('headers at once, first token after 20 s, first_token_timeout_ms 1000 → b answers the whole stream', {
    timeout: 15_000,
  }, async () => {
    const uri = await putRoute({ fallback_strategy: ['http_5xx'], first_token_timeout_ms: 1000 });
    mockA.setScenario('first-token-delay:20000');
    const answer = await streamChat(proxy(0), uri);
    assert.equal(answer.status, 200);
    assert.equal(headerOf(answer, 'x-mock-name'), 'b');
    const events = streamEvents(answer.text);
    assert.equal(streamedText(events), FULL_TEXT);
    assert.ok(hasDone(events));
    assert.equal(posts(mockA), 1, 'a was asked first');
    assert.match(node(0).logs(), /aborting AI request: first_token_timeout_ms exceeded/);
    assert.match(node(0).logs(), /ai instance a returned status 504, falling back to b/);
  });

  test('headers at once, first token after 1.5 s, no first_token_timeout_ms → the client gets a’s tokens', async () => {
    const uri = await putRoute({ fallback_strategy: ['http_5xx'] });
    mockA.setScenario('first-token-delay:1500');
    const answer = await streamChat(proxy(1), uri);
    assert.equal(answer.status, 200);
    assert.equal(headerOf(answer, 'x-mock-name'), 'a');
    const events = streamEvents(answer.text);
    assert.equal(streamedText(events), FULL_TEXT);
    assert.ok(hasDone(events));
    assert.equal(posts(mockB), 0);
  });

  test('stream cut after 3 chunks → those chunks, an in-band error event, no [DONE]; the access line names a', async () => {
    const uri = await putRoute({ fallback_strategy: ['http_5xx'] });
    mockA.setScenario('cut:3');
    const answer = await streamChat(proxy(2), uri);
    assert.equal(answer.status, 200);
    const events = streamEvents(answer.text);
    assert.equal(streamedText(events), 'Hello from the');
    assert.equal(inBandError(events)?.code, 'SB_ERR_UPSTREAM_CONNECT');
    assert.ok(!hasDone(events));
    assert.equal(posts(mockB), 0, 'never a fallback once bytes went out');
    const line = await accessLine(node(2), uri);
    assert.equal(line.picked_ai_instance_name, 'a');
    assert.deepEqual(Object.keys(line.ai_stream_error as object).sort(), ['code', 'instance', 'message']);
    assert.equal((line.ai_stream_error as { instance: string }).instance, 'a');
    assert.match(node(2).logs(), /AI stream broken after the first byte/);
  });

  test('stream stalled after 2 chunks, stall_timeout_ms 500 → honest end; with passive_health a is then left out', async () => {
    const uri = await putRoute({
      fallback_strategy: ['http_5xx'],
      stall_timeout_ms: 500,
      passive_health: { failures: 1, cooldown_ms: 60_000 },
    });
    mockA.setScenario('stall:2');
    const answer = await streamChat(proxy(0), uri);
    assert.equal(answer.status, 200);
    const events = streamEvents(answer.text);
    assert.equal(streamedText(events), 'Hello from');
    assert.deepEqual(inBandError(events), { message: 'stall_timeout_ms exceeded', code: 'SB_ERR_UPSTREAM_TIMEOUT' });
    assert.ok(!hasDone(events));
    // The failure reaches the node's health over IPC: soon this replica sends the route's traffic to b.
    const next = await pollUntil(
      async () => {
        const result = await streamChat(proxy(0), uri);
        return headerOf(result, 'x-mock-name') === 'b' ? result : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 100, description: 'b answering once a is out' },
    );
    assert.equal(streamedText(streamEvents(next.text)), FULL_TEXT);
  });

  test('one malformed SSE event → relayed unchanged, and the stream completes with [DONE]', async () => {
    const uri = await putRoute({});
    mockA.setScenario('malformed-event:2');
    const answer = await streamChat(proxy(1), uri);
    assert.equal(answer.status, 200);
    assert.ok(answer.text.includes(MALFORMED_EVENT), 'the broken event, byte for byte');
    const events = streamEvents(answer.text);
    assert.equal(streamedText(events), FULL_TEXT);
    assert.ok(hasDone(events));
    assert.equal(inBandError(events), undefined);
  });

  test('stream without [DONE]: ended early without a finish reason → in-band error; complete but no [DONE] → relayed as is', async () => {
    const uri = await putRoute({});
    mockA.setScenario('truncated:2');
    const cut = streamEvents((await streamChat(proxy(2), uri)).text);
    assert.equal(streamedText(cut), 'Hello from');
    assert.equal(inBandError(cut)?.code, 'SB_ERR_UPSTREAM_CONNECT');
    assert.match(inBandError(cut)?.message ?? '', /the stream ended before the answer was complete/);
    assert.ok(!hasDone(cut));

    mockA.setScenario('no-done');
    const complete = streamEvents((await streamChat(proxy(2), uri)).text);
    assert.equal(streamedText(complete), FULL_TEXT);
    assert.equal(inBandError(complete), undefined, 'a finish reason and usage: the answer is complete');
    assert.ok(!hasDone(complete), 'nothing is added to what the upstream sent');
  });

  test('total deadline across attempts: a answers 500, b never answers → 504 request_deadline_ms exceeded', async () => {
    const uri = await putRoute({ fallback_strategy: ['http_5xx'], request_deadline_ms: 1500 });
    mockA.setScenario('status:500');
    mockB.setScenario('hang');
    const answer = await streamChat(proxy(0), uri);
    assert.equal(answer.status, 504);
    assert.deepEqual(answer.json, {
      error: { message: 'request_deadline_ms exceeded', type: 'server_error', code: 'SB_ERR_UPSTREAM_TIMEOUT' },
    });
    assert.equal(posts(mockA), 1);
    assert.equal(posts(mockB), 1);
    const line = await accessLine(node(0), uri);
    assert.deepEqual(line.ai_failed_attempts, [
      { instance: 'a', status: 500 },
      { instance: 'b', status: 504 },
    ]);
  });

  test('accounting: a answers 503, b streams → the access line has b, b’s usage and a in ai_failed_attempts', async () => {
    const uri = await putRoute({ fallback_strategy: ['http_5xx'] });
    mockA.setScenario('status:503');
    const answer = await streamChat(proxy(1), uri);
    assert.equal(answer.status, 200);
    assert.equal(headerOf(answer, 'x-mock-name'), 'b');
    const line = await accessLine(node(1), uri);
    assert.equal(line.picked_ai_instance_name, 'b');
    assert.equal(line.ai_attempts, 2);
    assert.deepEqual(line.ai_failed_attempts, [{ instance: 'a', status: 503 }]);
    assert.equal(line.llm_prompt_tokens, 12);
    assert.equal(line.llm_completion_tokens, 6);
    assert.equal(line.llm_total_tokens, 18);
    assert.equal(line.ai_stream_error, undefined);
  });

  test('three data-plane replicas behave the same: cut stream and first-token fallback give each the same outcome', async () => {
    const uri = await putRoute({ fallback_strategy: ['http_5xx'], first_token_timeout_ms: 500 });
    const outcomes = async (scenario: string) => {
      const seen: unknown[] = [];
      for (const proxyUrl of cluster.proxyUrls) {
        mockA.setScenario(scenario);
        const answer = await streamChat(proxyUrl, uri);
        const events = streamEvents(answer.text);
        seen.push({
          status: answer.status,
          answeredBy: headerOf(answer, 'x-mock-name'),
          text: streamedText(events),
          error: inBandError(events),
          done: hasDone(events),
        });
      }
      return seen;
    };
    const cut = await outcomes('cut:2');
    assert.equal(cut.length, 3);
    for (const outcome of cut) assert.deepEqual(outcome, cut[0]);
    assert.deepEqual(cut[0], {
      status: 200,
      answeredBy: 'a',
      text: 'Hello from',
      error: {
        message: 'failed to read response from LLM server: connection reset',
        code: 'SB_ERR_UPSTREAM_CONNECT',
      },
      done: false,
    });

    const slowFirstToken = await outcomes('first-token-delay:20000');
    for (const outcome of slowFirstToken) assert.deepEqual(outcome, slowFirstToken[0]);
    assert.deepEqual(slowFirstToken[0], {
      status: 200,
      answeredBy: 'b',
      text: FULL_TEXT,
      error: undefined,
      done: true,
    });
  });
});
