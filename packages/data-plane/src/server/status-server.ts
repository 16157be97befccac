import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { sendErrorMessage, sendResponse } from './respond.js';

/** What the status server reports, read per status request. */
export interface NodeReadiness {
  /** The lowest config revision applied by every worker (0 before any). */
  readonly revision: number;
  /** The first worker that has not applied a full load yet; undefined when all have. */
  readonly notReadyWorker: number | undefined;
}

/**
 * The status server (admin-api.md §5.7, architecture.md): `GET /status` is always 200;
 * `GET /status/ready` is 200 once every worker applied the first full load, else 503 naming the
 * first worker that has not.
 *
 * @example createStatusServer(() => ({ revision: 12, notReadyWorker: undefined })).listen(7085, '127.0.0.1')
 */
export function createStatusServer(readiness: () => NodeReadiness): Server {
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendErrorMessage(res, 405, 'method not allowed');
      return;
    }
    const { revision, notReadyWorker } = readiness();
    if (path === '/status') {
      sendResponse(res, 200, { status: 'ok', revision });
      return;
    }
    if (path === '/status/ready') {
      if (notReadyWorker === undefined) sendResponse(res, 200, { status: 'ok', revision });
      else
        sendResponse(res, 503, {
          status: 'error',
          error: `worker id: ${notReadyWorker} has not received configuration`,
        });
      return;
    }
    sendErrorMessage(res, 404, 'not found');
  });
}
