/**
 * One server-sent event as bytes on the wire (WHATWG HTML §9.2): an `event:` line unless the type is
 * the default `message`, one `data:` line per line of data, a blank line.
 *
 * @example
 *   encodeSseEvent('message_stop', '{"type":"message_stop"}'); // 'event: message_stop\ndata: {"type":"message_stop"}\n\n'
 */
export function encodeSseEvent(type: string, data: string): string {
  const lines = data.includes('\n') ? data.split('\n') : [data];
  let encoded = type === 'message' ? '' : `event: ${type}\n`;
  for (const line of lines) encoded += `data: ${line}\n`;
  return `${encoded}\n`;
}

/** A JSON payload as an SSE event. */
export function encodeSseJson(type: string, payload: unknown): string {
  return encodeSseEvent(type, JSON.stringify(payload));
}
