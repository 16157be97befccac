import type { FastifyReply } from 'fastify';

/**
 * Sends a JSON body with `Content-Type: application/json` exactly, as APISIX does (routes4.t pins the
 * header). Fastify appends `; charset=utf-8` to any JSON string or object it is handed, but leaves
 * the header of a Buffer alone.
 */
export function sendJson(reply: FastifyReply, status: number, body: unknown): void {
  void reply
    .code(status)
    .header('content-type', 'application/json')
    .send(Buffer.from(JSON.stringify(body)));
}
