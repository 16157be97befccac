import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { AiQuotaGate } from '../plugins/ai-quota.js';
import type { AttachedConsumer, RequestContext } from '../plugins/runtime-plugin.js';
import type { RequestVars } from '../router/request-vars.js';
import type { RequestBody } from './request-body.js';

/** The RequestContext of one matched request (runtime-plugin.ts), shared by its plugins. */
export class PipelineContext implements RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly vars: RequestVars;
  readonly path: string;
  readonly routeKey: string;
  readonly routeId: string;
  readonly logger: Logger;
  consumer: AttachedConsumer | undefined = undefined;
  aiQuota: AiQuotaGate | undefined = undefined;
  readonly upstreamHeaders = new Map<string, string | undefined>();
  readonly logFields: Record<string, unknown> = {};
  readonly body: RequestBody;

  constructor(init: {
    readonly req: IncomingMessage;
    readonly res: ServerResponse;
    readonly vars: RequestVars;
    readonly body: RequestBody;
    readonly routeKey: string;
    readonly routeId: string;
    readonly logger: Logger;
  }) {
    this.req = init.req;
    this.res = init.res;
    this.vars = init.vars;
    this.path = init.vars.path;
    this.body = init.body;
    this.routeKey = init.routeKey;
    this.routeId = init.routeId;
    this.logger = init.logger;
  }

  async readBody(limitBytes: number): Promise<Buffer> {
    const body = await this.body.read(limitBytes);
    this.vars.setBody(body);
    return body;
  }
}
