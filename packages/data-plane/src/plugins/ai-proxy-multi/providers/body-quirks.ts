import { isJsonObject, type JsonObject, type ProtocolId, setOwnProperty } from '../protocols/protocol.js';
import type { ProviderDescriptor } from './provider.js';

/**
 * §4.4 step 3: writes `override.llm_options.max_tokens` into the provider's field for the target protocol,
 * always overwriting, creating parent objects (bedrock's `inferenceConfig`) and deleting the fields it
 * replaces (openai chat's `max_tokens`). A protocol without a mapping ignores it. Returns true when the
 * body changed. Mutates `body` and the nested objects on the field's path, so the caller passes its
 * per-attempt copy (a parent object is copied before it is written, so the client's stays untouched).
 *
 * @example
 *   const body = { max_tokens: 10 };
 *   applyMaxTokens(openAiProvider, 'openai-chat', body, 64); // true; body = { max_completion_tokens: 64 }
 */
export function applyMaxTokens(
  provider: ProviderDescriptor,
  protocol: ProtocolId,
  body: JsonObject,
  maxTokens: number | undefined,
): boolean {
  const target = provider.maxTokens[protocol];
  if (target === undefined || maxTokens === undefined) return false;
  let changed = false;
  for (const replaced of target.replaces ?? []) {
    if (Object.hasOwn(body, replaced)) {
      delete body[replaced];
      changed = true;
    }
  }
  if (valueAt(body, target.field) === maxTokens) return changed;
  const parents = target.field.slice(0, -1);
  let holder = body;
  for (const name of parents) {
    const existing = holder[name];
    const next: JsonObject = isJsonObject(existing) ? { ...existing } : {};
    setOwnProperty(holder, name, next);
    holder = next;
  }
  setOwnProperty(holder, target.field[target.field.length - 1] as string, maxTokens);
  return true;
}

function valueAt(body: JsonObject, path: readonly string[]): unknown {
  let value: unknown = body;
  for (const name of path) {
    if (!isJsonObject(value) || !Object.hasOwn(value, name)) return undefined;
    value = value[name];
  }
  return value;
}

/**
 * §4.4 step 5: providers whose URL or deployment names the model (azure-openai, bedrock) get no `model`
 * in the body. Returns true when the body changed.
 *
 * @example removeModelFor(bedrockProvider, body);
 */
export function removeModelFor(provider: ProviderDescriptor, body: JsonObject): boolean {
  if (!provider.removesModel || !Object.hasOwn(body, 'model')) return false;
  delete body.model;
  return true;
}
