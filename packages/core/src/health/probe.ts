import { isIP, type Socket, connect as tcpConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { ProbeSpec } from './active-check-spec.js';
import type { ProbeResult } from './target-health.js';

/** Runs one probe; never rejects (every failure is a ProbeResult). */
export type Prober = (spec: ProbeSpec) => Promise<ProbeResult>;

/** An HTTP/1.x status line is all a probe reads (§7.2); a longer first line is not one. */
const MAX_STATUS_LINE_BYTES = 1024;
const STATUS_LINE = /^HTTP\/\d(?:\.\d)? (\d{3})(?: |$)/;

function probeRequest(spec: ProbeSpec): string {
  const lines = [`${spec.method} ${spec.path} HTTP/1.1`, `Host: ${spec.hostHeader}`, 'Connection: close'];
  lines.push(...spec.headerLines);
  if (spec.body !== '') lines.push(`Content-Length: ${Buffer.byteLength(spec.body)}`);
  return `${lines.join('\r\n')}\r\n\r\n${spec.body}`;
}

function openSocket(spec: ProbeSpec): Socket {
  const options = { host: spec.host, port: spec.port, timeout: spec.timeoutMs };
  if (spec.type !== 'https') return tcpConnect(options);
  return tlsConnect({
    ...options,
    rejectUnauthorized: spec.verifyCertificate,
    ...(isIP(spec.hostHeader) === 0 ? { servername: spec.hostHeader } : {}),
  });
}

/**
 * The default prober (ai-proxy-multi.md §7.2), on raw sockets: `tcp` succeeds when the connection opens;
 * `http`/`https` send one request with `Connection: close` and read only the status line. Each socket
 * operation is bounded by `timeoutMs` (idle time, like APISIX's connect/send/receive timeouts).
 *
 * @example
 *   await probeTarget(spec); // { kind: 'status', status: 200 } | { kind: 'timeout' } | …
 */
export const probeTarget: Prober = (spec) =>
  new Promise((resolve) => {
    const socket = openSocket(spec);
    let received = Buffer.alloc(0);
    const finish = (result: ProbeResult): void => {
      socket.removeAllListeners();
      socket.on('error', () => {});
      socket.destroy();
      resolve(result);
    };
    socket.once('timeout', () => finish({ kind: 'timeout' }));
    socket.once('error', (error: NodeJS.ErrnoException) =>
      finish({ kind: 'tcp-failure', reason: error.code ?? error.message }),
    );
    socket.once(spec.type === 'https' ? 'secureConnect' : 'connect', () => {
      if (spec.type === 'tcp') finish({ kind: 'connected' });
      else socket.write(probeRequest(spec));
    });
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n');
      if (end === -1 && received.length < MAX_STATUS_LINE_BYTES) return;
      const match = STATUS_LINE.exec(received.subarray(0, end === -1 ? received.length : end).toString('latin1'));
      finish(match === null ? { kind: 'bad-status-line' } : { kind: 'status', status: Number(match[1]) });
    });
    socket.once('end', () =>
      finish(received.length === 0 ? { kind: 'tcp-failure', reason: 'closed' } : { kind: 'bad-status-line' }),
    );
  });
