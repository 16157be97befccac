import { anthropicErrorBody } from '../protocols/anthropic-messages.js';
import { arrayOf, isJsonObject, type JsonObject, parseEventJson, tokenCountAt } from '../protocols/protocol.js';
import { encodeSseJson } from '../sse/sse-encode.js';
import type { SseEvent } from '../sse/sse-event-splitter.js';
import type { ProtocolConverter } from './converter.js';
import { anthropicStopReason, parseArguments, textOf } from './shared-mappings.js';
import type { ToolNameMap } from './tool-names.js';

/** OpenAI usage as Anthropic counts it: `input_tokens` excludes the cached prompt tokens. */
function anthropicUsageOf(usage: unknown): JsonObject {
  const prompt = tokenCountAt(usage, 'prompt_tokens');
  const cached = isJsonObject(usage) ? tokenCountAt(usage.prompt_tokens_details, 'cached_tokens') : 0;
  return {
    input_tokens: Math.max(prompt - cached, 0),
    output_tokens: tokenCountAt(usage, 'completion_tokens'),
    ...(cached > 0 ? { cache_read_input_tokens: cached } : {}),
  };
}

function errorMessage(body: JsonObject): string {
  const error = body.error;
  if (isJsonObject(error) && typeof error.message === 'string') return error.message;
  return typeof error === 'string' ? error : 'upstream error';
}

/**
 * The reasoning of a message or delta: `reasoning_content` (DeepSeek, vLLM, LiteLLM) or `reasoning`
 * (OpenRouter); undefined when empty.
 */
function reasoningOf(record: JsonObject): string | undefined {
  const text = typeof record.reasoning_content === 'string' ? record.reasoning_content : record.reasoning;
  return typeof text === 'string' && text !== '' ? text : undefined;
}

/**
 * A chat completion (or an OpenAI error) as an Anthropic `message` (or error), §4.6. Reasoning comes
 * first, as a `thinking` block (as in APISIX); its `signature` is empty because an OpenAI-style upstream
 * has none to give.
 */
function anthropicMessageOf(status: number, body: unknown, names: ToolNameMap): unknown {
  if (!isJsonObject(body)) return body;
  if (body.error !== undefined) return anthropicErrorBody(status, errorMessage(body));
  const choice = arrayOf(body.choices)[0];
  if (!isJsonObject(choice)) return body;
  const message = isJsonObject(choice.message) ? choice.message : {};
  const content: JsonObject[] = [];
  const reasoning = reasoningOf(message);
  if (reasoning !== undefined) content.push({ type: 'thinking', thinking: reasoning, signature: '' });
  const text = textOf(message.content, '') ?? (typeof message.refusal === 'string' ? message.refusal : undefined);
  if (text !== undefined && text !== '') content.push({ type: 'text', text });
  for (const call of arrayOf(message.tool_calls)) {
    if (!isJsonObject(call) || !isJsonObject(call.function)) continue;
    const name = typeof call.function.name === 'string' ? names.toClient(call.function.name) : '';
    content.push({ type: 'tool_use', id: call.id, name, input: parseArguments(call.function.arguments) });
  }
  return {
    id: body.id,
    type: 'message',
    role: 'assistant',
    model: body.model,
    content,
    stop_reason: anthropicStopReason(choice.finish_reason),
    stop_sequence: null,
    usage: anthropicUsageOf(body.usage),
  };
}

type BlockKind = 'text' | 'thinking' | 'tool_use';

/**
 * Stream state of one answer: OpenAI chunks → Anthropic events. Anthropic streams content as blocks
 * (`content_block_start`/`_delta`/`_stop`), so the open block is tracked, reasoning deltas and a tool
 * call each open their own block, and `message_delta` + `message_stop` come at `[DONE]` once the usage
 * chunk was seen.
 */
class ChunksToAnthropicEvents {
  private started = false;
  private finished = false;
  private blockCount = 0;
  private openBlock: number | undefined;
  private openBlockType: BlockKind | undefined;
  /** OpenAI tool-call index → Anthropic block index. */
  private readonly toolBlocks = new Map<number, number>();
  private stopReason: string | undefined;
  private usage: JsonObject = { input_tokens: 0, output_tokens: 0 };

  constructor(private readonly names: ToolNameMap) {}

