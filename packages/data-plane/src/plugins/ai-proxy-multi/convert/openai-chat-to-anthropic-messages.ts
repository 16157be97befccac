import { SwitchboardError } from '@switchboard/core';
import { arrayOf, isJsonObject, type JsonObject } from '../protocols/protocol.js';
import { type ConverterDescriptor, dropHeaderPrefixes } from './converter.js';
import { createAnthropicToOpenAiAnswer } from './openai-chat-to-anthropic-messages-response.js';
import { anthropicImageSource, copyPresent, parseArguments, textOf, thinkingBudgetOf } from './shared-mappings.js';
import { ToolNameMap } from './tool-names.js';

/** Anthropic requires `max_tokens`; an OpenAI client may send none. */
export const DEFAULT_ANTHROPIC_MAX_TOKENS = 4096;

/** The API version sent when the client (an OpenAI SDK) names none; Anthropic rejects requests without one. */
const ANTHROPIC_VERSION = '2023-06-01';

/**
 * OpenAI Chat client → Anthropic Messages target (ai-proxy-multi.md §4.6, the reverse direction): for
 * an instance that speaks only anthropic-messages. The answer is translated back by
 * openai-chat-to-anthropic-messages-response.ts.
 */
export const openAiChatToAnthropicMessages: ConverterDescriptor = {
  client: 'openai-chat',
  target: 'anthropic-messages',
  create(context) {
    const names = new ToolNameMap();
    const state = { includeUsage: false };
    const answer = createAnthropicToOpenAiAnswer({
      names,
      createdAt: context.createdAt,
      includeUsage: () => state.includeUsage,
    });
    return {
      convertRequest(body) {
        state.includeUsage = isJsonObject(body.stream_options) && body.stream_options.include_usage === true;
        return openAiToAnthropicRequest(body, names);
      },
      adjustHeaders(headers) {
        // The mirror of §4.3: an OpenAI SDK's bearer token becomes Anthropic's `x-api-key`.
        const authorization = headers.authorization;
        if (
          headers['x-api-key'] === undefined &&
          typeof authorization === 'string' &&
          authorization.startsWith('Bearer ')
        ) {
          headers['x-api-key'] = authorization.slice('Bearer '.length);
          delete headers.authorization;
        }
        headers['anthropic-version'] ??= ANTHROPIC_VERSION;
        dropHeaderPrefixes(headers, ['openai-', 'x-stainless-']);
      },
      ...answer,
    };
  },
};

type Block = JsonObject;

function userBlocks(content: unknown): Block[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  const blocks: Block[] = [];
  for (const part of arrayOf(content)) {
    if (!isJsonObject(part)) continue;
    if (part.type === 'text' && typeof part.text === 'string') blocks.push({ type: 'text', text: part.text });
    else if (part.type === 'image_url') {
      const url = isJsonObject(part.image_url) ? part.image_url.url : part.image_url;
      if (typeof url === 'string') blocks.push({ type: 'image', source: anthropicImageSource(url) });
    } else if (part.type === 'file' && isJsonObject(part.file) && typeof part.file.file_data === 'string') {
      blocks.push({ type: 'document', source: anthropicImageSource(part.file.file_data) });
    }
  }
  return blocks;
}

function assistantBlocks(message: JsonObject, names: ToolNameMap): Block[] {
  const blocks: Block[] = [];
  const text = textOf(message.content, '');
  if (text !== undefined && text !== '') blocks.push({ type: 'text', text });
  for (const call of arrayOf(message.tool_calls)) {
    if (!isJsonObject(call) || !isJsonObject(call.function) || typeof call.function.name !== 'string') continue;
    blocks.push({
      type: 'tool_use',
      id: call.id,
      name: names.toTarget(call.function.name),
      input: parseArguments(call.function.arguments),
    });
  }
  return blocks;
}

/**
 * OpenAI messages as Anthropic's `system` plus alternating turns: system/developer messages join the
 * system prompt, tool results become `tool_result` blocks of a user turn, and consecutive turns of one
 * role merge (Anthropic wants tool results at the start of the next user turn).
 */
function convertMessages(messages: readonly unknown[], names: ToolNameMap): { system: string[]; turns: JsonObject[] } {
  const system: string[] = [];
  const turns: { role: string; content: Block[] }[] = [];
  const append = (role: string, blocks: Block[]) => {
    if (blocks.length === 0) return;
    const last = turns.at(-1);
    if (last?.role === role) last.content.push(...blocks);
    else turns.push({ role, content: blocks });
  };
  for (const message of messages) {
    if (!isJsonObject(message)) continue;
    if (message.role === 'system' || message.role === 'developer') {
      const text = textOf(message.content, '\n');
      if (text !== undefined) system.push(text);
    } else if (message.role === 'assistant') append('assistant', assistantBlocks(message, names));
    else if (message.role === 'tool') {
      append('user', [
        { type: 'tool_result', tool_use_id: message.tool_call_id, content: textOf(message.content) ?? '' },
      ]);
    } else append('user', userBlocks(message.content));
  }
  return { system, turns };
}

