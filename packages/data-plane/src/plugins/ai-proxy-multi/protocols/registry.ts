import { anthropicMessagesProtocol } from './anthropic-messages.js';
import { bedrockConverseProtocol } from './bedrock-converse.js';
import { openAiChatProtocol } from './openai-chat.js';
import { openAiEmbeddingsProtocol } from './openai-embeddings.js';
import { openAiResponsesProtocol } from './openai-responses.js';
import { passthroughProtocol } from './passthrough.js';
import type { AiProtocol, ProtocolId } from './protocol.js';
import { vertexPredictProtocol } from './vertex-predict.js';

const PROTOCOLS: Readonly<Record<ProtocolId, AiProtocol>> = {
  'openai-chat': openAiChatProtocol,
  'openai-embeddings': openAiEmbeddingsProtocol,
  'openai-responses': openAiResponsesProtocol,
  'anthropic-messages': anthropicMessagesProtocol,
  'bedrock-converse': bedrockConverseProtocol,
  'vertex-predict': vertexPredictProtocol,
  passthrough: passthroughProtocol,
};

/** The module of a protocol; every ProtocolId has one. */
export function protocolModule(id: ProtocolId): AiProtocol {
  return PROTOCOLS[id];
}
