import type { SwitchboardError } from '@switchboard/core';
import type { HeaderMap } from '../../../upstream/headers.js';
import type { JsonObject, ProtocolId } from '../protocols/protocol.js';
import type { SseEvent } from '../sse/sse-event-splitter.js';

/** What a converter may need beyond the bodies it converts. */
export interface ConverterContext {
  /** Unix seconds, for `created` fields the target's answer lacks. */
  readonly createdAt: number;
}

/**
 * Translation between the client's protocol and the protocol an instance speaks (ai-proxy-multi.md
 * §4.6), one module per direction named `<client>-to-<target>` (STYLE §2). One converter serves one
 * attempt: it is created per request and holds that request's state (tool-name mapping, the stream's
 * open content blocks), so nothing leaks between requests.
 */
export interface ProtocolConverter {
  /** The client body as the target protocol's body; a 400 when the body lacks what is needed. */
  convertRequest(body: JsonObject): JsonObject | SwitchboardError;
  /** §4.3: header changes the target needs, applied after `auth.header`. */
  adjustHeaders(headers: HeaderMap): void;
  /** A parsed JSON answer of the target (any status, errors included) as the client's protocol. */
  convertResponse(status: number, body: unknown): unknown;
  /** One event of the target's stream as zero or more encoded client events ('' for none). */
  convertStreamEvent(event: SseEvent): string;
  /** At the end of the upstream stream: what closes the client stream properly, '' when nothing may. */
  endStream(): string;
}

export interface ConverterDescriptor {
  readonly client: ProtocolId;
  readonly target: ProtocolId;
  create(context: ConverterContext): ProtocolConverter;
}

/** Removes the headers of `prefixes` (lower-case names), e.g. the client SDK's `x-stainless-*`. */
export function dropHeaderPrefixes(headers: HeaderMap, prefixes: readonly string[]): void {
  for (const name of Object.keys(headers)) {
    if (prefixes.some((prefix) => name.startsWith(prefix))) delete headers[name];
  }
}
