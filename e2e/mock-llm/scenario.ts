/**
 * What the mock LLM does with one request. A scenario is chosen per request with the
 * `x-mock-scenario` header (string form) or per server through `POST /__mock/scenario` (string or
 * object form). The string form is `<kind>[:<arg>[:<arg>]]`:
 *
 *   ok                          answer normally (stream when the body says `stream: true`)
 *   delay:<ms>                  answer normally after <ms>
 *   status:<code>[:<body>]      answer <code>; 429 adds Retry-After; <body> is sent verbatim
 *   reset                       destroy the socket before sending headers
 *   hang                        never answer
 *   slow-stream[:<n>[:<ms>]]    stream <n> content chunks, one every <ms>
 *   stall[:<n>]                 stream <n> content chunks, then send nothing more (socket stays open)
 *   cut[:<n>]                   stream <n> content chunks, then destroy the socket
 *   gated-stream[:<n>]          stream <n> content chunks; each one after the first waits for a
 *                               release (`mock.releaseChunk()` or `POST /__mock/release`)
 *   first-token-delay:<ms>      stream headers at once, the first content chunk after <ms>, then the
 *                               rest of a complete stream
 *   malformed-event[:<n>]       a complete stream with one event that is not JSON after <n> chunks
 *   truncated[:<n>]             stream <n> content chunks, then end the response cleanly: no finish
 *                               reason, no usage, no `[DONE]`
 *   no-done                     a complete stream (finish reason, usage) without `[DONE]`
 */
export type Scenario =
  | { readonly kind: 'ok' }
  | { readonly kind: 'delay'; readonly ms: number }
  | {
      readonly kind: 'status';
      readonly status: number;
      readonly body?: string;
      readonly headers?: Readonly<Record<string, string>>;
    }
  | { readonly kind: 'reset' }
  | { readonly kind: 'hang' }
  | { readonly kind: 'slow-stream'; readonly chunks: number; readonly intervalMs: number }
  | { readonly kind: 'stall'; readonly chunks: number }
  | { readonly kind: 'cut'; readonly chunks: number }
  | { readonly kind: 'gated-stream'; readonly chunks: number }
  | { readonly kind: 'first-token-delay'; readonly ms: number }
  | { readonly kind: 'malformed-event'; readonly chunks: number }
  | { readonly kind: 'truncated'; readonly chunks: number }
  | { readonly kind: 'no-done' };

export type ScenarioKind = Scenario['kind'];

export class ScenarioSyntaxError extends Error {
  override readonly name = 'ScenarioSyntaxError';
}

const DEFAULTS = { slowStreamChunks: 5, slowStreamIntervalMs: 50, partialStreamChunks: 2, gatedChunks: 3 } as const;

export const OK_SCENARIO: Scenario = { kind: 'ok' };

/**
 * Parses the header/string form.
 * @example parseScenario('status:429') // { kind: 'status', status: 429 }
 */
export function parseScenario(text: string): Scenario {
  const trimmed = text.trim();
  const colon = trimmed.indexOf(':');
  const kind = colon === -1 ? trimmed : trimmed.slice(0, colon);
  const rest = colon === -1 ? '' : trimmed.slice(colon + 1);
  const args = rest === '' ? [] : rest.split(':');
  switch (kind) {
    case 'ok':
      return OK_SCENARIO;
    case 'delay':
      return { kind, ms: integerArg(args[0], 'delay ms', undefined) };
    case 'status': {
      const status = integerArg(args[0], 'status code', undefined);
      // The body is everything after the second colon, colons included (JSON bodies have them).
      const bodyStart = rest.indexOf(':');
      return bodyStart === -1
        ? { kind, status: checkStatus(status) }
        : { kind, status: checkStatus(status), body: rest.slice(bodyStart + 1) };
    }
    case 'reset':
    case 'hang':
    case 'no-done':
      return { kind };
    case 'first-token-delay':
      return { kind, ms: integerArg(args[0], 'first token delay ms', undefined) };
    case 'malformed-event':
    case 'truncated':
      return { kind, chunks: integerArg(args[0], 'chunks', DEFAULTS.partialStreamChunks) };
    case 'slow-stream':
      return {
        kind,
        chunks: integerArg(args[0], 'chunks', DEFAULTS.slowStreamChunks),
        intervalMs: integerArg(args[1], 'interval ms', DEFAULTS.slowStreamIntervalMs),
      };
    case 'stall':
    case 'cut':
      return { kind, chunks: integerArg(args[0], 'chunks', DEFAULTS.partialStreamChunks) };
    case 'gated-stream':
      return { kind, chunks: integerArg(args[0], 'chunks', DEFAULTS.gatedChunks) };
    default:
      throw new ScenarioSyntaxError(`unknown scenario "${kind}"`);
  }
}

