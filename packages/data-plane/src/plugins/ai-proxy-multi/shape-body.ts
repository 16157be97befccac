import { isDeepStrictEqual } from 'node:util';
import type { ClientAiRequest } from './client-request.js';
import type { PreparedInstance } from './prepare.js';
import { setOwnProperty } from './protocols/protocol.js';

/**
 * The upstream body for one attempt (ai-proxy-multi.md §4.4 steps 1–2): target-protocol preparation
 * (`stream_options` for a streaming chat client), then every `options` key overwrites the client's.
 * Works on a fresh copy per attempt, so one instance's options never leak into the next attempt.
 * When no step changed anything the client's original bytes go out unchanged (verbatim passthrough);
 * otherwise the copy is re-serialised.
 *
 * @example
 *   shapeUpstreamBody(request, instance).equals(request.raw); // true when nothing changed
 */
export function shapeUpstreamBody(request: ClientAiRequest, instance: PreparedInstance): Buffer {
  // Every step writes top-level keys only, so a shallow copy keeps the client's parsed body intact.
  const body = { ...request.body };
  let changed = request.protocol.prepareUpstreamBody(body);
  for (const [key, value] of Object.entries(instance.options)) {
    if (isDeepStrictEqual(body[key], value)) continue;
    setOwnProperty(body, key, value);
    changed = true;
  }
  return changed ? Buffer.from(JSON.stringify(body)) : request.raw;
}
