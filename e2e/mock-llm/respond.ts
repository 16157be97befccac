import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ErrorFixture, MockFixtures } from './fixtures.js';
import {
  chatCompletionBody,
  chatStreamEvents,
  echoBody,
  embeddingsBody,
  type ResponseIdentity,
} from './openai-bodies.js';
import type { RecordedRequest } from './recorder.js';
import { isRecord, type Scenario } from './scenario.js';
import type { StreamGate } from './stream-gate.js';

/** Everything one answer needs; `signal` aborts pending delays when the server closes. */
export interface ResponseContext {
  readonly res: ServerResponse;
  readonly request: RecordedRequest;
  readonly scenario: Scenario;
  readonly fixtures: MockFixtures;
  readonly identity: ResponseIdentity;
  readonly gate: StreamGate;
  readonly signal: AbortSignal;
  readonly now: () => number;
}

type BodyShape = 'chat' | 'embeddings' | 'other';

/** The body decides the answer, not the path, so any `override.endpoint` path works. */
export function bodyShapeOf(json: unknown): BodyShape {
  if (!isRecord(json)) return 'other';
  if (json.messages !== undefined) return 'chat';
  if (json.input !== undefined) return 'embeddings';
  return 'other';
}

export async function respond(context: ResponseContext): Promise<void> {
  const { scenario, res } = context;
  switch (scenario.kind) {
    case 'ok':
      return respondOk(context);
    case 'delay':
      if (!(await pause(scenario.ms, context.signal))) return;
      return respondOk(context);
    case 'status':
      return respondStatus(context, scenario.status, scenario.body, scenario.headers);
    case 'reset':
      res.socket?.destroy();
      return;
    case 'hang':
      return;
    case 'slow-stream':
    case 'stall':
    case 'cut':
    case 'gated-stream':
    case 'first-token-delay':
    case 'malformed-event':
    case 'truncated':
    case 'no-done':
      return respondStream(context);
  }
}

/** An event whose data is not JSON (cut inside an object), for `malformed-event`. */
export const MALFORMED_EVENT = 'data: {"choices":[{"index":0,"delta":{"content":\n\n';

/** How many content chunks a streaming scenario sends (all of the fixture's unless it says). */
function contentChunkCount(scenario: Scenario, fixtureDeltas: number): number {
  switch (scenario.kind) {
    case 'slow-stream':
    case 'stall':
    case 'cut':
    case 'gated-stream':
    case 'truncated':
      return scenario.chunks;
    default:
      return fixtureDeltas;
  }
}

function respondOk(context: ResponseContext): Promise<void> | undefined {
  const { request, fixtures, identity, res } = context;
  const shape = bodyShapeOf(request.json);
  if (shape === 'chat' && isRecord(request.json) && request.json.stream === true) return respondStream(context);
  const created = Math.floor(context.now() / 1000);
  const body =
    shape === 'chat'
      ? chatCompletionBody(fixtures, identity, created)
      : shape === 'embeddings'
        ? embeddingsBody(fixtures, identity, isRecord(request.json) ? request.json.input : undefined)
        : echoBody(identity, request.path, request.bodyText);
  res.writeHead(200, { ...identityHeaders(identity), 'content-type': 'application/json' });
  res.end(body);
  return undefined;
}

function respondStatus(
  context: ResponseContext,
  status: number,
  body: string | undefined,
  headers: Readonly<Record<string, string>> | undefined,
): void {
  const fixture: ErrorFixture = status === 429 ? context.fixtures.error429 : context.fixtures.error5xx;
  const text = body ?? JSON.stringify(fixture.body);
  const contentType = looksLikeJson(text) ? 'application/json' : 'text/plain';
  context.res.writeHead(status, {
    ...fixture.headers,
    ...headers,
    ...identityHeaders(context.identity),
    'content-type': contentType,
  });
  context.res.end(text);
}

/**
 * Streams chat chunks. `ok`, `slow-stream`, `first-token-delay` and `malformed-event` send a complete
 * stream (finish, usage, `[DONE]`), `no-done` the same without `[DONE]`; `stall` and `cut` stop after
 * their content chunks, `truncated` ends the response cleanly after them; `gated-stream` waits for a
 * permit before every chunk after the first, and before the ending. Headers are always sent at once.
 */
async function respondStream(context: ResponseContext): Promise<void> {
  const { res, scenario, signal } = context;
  const events = chatStreamEvents(context.fixtures, context.identity, Math.floor(context.now() / 1000));
  const content = events.content(contentChunkCount(scenario, context.fixtures.chatStream.deltas.length));
  if (scenario.kind === 'malformed-event')
    content.splice(Math.min(scenario.chunks, content.length), 0, MALFORMED_EVENT);
  res.writeHead(200, {
    ...identityHeaders(context.identity),
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
  });
  res.flushHeaders();
  for (const [index, event] of content.entries()) {
    if (index === 0 && scenario.kind === 'first-token-delay' && !(await pauseWhileOpen(scenario.ms, context))) return;
    if (index > 0 && !(await beforeNextChunk(context))) return;
    if (!(await write(res, event))) return;
  }
  if (scenario.kind === 'stall') return;
  if (scenario.kind === 'cut') {
    res.socket?.destroy();
    return;
  }
  if (scenario.kind === 'truncated') {
    res.end();
    return;
  }
  if (scenario.kind === 'gated-stream' && !(await context.gate.wait())) return;
  const ending = events.ending();
  if (scenario.kind === 'no-done') ending.pop();
  for (const event of ending) {
    if (signal.aborted || !(await write(res, event))) return;
  }
  res.end();
}

async function beforeNextChunk(context: ResponseContext): Promise<boolean> {
  const { scenario } = context;
  if (scenario.kind === 'slow-stream') return pause(scenario.intervalMs, context.signal);
  if (scenario.kind === 'gated-stream') return context.gate.wait();
  return !context.signal.aborted;
}

function identityHeaders(identity: ResponseIdentity): Record<string, string> {
  return { 'x-mock-name': identity.name, 'x-mock-seq': String(identity.seq) };
}

/** Resolves false when the response can no longer be written. */
function write(res: ServerResponse, chunk: string): Promise<boolean> {
  if (res.destroyed || res.writableEnded) return Promise.resolve(false);
  return new Promise((resolve) => {
    res.write(chunk, (error) => resolve(error === undefined || error === null));
  });
}

/** Like `pause`, but also ends early when the client (the gateway) closes the response. */
async function pauseWhileOpen(ms: number, context: ResponseContext): Promise<boolean> {
  const closed = new AbortController();
  const onClose = () => closed.abort();
  context.res.once('close', onClose);
  try {
    return await pause(ms, AbortSignal.any([context.signal, closed.signal]));
  } finally {
    context.res.off('close', onClose);
  }
}

async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

function looksLikeJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