/**
 * Parses the control-endpoint form: a string (as above) or an object
 * `{kind, status?, body?, headers?, chunks?, intervalMs?, ms?}`.
 */
export function parseScenarioValue(value: unknown): Scenario {
  if (typeof value === 'string') return parseScenario(value);
  if (!isRecord(value) || typeof value.kind !== 'string') {
    throw new ScenarioSyntaxError('a scenario is a string or an object with a "kind"');
  }
  const kind = value.kind;
  switch (kind) {
    case 'ok':
    case 'reset':
    case 'hang':
    case 'no-done':
      return parseScenario(kind);
    case 'delay':
    case 'first-token-delay':
      return { kind, ms: numberField(value, 'ms', undefined) };
    case 'malformed-event':
    case 'truncated':
      return { kind, chunks: numberField(value, 'chunks', DEFAULTS.partialStreamChunks) };
    case 'status':
      return statusFromRecord(value);
    case 'slow-stream':
      return {
        kind,
        chunks: numberField(value, 'chunks', DEFAULTS.slowStreamChunks),
        intervalMs: numberField(value, 'intervalMs', DEFAULTS.slowStreamIntervalMs),
      };
    case 'stall':
    case 'cut':
      return { kind, chunks: numberField(value, 'chunks', DEFAULTS.partialStreamChunks) };
    case 'gated-stream':
      return { kind, chunks: numberField(value, 'chunks', DEFAULTS.gatedChunks) };
    default:
      throw new ScenarioSyntaxError(`unknown scenario "${kind}"`);
  }
}

function statusFromRecord(value: Record<string, unknown>): Scenario {
  const status = checkStatus(numberField(value, 'status', undefined));
  const { body, headers } = value;
  if (body !== undefined && typeof body !== 'string') {
    throw new ScenarioSyntaxError('status body must be a string (send JSON bodies as a string)');
  }
  if (headers !== undefined && !isStringRecord(headers)) {
    throw new ScenarioSyntaxError('status headers must be an object of strings');
  }
  return {
    kind: 'status',
    status,
    ...(body === undefined ? {} : { body }),
    ...(headers === undefined ? {} : { headers }),
  };
}

/** A scenario as the string form, for logs and recorded requests. */
export function describeScenario(scenario: Scenario): string {
  switch (scenario.kind) {
    case 'ok':
    case 'reset':
    case 'hang':
    case 'no-done':
      return scenario.kind;
    case 'delay':
    case 'first-token-delay':
      return `${scenario.kind}:${scenario.ms}`;
    case 'malformed-event':
    case 'truncated':
      return `${scenario.kind}:${scenario.chunks}`;
    case 'status':
      return `status:${scenario.status}`;
    case 'slow-stream':
      return `slow-stream:${scenario.chunks}:${scenario.intervalMs}`;
    case 'stall':
    case 'cut':
    case 'gated-stream':
      return `${scenario.kind}:${scenario.chunks}`;
  }
}

export function isStreamingScenario(scenario: Scenario): boolean {
  switch (scenario.kind) {
    case 'slow-stream':
    case 'stall':
    case 'cut':
    case 'gated-stream':
    case 'first-token-delay':
    case 'malformed-event':
    case 'truncated':
    case 'no-done':
      return true;
    default:
      return false;
  }
}

function integerArg(text: string | undefined, what: string, fallback: number | undefined): number {
  if (text === undefined || text === '') {
    if (fallback === undefined) throw new ScenarioSyntaxError(`missing ${what}`);
    return fallback;
  }
  const parsed = Number(text);
  if (!Number.isInteger(parsed) || parsed < 0) throw new ScenarioSyntaxError(`${what} must be a non-negative integer`);
  return parsed;
}

function numberField(record: Record<string, unknown>, field: string, fallback: number | undefined): number {
  const value = record[field];
  if (value === undefined) {
    if (fallback === undefined) throw new ScenarioSyntaxError(`missing ${field}`);
    return fallback;
  }
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new ScenarioSyntaxError(`${field} must be a non-negative integer`);
  }
  return value;
}

function checkStatus(status: number): number {
  if (status < 100 || status > 599) throw new ScenarioSyntaxError('status code must be 100..599');
  return status;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return isRecord(value) && Object.values(value).every((item) => typeof item === 'string');
}
