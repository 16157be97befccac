import { openAiErrorBody } from '../gateway-error.js';
import { type AiProtocol, SILENT_OBSERVER } from './protocol.js';

/**
 * Passthrough (ai-proxy-multi.md §5.2 row 6): any other non-empty JSON, sent to the client's path with
 * the client's method and query (§4.2, §5.5). Nothing in the response is read (§6.2: no usage).
 */
export const passthroughProtocol: AiProtocol = {
  id: 'passthrough',
  isStreaming: (body) => body.stream === true,
  prepareUpstreamBody: () => false,
  readResponse: () => ({ usage: undefined, text: undefined, hasToolCalls: false }),
  createStreamObserver: () => SILENT_OBSERVER,
  requestContent: () => undefined,
  endUserId: () => undefined,
  streamErrorEvent: (error) => `data: ${JSON.stringify(openAiErrorBody(error))}\n\n`,
};
