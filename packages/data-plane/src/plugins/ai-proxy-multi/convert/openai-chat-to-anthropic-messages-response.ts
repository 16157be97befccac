import { arrayOf, isJsonObject, type JsonObject, parseEventJson, tokenCountAt } from '../protocols/protocol.js';
import { encodeSseJson } from '../sse/sse-encode.js';
import type { SseEvent } from '../sse/sse-event-splitter.js';
import type { ProtocolConverter } from './converter.js';
import { openAiFinishReason } from './shared-mappings.js';
import type { ToolNameMap } from './tool-names.js';

interface AnthropicCounts {
  input: number;
  output: number;
  cacheRead: number;
  cacheCreation: number;
}

function countsOf(usage: unknown, previous?: AnthropicCounts): AnthropicCounts {
  const keep = (value: number, old: number | undefined) => (value > 0 ? value : (old ?? 0));
  return {
    input: keep(tokenCountAt(usage, 'input_tokens'), previous?.input),
    output: keep(tokenCountAt(usage, 'output_tokens'), previous?.output),
    cacheRead: keep(tokenCountAt(usage, 'cache_read_input_tokens'), previous?.cacheRead),
    cacheCreation: keep(tokenCountAt(usage, 'cache_creation_input_tokens'), previous?.cacheCreation),
  };
}

/** Anthropic counts as OpenAI reports them: the prompt includes cached and cache-written tokens. */
function openAiUsageOf(counts: AnthropicCounts): JsonObject {
  const prompt = counts.input + counts.cacheRead + counts.cacheCreation;
  return {
    prompt_tokens: prompt,
    completion_tokens: counts.output,
    total_tokens: prompt + counts.output,
    ...(counts.cacheRead > 0 ? { prompt_tokens_details: { cached_tokens: counts.cacheRead } } : {}),
  };
}

function openAiErrorOf(body: JsonObject): JsonObject {
  const error = isJsonObject(body.error) ? body.error : {};
  return {
    error: {
      message: typeof error.message === 'string' ? error.message : 'upstream error',
      type: typeof error.type === 'string' ? error.type : 'api_error',
      code: null,
    },
  };
}

/**
 * An Anthropic `message` (or error) as a chat completion (or OpenAI error). `thinking` blocks become the
 * message's `reasoning_content` (DeepSeek's field, which OpenAI-style clients read); redacted thinking
 * has no readable text and is dropped.
 */
function completionOf(body: unknown, names: ToolNameMap, createdAt: number): unknown {
  if (!isJsonObject(body)) return body;
  if (body.type === 'error') return openAiErrorOf(body);
  if (body.type !== 'message') return body;
  const texts: string[] = [];
  const thoughts: string[] = [];
  const toolCalls: JsonObject[] = [];
  for (const block of arrayOf(body.content)) {
    if (!isJsonObject(block)) continue;
    if (block.type === 'text' && typeof block.text === 'string') texts.push(block.text);
    else if (block.type === 'thinking' && typeof block.thinking === 'string') thoughts.push(block.thinking);
    else if (block.type === 'tool_use' && typeof block.name === 'string') {
      toolCalls.push({
        id: block.id,
        type: 'function',
        function: { name: names.toClient(block.name), arguments: JSON.stringify(block.input ?? {}) },
      });
    }
  }
  return {
    id: body.id,
    object: 'chat.completion',
    created: createdAt,
    model: body.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: texts.length === 0 ? null : texts.join(''),
          ...(thoughts.length === 0 ? {} : { reasoning_content: thoughts.join('') }),
          ...(toolCalls.length === 0 ? {} : { tool_calls: toolCalls }),
        },
        finish_reason: openAiFinishReason(body.stop_reason),
      },
    ],
    usage: openAiUsageOf(countsOf(body.usage)),
  };
}

/**
 * Stream state of one answer: Anthropic events → OpenAI chunks. Thinking deltas become
 * `reasoning_content` deltas (signatures are dropped); tool-use blocks get consecutive tool-call
 * indexes; `message_stop` ends with the usage chunk (when the client asked for it with
 * `stream_options.include_usage`) and `[DONE]`.
 */
class AnthropicEventsToChunks {
  private id: unknown;
  private model: unknown;
  private counts: AnthropicCounts = { input: 0, output: 0, cacheRead: 0, cacheCreation: 0 };
  /** Anthropic block index → OpenAI tool-call index. */
  private readonly toolCalls = new Map<number, number>();
  private finished = false;

