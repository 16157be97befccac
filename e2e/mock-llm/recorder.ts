import type { IncomingHttpHeaders } from 'node:http';

/** One request as the mock received it, before it decided how to answer. */
export interface RecordedRequest {
  /** 1-based, per server, in arrival order. */
  readonly seq: number;
  readonly method: string;
  /** Path without the query string. */
  readonly path: string;
  /** The raw query string without `?` ('' when absent). */
  readonly rawQuery: string;
  /** Query parameters; a repeated name keeps its last value. */
  readonly query: Readonly<Record<string, string>>;
  /** Lower-cased names, as node parses them. */
  readonly headers: IncomingHttpHeaders;
  /** The body bytes exactly as received. */
  readonly body: Buffer;
  readonly bodyText: string;
  /** The parsed body, or undefined when it is not JSON. */
  readonly json: unknown;
  /** The scenario applied, in its string form. */
  readonly scenario: string;
}

export interface RequestRecorder {
  add(request: RecordedRequest): void;
  list(): readonly RecordedRequest[];
  clear(): void;
}

/** `enabled: false` keeps nothing (long benchmark runs would otherwise hold every body). */
export function createRequestRecorder(options: { readonly enabled: boolean }): RequestRecorder {
  let recorded: RecordedRequest[] = [];
  return {
    add(request) {
      if (options.enabled) recorded.push(request);
    },
    list: () => [...recorded],
    clear() {
      recorded = [];
    },
  };
}

export function parseJsonOrUndefined(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A recorded request as JSON for `GET /__mock/requests` (the raw body becomes text). */
export function recordedToJson(request: RecordedRequest): Record<string, unknown> {
  const { body: _bytes, ...rest } = request;
  return rest;
}
