import type { ProtocolId } from '../protocols/protocol.js';
import { anthropicMessagesToOpenAiChat } from './anthropic-messages-to-openai-chat.js';
import type { ConverterDescriptor } from './converter.js';
import { openAiChatToAnthropicMessages } from './openai-chat-to-anthropic-messages.js';
import { openAiEmbeddingsToVertexPredict } from './openai-embeddings-to-vertex-predict.js';

const CONVERTERS: readonly ConverterDescriptor[] = [
  anthropicMessagesToOpenAiChat,
  openAiChatToAnthropicMessages,
  openAiEmbeddingsToVertexPredict,
];

/** How a client protocol reaches an instance: natively, or through a converter to `target`. */
export interface ProtocolRoute {
  readonly target: ProtocolId;
  readonly converter: ConverterDescriptor | undefined;
}

/**
 * Protocol routing (ai-proxy-multi.md §4.6): the client's protocol when the instance speaks it;
 * passthrough always as itself; else the first protocol of the instance that a converter reaches, in
 * the provider's declaration order; undefined when none (400 `provider … does not support …`).
 *
 * @example
 *   routeProtocol('anthropic-messages', ['openai-chat']); // { target: 'openai-chat', converter: anthropicMessagesToOpenAiChat }
 */
export function routeProtocol(client: ProtocolId, speaks: readonly ProtocolId[]): ProtocolRoute | undefined {
  if (client === 'passthrough' || speaks.includes(client)) return { target: client, converter: undefined };
  for (const target of speaks) {
    const converter = CONVERTERS.find((candidate) => candidate.client === client && candidate.target === target);
    if (converter !== undefined) return { target, converter };
  }
  return undefined;
}
