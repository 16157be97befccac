import { encodePathSegment, type ProviderDescriptor } from './provider.js';

/**
 * `bedrock` (ai-proxy-multi.md §4.1, §4.7, §4.9): the Converse API at the regional runtime host. The model
 * is one URL-encoded path segment (`options.model`, else the client's), `/converse-stream` when the client
 * streams; `model` and `stream` leave the body; requests are SigV4-signed for the `bedrock` service and
 * streamed answers are AWS EventStream frames (upstream/aws-eventstream.ts).
 */
export const bedrockProvider: ProviderDescriptor = {
  id: 'bedrock',
  defaultHost: undefined,
  hostFromConf: (conf) => (conf.region === undefined ? undefined : `bedrock-runtime.${conf.region}.amazonaws.com`),
  paths: {
    'bedrock-converse': ({ model, streaming }) =>
      model === undefined || model === ''
        ? undefined
        : `/model/${encodePathSegment(model)}/${streaming ? 'converse-stream' : 'converse'}`,
  },
  maxTokens: { 'bedrock-converse': { field: ['inferenceConfig', 'maxTokens'] } },
  removesModel: true,
  awsSigningService: 'bedrock',
};
