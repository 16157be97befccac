import type { TokenEstimate } from '../ai-quota.js';
import type { ClientAiRequest } from './client-request.js';
import { isJsonObject } from './protocols/protocol.js';

/** Roughly four bytes of JSON per token: a generous reading for English prompts, so estimates err high. */
const BYTES_PER_TOKEN = 4;

/** The fields each protocol caps its answer with (chat, Anthropic messages, Responses API). */
const COMPLETION_CAP_FIELDS = ['max_tokens', 'max_completion_tokens', 'max_output_tokens'] as const;

/**
 * What ai-rate-limiting reserves for a request before it is sent (reserve-then-settle): the prompt from
 * the body's size, the answer from the client's own cap, or undefined so the plugin's
 * `default_completion_tokens` applies. Embeddings answer with no completion tokens.
 *
 * @example estimateRequestTokens(request) // { prompt_tokens: 120, completion_tokens: 512 }
 */
export function estimateRequestTokens(request: ClientAiRequest): TokenEstimate {
  const prompt_tokens = Math.ceil(request.raw.length / BYTES_PER_TOKEN);
  if (request.protocol.id === 'openai-embeddings') return { prompt_tokens, completion_tokens: 0 };
  const body = request.body;
  if (isJsonObject(body)) {
    for (const field of COMPLETION_CAP_FIELDS) {
      const cap = body[field];
      if (typeof cap === 'number' && Number.isSafeInteger(cap) && cap > 0)
        return { prompt_tokens, completion_tokens: cap };
    }
  }
  return { prompt_tokens, completion_tokens: undefined };
}
