import { SwitchboardError } from '@switchboard/core';
import { arrayOf, isJsonObject, type JsonObject } from '../protocols/protocol.js';
import { vertexPredictTokenCount } from '../protocols/vertex-predict.js';
import type { ConverterDescriptor } from './converter.js';

/** One `input` item as Vertex's `content`: a string, or a list of strings joined by a space (§4.6). */
function contentOf(item: unknown): string | undefined {
  if (typeof item === 'string') return item;
  if (Array.isArray(item) && item.every((part) => typeof part === 'string')) return item.join(' ');
  return undefined;
}

function instancesOf(input: unknown): JsonObject[] | SwitchboardError {
  const items = typeof input === 'string' ? [input] : arrayOf(input);
  const contents = items.map(contentOf);
  if (items.length === 0 || contents.some((content) => content === undefined)) {
    return new SwitchboardError('SB_ERR_BAD_REQUEST', 'input must be a string or an array of strings');
  }
  return contents.map((content) => ({ content }));
}

/** `predictions[i].embeddings.values` as OpenAI's embedding list. */
function embeddingsListOf(body: unknown, model: string): unknown {
  if (!isJsonObject(body) || !Array.isArray(body.predictions)) return body;
  const tokens = vertexPredictTokenCount(body);
  return {
    object: 'list',
    data: body.predictions.map((prediction, index) => {
      const embeddings = isJsonObject(prediction) ? prediction.embeddings : undefined;
      return { object: 'embedding', index, embedding: isJsonObject(embeddings) ? arrayOf(embeddings.values) : [] };
    }),
    model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}

/**
 * OpenAI Embeddings client → Vertex AI `:predict` target (ai-proxy-multi.md §4.6): only `vertex-ai`
 * speaks vertex-predict. The model in the answer is the client's (`request_llm_model`) or `unknown`.
 */
export const openAiEmbeddingsToVertexPredict: ConverterDescriptor = {
  client: 'openai-embeddings',
  target: 'vertex-predict',
  create() {
    let model = 'unknown';
    return {
      convertRequest(body) {
        if (typeof body.model === 'string') model = body.model;
        const instances = instancesOf(body.input);
        return instances instanceof SwitchboardError ? instances : { instances };
      },
      adjustHeaders() {},
      convertResponse: (_status, body) => embeddingsListOf(body, model),
      // Embeddings never stream.
      convertStreamEvent: () => '',
      endStream: () => '',
    };
  },
};