  convert(event: SseEvent): string {
    if (this.finished) return '';
    if (event.data === '[DONE]') return this.finish();
    const chunk = parseEventJson(event.data);
    if (chunk === undefined) return '';
    if (chunk.error !== undefined) {
      this.finished = true;
      return encodeSseJson('error', anthropicErrorBody(500, errorMessage(chunk)));
    }
    let out = this.started ? '' : this.start(chunk);
    const choice = arrayOf(chunk.choices)[0];
    if (isJsonObject(choice)) {
      const delta = isJsonObject(choice.delta) ? choice.delta : {};
      const reasoning = reasoningOf(delta);
      if (reasoning !== undefined) out += this.delta('thinking', { type: 'thinking_delta', thinking: reasoning });
      if (typeof delta.content === 'string' && delta.content !== '')
        out += this.delta('text', { type: 'text_delta', text: delta.content });
      for (const call of arrayOf(delta.tool_calls)) if (isJsonObject(call)) out += this.toolCall(call);
      if (typeof choice.finish_reason === 'string') this.stopReason = anthropicStopReason(choice.finish_reason);
    }
    if (isJsonObject(chunk.usage)) this.usage = anthropicUsageOf(chunk.usage);
    return out;
  }

  /** An upstream that ended after its finish reason but without `[DONE]` still completed its answer. */
  end(): string {
    return this.started && !this.finished && this.stopReason !== undefined ? this.finish() : '';
  }

  private start(chunk: JsonObject): string {
    this.started = true;
    return encodeSseJson('message_start', {
      type: 'message_start',
      message: {
        id: chunk.id,
        type: 'message',
        role: 'assistant',
        model: chunk.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 0, output_tokens: 0 },
      },
    });
  }

  /** A text or thinking delta, in a block of its kind (opened when another kind is open). */
  private delta(kind: 'text' | 'thinking', delta: JsonObject): string {
    let out = '';
    if (this.openBlockType !== kind) {
      out += this.closeBlock();
      out += this.openNewBlock(kind, kind === 'text' ? { text: '' } : { thinking: '', signature: '' });
    }
    return `${out}${encodeSseJson('content_block_delta', { type: 'content_block_delta', index: this.openBlock, delta })}`;
  }

  private toolCall(call: JsonObject): string {
    const toolIndex = typeof call.index === 'number' ? call.index : 0;
    const fn = isJsonObject(call.function) ? call.function : {};
    let out = '';
    let block = this.toolBlocks.get(toolIndex);
    if (block === undefined) {
      out += this.closeBlock();
      const name = typeof fn.name === 'string' ? this.names.toClient(fn.name) : '';
      out += this.openNewBlock('tool_use', { id: call.id, name, input: {} });
      block = this.openBlock as number;
      this.toolBlocks.set(toolIndex, block);
    }
    if (typeof fn.arguments === 'string' && fn.arguments !== '') {
      out += encodeSseJson('content_block_delta', {
        type: 'content_block_delta',
        index: block,
        delta: { type: 'input_json_delta', partial_json: fn.arguments },
      });
    }
    return out;
  }

  private openNewBlock(kind: BlockKind, fields: JsonObject): string {
    this.openBlock = this.blockCount;
    this.openBlockType = kind;
    this.blockCount += 1;
    return encodeSseJson('content_block_start', {
      type: 'content_block_start',
      index: this.openBlock,
      content_block: { type: kind, ...fields },
    });
  }

  private closeBlock(): string {
    if (this.openBlock === undefined) return '';
    const index = this.openBlock;
    this.openBlock = undefined;
    this.openBlockType = undefined;
    return encodeSseJson('content_block_stop', { type: 'content_block_stop', index });
  }

  private finish(): string {
    this.finished = true;
    if (!this.started) return '';
    return `${this.closeBlock()}${encodeSseJson('message_delta', {
      type: 'message_delta',
      delta: { stop_reason: this.stopReason ?? 'end_turn', stop_sequence: null },
      usage: this.usage,
    })}${encodeSseJson('message_stop', { type: 'message_stop' })}`;
  }
}

/** The answer half of anthropic-messages-to-openai-chat: OpenAI JSON and SSE back to Anthropic's shapes. */
export function createOpenAiToAnthropicAnswer(options: {
  readonly names: ToolNameMap;
}): Pick<ProtocolConverter, 'convertResponse' | 'convertStreamEvent' | 'endStream'> {
  const stream = new ChunksToAnthropicEvents(options.names);
  return {
    convertResponse: (status, body) => anthropicMessageOf(status, body, options.names),
    convertStreamEvent: (event) => stream.convert(event),
    endStream: () => stream.end(),
  };
}
