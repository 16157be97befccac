import type { ServerResponse } from 'node:http';
import type { SwitchboardError } from '@switchboard/core';

/**
 * The body of an error the gateway itself makes on an AI route (DECISIONS): OpenAI-shaped, so OpenAI
 * SDKs surface it, with APISIX's message text and our stable error code.
 *
 * @example
 *   openAiErrorBody(new SwitchboardError('SB_ERR_ALL_TRIED', 'all servers tried'));
 *   // { error: { message: 'all servers tried', type: 'server_error', code: 'SB_ERR_ALL_TRIED' } }
 */
export function openAiErrorBody(error: SwitchboardError): { error: { message: string; type: string; code: string } } {
  const type = error.status < 500 ? 'invalid_request_error' : 'server_error';
  return { error: { message: error.message, type, code: error.code } };
}

/** Ends the response with the OpenAI-shaped error; a no-op when the client already went away. */
export function writeGatewayError(res: ServerResponse, error: SwitchboardError): void {
  if (res.destroyed || res.writableEnded) return;
  if (res.headersSent) {
    res.end();
    return;
  }
  const body = JSON.stringify(openAiErrorBody(error));
  res.writeHead(error.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