  constructor(
    private readonly names: ToolNameMap,
    private readonly createdAt: number,
    private readonly includeUsage: () => boolean,
  ) {}

  convert(event: SseEvent): string {
    if (this.finished) return '';
    const data = parseEventJson(event.data);
    if (data === undefined) return '';
    switch (data.type) {
      case 'message_start':
        return this.messageStart(data.message);
      case 'content_block_start':
        return this.blockStart(data);
      case 'content_block_delta':
        return this.blockDelta(data);
      case 'message_delta':
        this.counts = countsOf(data.usage, this.counts);
        return this.chunk({}, openAiFinishReason(isJsonObject(data.delta) ? data.delta.stop_reason : undefined));
      case 'message_stop':
        return this.finish();
      case 'error':
        this.finished = true;
        return encodeSseJson('message', openAiErrorOf(data));
      default:
        return '';
    }
  }

  private messageStart(message: unknown): string {
    if (isJsonObject(message)) {
      this.id = message.id;
      this.model = message.model;
      this.counts = countsOf(message.usage);
    }
    return this.chunk({ role: 'assistant', content: '' }, null);
  }

  private blockStart(data: JsonObject): string {
    const block = data.content_block;
    if (!isJsonObject(block)) return '';
    if (block.type === 'text' && typeof block.text === 'string' && block.text !== '')
      return this.chunk({ content: block.text }, null);
    if (block.type === 'thinking' && typeof block.thinking === 'string' && block.thinking !== '')
      return this.chunk({ reasoning_content: block.thinking }, null);
    if (block.type !== 'tool_use' || typeof data.index !== 'number') return '';
    const toolIndex = this.toolCalls.size;
    this.toolCalls.set(data.index, toolIndex);
    const name = typeof block.name === 'string' ? this.names.toClient(block.name) : '';
    return this.chunk(
      { tool_calls: [{ index: toolIndex, id: block.id, type: 'function', function: { name, arguments: '' } }] },
      null,
    );
  }

  private blockDelta(data: JsonObject): string {
    const delta = data.delta;
    if (!isJsonObject(delta)) return '';
    if (delta.type === 'text_delta' && typeof delta.text === 'string') return this.chunk({ content: delta.text }, null);
    if (delta.type === 'thinking_delta' && typeof delta.thinking === 'string')
      return this.chunk({ reasoning_content: delta.thinking }, null);
    if (delta.type !== 'input_json_delta' || typeof data.index !== 'number') return '';
    const toolIndex = this.toolCalls.get(data.index);
    if (toolIndex === undefined || typeof delta.partial_json !== 'string') return '';
    return this.chunk({ tool_calls: [{ index: toolIndex, function: { arguments: delta.partial_json } }] }, null);
  }

  private finish(): string {
    this.finished = true;
    const usage = this.includeUsage()
      ? encodeSseJson('message', { ...this.base(), choices: [], usage: openAiUsageOf(this.counts) })
      : '';
    return `${usage}data: [DONE]\n\n`;
  }

  private base(): JsonObject {
    return { id: this.id, object: 'chat.completion.chunk', created: this.createdAt, model: this.model };
  }

  private chunk(delta: JsonObject, finishReason: string | null): string {
    return encodeSseJson('message', { ...this.base(), choices: [{ index: 0, delta, finish_reason: finishReason }] });
  }
}

/** The answer half of openai-chat-to-anthropic-messages: Anthropic JSON and SSE back to OpenAI's shapes. */
export function createAnthropicToOpenAiAnswer(options: {
  readonly names: ToolNameMap;
  readonly createdAt: number;
  /** Whether the client asked for the final usage chunk (read after its request was converted). */
  readonly includeUsage: () => boolean;
}): Pick<ProtocolConverter, 'convertResponse' | 'convertStreamEvent' | 'endStream'> {
  const stream = new AnthropicEventsToChunks(options.names, options.createdAt, options.includeUsage);
  return {
    convertResponse: (_status, body) => completionOf(body, options.names, options.createdAt),
    convertStreamEvent: (event) => stream.convert(event),
    // Without `message_stop` the answer is incomplete: no `[DONE]` (DECISIONS "Honest streams").
    endStream: () => '',
  };
}
