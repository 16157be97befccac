import { isDeepStrictEqual } from 'node:util';
import type { AiOverride } from '@switchboard/core';
import type { ClientAiRequest } from './client-request.js';
import {
  type AiProtocol,
  isJsonObject,
  type JsonObject,
  type ProtocolId,
  setOwnProperty,
} from './protocols/protocol.js';
import { applyMaxTokens, removeModelFor } from './providers/body-quirks.js';
import type { ProviderDescriptor } from './providers/provider.js';

/** The instance's `override` fields that shape bodies (ai-proxy-multi.md §1.7), read once per config change. */
export interface BodyShaping {
  /** `override.llm_options.max_tokens`. */
  readonly maxTokens: number | undefined;
  /** `override.request_body`, keyed by target protocol. */
  readonly requestBody: Readonly<Partial<Record<ProtocolId, JsonObject>>>;
  /** `override.request_body_force_override`. */
  readonly forceOverride: boolean;
}

/** @example prepareBodyShaping(instance.override) */
export function prepareBodyShaping(override: AiOverride | undefined): BodyShaping {
  return {
    maxTokens: override?.llm_options?.max_tokens,
    requestBody: override?.request_body ?? {},
    forceOverride: override?.request_body_force_override === true,
  };
}

/** What the body shaping of one attempt needs from the instance. */
export interface ShapingInstance {
  /** Undefined only for a provider this build does not ship (the attempt fails before shaping). */
  readonly provider: ProviderDescriptor | undefined;
  readonly options: Readonly<Record<string, unknown>>;
  readonly shaping: BodyShaping;
}

/**
 * §4.4 step 4, deep merge: objects on both sides recurse, anything else (arrays included) is replaced
 * wholesale, a field already in the body is kept unless `force`. A nested object is copied before it is
 * written, so the client's parsed body and the config are never mutated. Returns true on a change.
 */
function mergePatch(body: JsonObject, patch: JsonObject, force: boolean): boolean {
  let changed = false;
  for (const [key, value] of Object.entries(patch)) {
    const present = Object.hasOwn(body, key);
    const existing = present ? body[key] : undefined;
    if (isJsonObject(existing) && isJsonObject(value)) {
      const copy = { ...existing };
      if (mergePatch(copy, value, force)) {
        setOwnProperty(body, key, copy);
        changed = true;
      }
    } else if ((!present || force) && !isDeepStrictEqual(existing, value)) {
      setOwnProperty(body, key, value);
      changed = true;
    }
  }
  return changed;
}

/**
 * The upstream body of one attempt (ai-proxy-multi.md §4.4), in APISIX's order: target-protocol
 * preparation (`stream_options` for a streaming chat client, no `stream` for Converse), `options` (every
 * key overwrites), `override.llm_options.max_tokens` into the provider's field, the
 * `override.request_body` patch of the target protocol, then the model removed for providers whose URL
 * names it. `converted` is the body a protocol converter built, if any. Works on a fresh copy per
 * attempt, so one instance's options never leak into the next attempt. When nothing changed, the
 * client's original bytes go out unchanged (verbatim passthrough); when shaping only added fields, they
 * are spliced into the client's bytes (`withAddedFields`); otherwise the copy is re-serialised.
 *
 * @example
 *   shapeUpstreamBody({ request, converted: undefined, target: openAiChatProtocol, instance }).equals(request.raw); // true when nothing changed
 */
export function shapeUpstreamBody(args: {
  readonly request: ClientAiRequest;
  readonly converted: JsonObject | undefined;
  readonly target: AiProtocol;
  readonly instance: ShapingInstance;
}): Buffer {
  const { request, converted, target, instance } = args;
  // A passthrough array body has no fields to shape.
  if (converted === undefined && !isJsonObject(request.body)) return request.raw;
  // Every step copies what it writes below the top level, so a shallow copy keeps the client body intact.
  const body: JsonObject = converted ?? { ...(request.body as JsonObject) };
  let changed = converted !== undefined;
  if (target.prepareUpstreamBody(body)) changed = true;
  for (const [key, value] of Object.entries(instance.options)) {
    if (isDeepStrictEqual(body[key], value)) continue;
    setOwnProperty(body, key, value);
    changed = true;
  }
  const { provider } = instance;
  if (provider !== undefined && applyMaxTokens(provider, target.id, body, instance.shaping.maxTokens)) changed = true;
  const patch = instance.shaping.requestBody[target.id];
  if (patch !== undefined && mergePatch(body, patch, instance.shaping.forceOverride)) changed = true;
  if (provider !== undefined && removeModelFor(provider, body)) changed = true;
  if (!changed) return request.raw;
  return (
    (converted === undefined && withAddedFields(request.raw, request.body as JsonObject, body)) ||
    Buffer.from(JSON.stringify(body))
  );
}

const CLOSING_BRACE = 0x7d;
const JSON_WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);

/**
 * The client's bytes with the fields shaping added spliced in before the closing brace, when shaping
 * only added top-level fields the client did not send: the usual case (`stream_options` for a
 * streaming chat client, `options` the client left out). The result parses to the same object as the
 * re-serialised copy, without encoding the whole conversation again on the way to the first token,
 * and the client's own fields go out byte for byte. Undefined when a client field was changed or
 * removed: then the copy is serialised whole.
 */
function withAddedFields(raw: Buffer, original: JsonObject, shaped: JsonObject): Buffer | undefined {
  let kept = 0;
  let added = '';
  for (const key in shaped) {
    const value = shaped[key];
    if (Object.hasOwn(original, key)) {
      if (value !== original[key]) return undefined;
      kept += 1;
    } else if (value !== undefined) {
      added += `,${JSON.stringify(key)}:${JSON.stringify(value)}`;
    }
  }
  let originalKeys = 0;
  for (const _ in original) originalKeys += 1;
  if (kept !== originalKeys) return undefined;
  let close = raw.length - 1;
  while (close >= 0 && JSON_WHITESPACE.has(raw[close] as number)) close -= 1;
  if (raw[close] !== CLOSING_BRACE) return undefined;
  const fields = kept === 0 ? added.slice(1) : added;
  const fieldBytes = Buffer.byteLength(fields);
  const out = Buffer.allocUnsafe(raw.length + fieldBytes);
  raw.copy(out, 0, 0, close);
  out.write(fields, close);
  raw.copy(out, close + fieldBytes, close);
  return out;
}