function convertTools(tools: unknown, names: ToolNameMap): JsonObject[] | undefined {
  const converted: JsonObject[] = [];
  for (const tool of arrayOf(tools)) {
    if (!isJsonObject(tool) || !isJsonObject(tool.function) || typeof tool.function.name !== 'string') continue;
    const fn = tool.function;
    converted.push({
      name: names.toTarget(fn.name as string),
      ...(typeof fn.description === 'string' ? { description: fn.description } : {}),
      input_schema: isJsonObject(fn.parameters) ? fn.parameters : { type: 'object', properties: {} },
    });
  }
  return converted.length === 0 ? undefined : converted;
}

function toolChoice(body: JsonObject, names: ToolNameMap): JsonObject | undefined {
  const choice = body.tool_choice;
  let converted: JsonObject | undefined;
  if (choice === 'auto') converted = { type: 'auto' };
  else if (choice === 'required') converted = { type: 'any' };
  else if (choice === 'none') converted = { type: 'none' };
  else if (isJsonObject(choice) && isJsonObject(choice.function) && typeof choice.function.name === 'string')
    converted = { type: 'tool', name: names.toTarget(choice.function.name) };
  if (body.parallel_tool_calls === false)
    converted = { ...(converted ?? { type: 'auto' }), disable_parallel_tool_use: true };
  return converted;
}

/** Whether the last turn answers tool calls (tool results lead a merged user turn, convertMessages). */
function continuesToolLoop(turns: readonly JsonObject[]): boolean {
  const last = turns.at(-1);
  if (last?.role !== 'user' || !Array.isArray(last.content)) return false;
  const first: unknown = last.content[0];
  return isJsonObject(first) && first.type === 'tool_result';
}

/** Anthropic accepts `top_p` from 0.95 to 1 only while thinking. */
const MIN_THINKING_TOP_P = 0.95;

/**
 * `reasoning_effort` → `thinking: {type: 'enabled', budget_tokens}` (budgets in shared-mappings.ts), made
 * into a request Anthropic accepts (its extended-thinking rules):
 * * `max_tokens` must exceed the budget: when it does not, it becomes budget + `max_tokens`, so the
 *   client's limit is what remains for the answer after thinking;
 * * only the default temperature (1) is allowed: `temperature` is dropped, as is a `top_p` below 0.95;
 * * a forced tool choice (`required`, a named function) is refused with thinking: the client's tool
 *   contract wins and no thinking is requested;
 * * inside a tool loop (the last turn returns tool results) the assistant turn being continued must
 *   start with its signed thinking block, which an OpenAI client never has: no thinking either.
 */
function applyThinking(effort: unknown, out: JsonObject, turns: readonly JsonObject[]): void {
  const budget = thinkingBudgetOf(effort);
  if (budget === undefined) return;
  const choice = out.tool_choice;
  if (isJsonObject(choice) && (choice.type === 'any' || choice.type === 'tool')) return;
  if (continuesToolLoop(turns)) return;
  out.thinking = { type: 'enabled', budget_tokens: budget };
  const maxTokens = typeof out.max_tokens === 'number' ? out.max_tokens : DEFAULT_ANTHROPIC_MAX_TOKENS;
  out.max_tokens = maxTokens > budget ? maxTokens : budget + maxTokens;
  delete out.temperature;
  if (typeof out.top_p === 'number' && out.top_p < MIN_THINKING_TOP_P) delete out.top_p;
}

/** The Anthropic Messages body for an OpenAI Chat body, built from a whitelist of fields. */
export function openAiToAnthropicRequest(body: JsonObject, names: ToolNameMap): JsonObject | SwitchboardError {
  const messages = arrayOf(body.messages);
  if (messages.length === 0) return new SwitchboardError('SB_ERR_BAD_REQUEST', 'missing messages');
  const { system, turns } = convertMessages(messages, names);
  const out: JsonObject = {};
  copyPresent(body, out, ['model']);
  out.max_tokens = body.max_completion_tokens ?? body.max_tokens ?? DEFAULT_ANTHROPIC_MAX_TOKENS;
  if (system.length > 0) out.system = system.join('\n\n');
  out.messages = turns;
  copyPresent(body, out, ['temperature', 'top_p']);
  if (typeof body.stop === 'string') out.stop_sequences = [body.stop];
  else if (Array.isArray(body.stop)) out.stop_sequences = body.stop;
  if (body.stream === true) out.stream = true;
  const tools = convertTools(body.tools, names);
  if (tools !== undefined) {
    out.tools = tools;
    const choice = toolChoice(body, names);
    if (choice !== undefined) out.tool_choice = choice;
  }
  const format = body.response_format;
  if (isJsonObject(format) && format.type === 'json_schema' && isJsonObject(format.json_schema)) {
    out.output_format = { type: 'json_schema', schema: format.json_schema.schema };
  }
  if (typeof body.user === 'string') out.metadata = { user_id: body.user };
  applyThinking(body.reasoning_effort, out, turns);
  return out;
}
