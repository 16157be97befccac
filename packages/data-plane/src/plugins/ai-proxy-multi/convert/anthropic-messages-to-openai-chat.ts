import { SwitchboardError } from '@switchboard/core';
import { arrayOf, isJsonObject, type JsonObject } from '../protocols/protocol.js';
import { createOpenAiToAnthropicAnswer } from './anthropic-messages-to-openai-chat-response.js';
import { type ConverterDescriptor, dropHeaderPrefixes } from './converter.js';
import { copyPresent, reasoningEffortOf, sourceAsUrl, textOf } from './shared-mappings.js';
import { ToolNameMap } from './tool-names.js';

/**
 * Anthropic Messages client → OpenAI Chat target (ai-proxy-multi.md §4.3, §4.6): the request is built
 * from a whitelist of fields, the answer (JSON, errors and SSE) is translated back by
 * anthropic-messages-to-openai-chat-response.ts.
 */
export const anthropicMessagesToOpenAiChat: ConverterDescriptor = {
  client: 'anthropic-messages',
  target: 'openai-chat',
  create() {
    const names = new ToolNameMap();
    const answer = createOpenAiToAnthropicAnswer({ names });
    return {
      convertRequest: (body) => anthropicToOpenAiRequest(body, names),
      adjustHeaders(headers) {
        // §4.3: the Anthropic SDK's key becomes a bearer token unless one is configured; Anthropic's own
        // headers mean nothing to an OpenAI-style upstream.
        const apiKey = headers['x-api-key'];
        if (headers.authorization === undefined && typeof apiKey === 'string')
          headers.authorization = `Bearer ${apiKey}`;
        delete headers['x-api-key'];
        dropHeaderPrefixes(headers, ['anthropic-', 'x-stainless-']);
      },
      ...answer,
    };
  },
};

const badRequest = (message: string) => new SwitchboardError('SB_ERR_BAD_REQUEST', message);

/** APISIX's level for adaptive thinking without `output_config.effort`. */
const ADAPTIVE_DEFAULT_EFFORT = 'medium';

/**
 * `thinking` → `reasoning_effort` (§4.6): an enabled budget through the table both directions share
 * (shared-mappings.ts); adaptive thinking takes `output_config.effort` as is (Chat Completions uses the
 * same labels), else medium; disabled or absent thinking sends none.
 */
function reasoningEffort(body: JsonObject): string | undefined {
  const thinking = body.thinking;
  if (!isJsonObject(thinking)) return undefined;
  if (thinking.type === 'adaptive') {
    const effort = isJsonObject(body.output_config) ? body.output_config.effort : undefined;
    return typeof effort === 'string' && effort !== '' ? effort : ADAPTIVE_DEFAULT_EFFORT;
  }
  if (thinking.type !== 'enabled') return undefined;
  return reasoningEffortOf(typeof thinking.budget_tokens === 'number' ? thinking.budget_tokens : 0);
}

/** Anthropic's server tools (`web_search_…`, `bash_…`) have a `type`; only custom tools translate. */
function isCustomTool(tool: unknown): tool is JsonObject {
  return isJsonObject(tool) && typeof tool.name === 'string' && (tool.type === undefined || tool.type === 'custom');
}

function convertTools(tools: unknown, names: ToolNameMap): JsonObject[] | undefined {
  const custom = arrayOf(tools).filter(isCustomTool);
  if (custom.length === 0) return undefined;
  return custom.map((tool) => ({
    type: 'function',
    function: {
      name: names.toTarget(tool.name as string),
      ...(typeof tool.description === 'string' ? { description: tool.description } : {}),
      parameters: isJsonObject(tool.input_schema) ? tool.input_schema : { type: 'object', properties: {} },
    },
  }));
}

function convertToolChoice(choice: unknown, names: ToolNameMap, out: JsonObject): void {
  if (!isJsonObject(choice)) return;
  if (choice.type === 'auto') out.tool_choice = 'auto';
  else if (choice.type === 'any') out.tool_choice = 'required';
  else if (choice.type === 'none') out.tool_choice = 'none';
  else if (choice.type === 'tool' && typeof choice.name === 'string')
    out.tool_choice = { type: 'function', function: { name: names.toTarget(choice.name) } };
  if (choice.disable_parallel_tool_use === true) out.parallel_tool_calls = false;
}

/** `output_format` or `output_config.format` with a JSON schema → a strict `response_format`. */
function responseFormat(body: JsonObject): JsonObject | undefined {
  const format = body.output_format ?? (isJsonObject(body.output_config) ? body.output_config.format : undefined);
  if (!isJsonObject(format) || format.type !== 'json_schema' || !isJsonObject(format.schema)) return undefined;
  return { type: 'json_schema', json_schema: { name: 'output', schema: format.schema, strict: true } };
}

