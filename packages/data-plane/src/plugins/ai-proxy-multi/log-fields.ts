import type { ClientAiRequest } from './client-request.js';
import type { TokenUsage } from './protocols/protocol.js';

type LogFields = Record<string, unknown>;

/** Per-request variables (ai-proxy-multi.md §5.3, §8.1), set once detection succeeded. */
export function recordClientRequest(fields: LogFields, request: ClientAiRequest): void {
  fields.request_type = request.streaming ? 'ai_stream' : 'ai_chat';
  fields.request_llm_model = request.model ?? '';
}

/**
 * Per-attempt variables (§8.1): the picked instance and its effective model; token and time values start
 * at 0 so that after a fallback they describe the last attempt only.
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

export function recordUsage(fields: LogFields, usage: TokenUsage | undefined): void {
  if (usage === undefined) return;
  fields.llm_prompt_tokens = usage.prompt_tokens;
  fields.llm_completion_tokens = usage.completion_tokens;
  fields.llm_total_tokens = usage.total_tokens;
}

/** Milliseconds from the attempt start, integers as APISIX logs them (§8.1). */
export function recordTimings(
  fields: LogFields,
  timings: { readonly firstTokenMs?: number | undefined; readonly responseMs: number },
): void {
  if (timings.firstTokenMs !== undefined) fields.llm_time_to_first_token = Math.floor(timings.firstTokenMs);
  fields.apisix_upstream_response_time = Math.floor(timings.responseMs);
}
