import type { ClientAiRequest } from './client-request.js';
import { arrayOf, isJsonObject, type JsonObject, type TokenUsage } from './protocols/protocol.js';

/**
 * The LLM fields of the access log line (ai-proxy-multi.md §8). They are top-level keys of
 * `ctx.logFields`, which the pipeline splices into the line as is, so only what a line must carry is
 * set here: the request type and models, the picked instance, tokens and times of the last attempt, and the `llm_summary` / `llm_request` / `llm_response_text` objects when
 * `logging` asks for them (§8.2). Nothing here ever holds a header or query value: secrets cannot leak.
 */
type LogFields = Record<string, unknown>;

/** `logging` (§1.10), defaulted. */
export interface LlmLogging {
  readonly summaries: boolean;
  readonly payloads: boolean;
}

/** What one attempt learnt that only the `logging` objects need. */
export interface AttemptFacts {
  /** The body as sent (after conversion, before `options`), for `llm_tool_count`. */
  upstreamBody: JsonObject | undefined;
  usage: TokenUsage | undefined;
  hasToolCalls: boolean;
  text: string | undefined;
}

/** Per-request variables (§5.3, §8.1), set once detection succeeded. */
export function recordClientRequest(fields: LogFields, request: ClientAiRequest): void {
  fields.request_type = request.streaming ? 'ai_stream' : 'ai_chat';
  fields.request_llm_model = request.model ?? '';
}

/**
 * Per-attempt variables (§8.1): the picked instance and its effective model; token and time values start
 * at 0 so that after a fallback they describe the last attempt only. (The attempt count, `ai_attempts`,
 * is the fallback loop's.)
 */
export function recordAttemptStart(
  fields: LogFields,
  attempt: { readonly instanceName: string; readonly model: string | undefined },
): void {
  fields.picked_ai_instance_name = attempt.instanceName;
  fields.llm_model = attempt.model ?? '';
  fields.llm_prompt_tokens = 0;
  fields.llm_completion_tokens = 0;
  fields.llm_total_tokens = 0;
  fields.llm_time_to_first_token = 0;
  fields.apisix_upstream_response_time = 0;
}

/** Milliseconds from the attempt start, integers as APISIX logs them (§8.1). */
export function recordTimings(
  fields: LogFields,
  timings: { readonly firstTokenMs?: number | undefined; readonly responseMs: number },
): void {
  if (timings.firstTokenMs !== undefined) fields.llm_time_to_first_token = Math.floor(timings.firstTokenMs);
  fields.apisix_upstream_response_time = Math.floor(timings.responseMs);
}

/** Usage (§6.2 step 6) into the line; tool calls and text into the attempt's facts. */
export function recordResponseFacts(
  fields: LogFields,
  result: { readonly usage: TokenUsage | undefined; readonly hasToolCalls: boolean; readonly text: string | undefined },
  facts: AttemptFacts,
): void {
  facts.usage = result.usage;
  facts.hasToolCalls = result.hasToolCalls;
  facts.text = result.text;
  const usage = result.usage;
  if (usage === undefined) return;
  fields.llm_prompt_tokens = usage.prompt_tokens;
  fields.llm_completion_tokens = usage.completion_tokens;
  fields.llm_total_tokens = usage.total_tokens;
}

function count(value: unknown): number {
  return typeof value === 'number' ? value : 0;
}

/**
 * §8.2: `llm_summary` (exactly APISIX's keys, numbers and booleans rather than nginx strings) and the
 * payload objects, from the fields of the last attempt. A no-op unless `logging` asks.
 */
export function recordLoggingEntries(
  fields: LogFields,
  logging: LlmLogging,
  attempt: { readonly request: ClientAiRequest; readonly facts: AttemptFacts },
): void {
  const { request, facts } = attempt;
  const usage = facts.usage;
  if (logging.summaries) {
    const body = facts.upstreamBody;
    fields.llm_summary = {
      request_model: fields.request_llm_model ?? '',
      model: fields.llm_model ?? '',
      duration: count(fields.llm_time_to_first_token),
      prompt_tokens: count(fields.llm_prompt_tokens),
      completion_tokens: count(fields.llm_completion_tokens),
      total_tokens: count(fields.llm_total_tokens),
      upstream_response_time: count(fields.apisix_upstream_response_time),
      stream: request.streaming,
      tool_count: body === undefined ? 0 : arrayOf(body.tools).length,
      has_tool_calls: facts.hasToolCalls,
      end_user_id: isJsonObject(request.body) ? (request.protocol.endUserId(request.body) ?? '') : '',
      cache_read_input_tokens: usage?.cache_read_input_tokens ?? 0,
      cache_creation_input_tokens: usage?.cache_creation_input_tokens ?? 0,
      reasoning_tokens: usage?.reasoning_tokens ?? 0,
      content_risk_level: '',
    };
  }
  if (logging.payloads) {
    const content = isJsonObject(request.body) ? request.protocol.requestContent(request.body) : undefined;
    fields.llm_request = { messages: content, stream: request.streaming };
    fields.llm_response_text = { content: facts.text };
  }
}