/** A user block as an OpenAI content part; undefined for blocks OpenAI has no part for. */
function userPart(block: JsonObject): JsonObject | undefined {
  if (block.type === 'text' && typeof block.text === 'string') return { type: 'text', text: block.text };
  if (block.type === 'image') {
    const url = sourceAsUrl(block.source);
    return url === undefined ? undefined : { type: 'image_url', image_url: { url } };
  }
  if (block.type === 'document' && isJsonObject(block.source)) {
    if (block.source.type === 'text' && typeof block.source.data === 'string')
      return { type: 'text', text: block.source.data };
    const url = sourceAsUrl(block.source);
    if (url?.startsWith('data:')) return { type: 'file', file: { filename: 'document', file_data: url } };
  }
  return undefined;
}

/** A user turn: its tool results become `tool` messages first, then the rest (§4.6). */
function userMessages(content: readonly unknown[]): JsonObject[] {
  const messages: JsonObject[] = [];
  const parts: JsonObject[] = [];
  for (const block of content) {
    if (!isJsonObject(block)) continue;
    if (block.type === 'tool_result') {
      messages.push({ role: 'tool', tool_call_id: block.tool_use_id, content: textOf(block.content) ?? '' });
      continue;
    }
    const part = userPart(block);
    if (part !== undefined) parts.push(part);
  }
  if (parts.length === 1 && parts[0]?.type === 'text') messages.push({ role: 'user', content: parts[0].text });
  else if (parts.length > 0) messages.push({ role: 'user', content: parts });
  return messages;
}

function assistantMessage(content: readonly unknown[], names: ToolNameMap): JsonObject | undefined {
  const texts: string[] = [];
  const toolCalls: JsonObject[] = [];
  for (const block of content) {
    if (!isJsonObject(block)) continue;
    if (block.type === 'text' && typeof block.text === 'string') texts.push(block.text);
    else if (block.type === 'tool_use' && typeof block.name === 'string') {
      toolCalls.push({
        id: block.id,
        type: 'function',
        function: { name: names.toTarget(block.name), arguments: JSON.stringify(block.input ?? {}) },
      });
    }
  }
  if (texts.length === 0 && toolCalls.length === 0) return undefined;
  return {
    role: 'assistant',
    content: texts.length === 0 ? null : texts.join(''),
    ...(toolCalls.length === 0 ? {} : { tool_calls: toolCalls }),
  };
}

function convertMessages(system: unknown, messages: readonly unknown[], names: ToolNameMap): JsonObject[] {
  const converted: JsonObject[] = [];
  const systemText = textOf(system, '\n\n');
  if (systemText !== undefined) converted.push({ role: 'system', content: systemText });
  for (const message of messages) {
    if (!isJsonObject(message)) continue;
    const role = message.role === 'assistant' ? 'assistant' : 'user';
    if (typeof message.content === 'string') {
      converted.push({ role, content: message.content });
      continue;
    }
    const content = arrayOf(message.content);
    if (role === 'user') converted.push(...userMessages(content));
    else {
      const assistant = assistantMessage(content, names);
      if (assistant !== undefined) converted.push(assistant);
    }
  }
  return converted;
}

/**
 * The OpenAI Chat body for an Anthropic Messages body (§4.6 "Anthropic→OpenAI request"): built from a
 * whitelist, so Anthropic-only fields (`top_k`, `cache_control`, server tools) never reach the target.
 */
export function anthropicToOpenAiRequest(body: JsonObject, names: ToolNameMap): JsonObject | SwitchboardError {
  const messages = arrayOf(body.messages);
  if (messages.length === 0) return badRequest('missing messages');
  const out: JsonObject = {};
  copyPresent(body, out, ['model']);
  out.messages = convertMessages(body.system, messages, names);
  if (body.max_tokens !== undefined) out.max_completion_tokens = body.max_tokens;
  copyPresent(body, out, ['temperature', 'top_p']);
  if (Array.isArray(body.stop_sequences)) out.stop = body.stop_sequences;
  if (body.stream === true) {
    out.stream = true;
    out.stream_options = { include_usage: true };
  }
  const effort = reasoningEffort(body);
  if (effort !== undefined) out.reasoning_effort = effort;
  const tools = convertTools(body.tools, names);
  if (tools !== undefined) {
    out.tools = tools;
    convertToolChoice(body.tool_choice, names, out);
  }
  const format = responseFormat(body);
  if (format !== undefined) out.response_format = format;
  if (isJsonObject(body.metadata) && typeof body.metadata.user_id === 'string') out.user = body.metadata.user_id;
  if (body.service_tier === 'auto') out.service_tier = 'auto';
  else if (body.service_tier === 'standard_only') out.service_tier = 'default';
  return out;
}
