import { isJsonObject, type JsonObject } from '../protocols/protocol.js';

/**
 * The pieces both directions of the Anthropic ⇄ OpenAI conversion share: stop reasons, images and
 * message texts. Pure functions over parsed JSON.
 */

const OPENAI_TO_ANTHROPIC_STOP: Readonly<Record<string, string>> = {
  stop: 'end_turn',
  length: 'max_tokens',
  tool_calls: 'tool_use',
  function_call: 'tool_use',
  content_filter: 'refusal',
};

const ANTHROPIC_TO_OPENAI_FINISH: Readonly<Record<string, string>> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  pause_turn: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter',
};

/** OpenAI `finish_reason` → Anthropic `stop_reason`. */
export function anthropicStopReason(finishReason: unknown): string {
  return typeof finishReason === 'string' ? (OPENAI_TO_ANTHROPIC_STOP[finishReason] ?? 'end_turn') : 'end_turn';
}

/** Anthropic `stop_reason` → OpenAI `finish_reason`. */
export function openAiFinishReason(stopReason: unknown): string {
  return typeof stopReason === 'string' ? (ANTHROPIC_TO_OPENAI_FINISH[stopReason] ?? 'stop') : 'stop';
}

/**
 * OpenAI `reasoning_effort` ⇄ Anthropic thinking `budget_tokens`, one table for both directions
 * (ai-proxy-multi.md §4.6). The thresholds are APISIX's (shared with LiteLLM): a budget of at least
 * 4096 is `high`, 2048 `medium`, 1024 `low`, less `minimal`; an effort becomes the budget of its
 * threshold, so `low`, `medium` and `high` survive a round trip. Anthropic's smallest budget is 1024,
 * so `minimal` asks for that; `xhigh` (above `high` in OpenAI's scale) asks for twice `high`.
 */
const THINKING_BUDGETS = { minimal: 1024, low: 1024, medium: 2048, high: 4096, xhigh: 8192 } as const;

type ReasoningEffort = keyof typeof THINKING_BUDGETS;

function isReasoningEffort(value: unknown): value is ReasoningEffort {
  return typeof value === 'string' && Object.hasOwn(THINKING_BUDGETS, value);
}

/** `reasoning_effort` → `budget_tokens`; undefined for `none`, absent or unknown efforts (no thinking). */
export function thinkingBudgetOf(effort: unknown): number | undefined {
  return isReasoningEffort(effort) ? THINKING_BUDGETS[effort] : undefined;
}

/**
 * `budget_tokens` → `reasoning_effort`.
 *
 * @example reasoningEffortOf(thinkingBudgetOf('medium') ?? 0); // 'medium'
 */
export function reasoningEffortOf(budgetTokens: number): 'minimal' | 'low' | 'medium' | 'high' {
  if (budgetTokens >= THINKING_BUDGETS.high) return 'high';
  if (budgetTokens >= THINKING_BUDGETS.medium) return 'medium';
  return budgetTokens >= THINKING_BUDGETS.low ? 'low' : 'minimal';
}

const DATA_URL = /^data:([^;,]+);base64,(.*)$/s;

/** An OpenAI image URL (often a `data:` URL) as an Anthropic image source. */
export function anthropicImageSource(url: string): JsonObject {
  const match = DATA_URL.exec(url);
  return match === null
    ? { type: 'url', url }
    : { type: 'base64', media_type: match[1] ?? 'application/octet-stream', data: match[2] ?? '' };
}

/** An Anthropic `source` (base64 or url) as a URL OpenAI accepts; undefined for other source types. */
export function sourceAsUrl(source: unknown): string | undefined {
  if (!isJsonObject(source)) return undefined;
  if (source.type === 'base64' && typeof source.data === 'string') {
    const mediaType = typeof source.media_type === 'string' ? source.media_type : 'application/octet-stream';
    return `data:${mediaType};base64,${source.data}`;
  }
  if (source.type === 'url' && typeof source.url === 'string') return source.url;
  return undefined;
}

/** The text of content that is a string or a list of `{type:'text', text}` parts, joined by `separator`. */
export function textOf(content: unknown, separator = '\n'): string | undefined {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return undefined;
  const texts: string[] = [];
  for (const part of content) {
    if (isJsonObject(part) && part.type === 'text' && typeof part.text === 'string') texts.push(part.text);
  }
  return texts.length === 0 ? undefined : texts.join(separator);
}

/** Function-call arguments (a JSON string) as an object; `{}` when they do not parse to one. */
export function parseArguments(value: unknown): JsonObject {
  if (isJsonObject(value)) return value;
  if (typeof value !== 'string' || value === '') return {};
  try {
    const parsed: unknown = JSON.parse(value);
    return isJsonObject(parsed) ? parsed : {};
  } catch {
    return {};
  }
}

/** Copies the listed keys that are present, under the same names. */
export function copyPresent(from: JsonObject, to: JsonObject, keys: readonly string[]): void {
  for (const key of keys) if (from[key] !== undefined) to[key] = from[key];
}
