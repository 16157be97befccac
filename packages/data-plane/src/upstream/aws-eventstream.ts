import { crc32 } from 'node:zlib';

/**
 * AWS EventStream framing (`application/vnd.amazon.eventstream`), the binary framing of Bedrock's
 * ConverseStream answers (ai-proxy-multi.md §6.3). One message:
 *
 *   total length u32 | headers length u32 | prelude CRC32 u32 | headers | payload | message CRC32 u32
 *
 * big-endian; the prelude CRC covers the first 8 bytes, the message CRC everything before it. A header
 * is `name length u8 | name | type u8 | value`, the value's layout set by the type.
 */

/** A header value, by wire type: booleans, integers (int64 as bigint), bytes, strings, timestamps, UUIDs. */
export type EventStreamHeaderValue =
  | { readonly type: 'boolean'; readonly value: boolean }
  | { readonly type: 'byte' | 'short' | 'integer'; readonly value: number }
  | { readonly type: 'long'; readonly value: bigint }
  | { readonly type: 'bytes'; readonly value: Buffer }
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'timestamp'; readonly value: Date }
  | { readonly type: 'uuid'; readonly value: string };

export interface EventStreamMessage {
  readonly headers: ReadonlyMap<string, EventStreamHeaderValue>;
  readonly payload: Buffer;
}

/** A frame that cannot be decoded; the stream cannot be resynchronised after one. */
export class EventStreamDecodeError extends Error {
  override readonly name = 'EventStreamDecodeError';
}

const PRELUDE_BYTES = 12;
const CRC_BYTES = 4;
const MIN_MESSAGE_BYTES = PRELUDE_BYTES + CRC_BYTES;
/** AWS caps a message at 16 MiB (payload) plus headers; anything bigger is a framing error. */
const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024 + 128 * 1024;

/** The `:event-type`, `:message-type` … header as a string, when it is one. */
export function eventStreamHeaderString(message: EventStreamMessage, name: string): string | undefined {
  const header = message.headers.get(name);
  return header?.type === 'string' ? header.value : undefined;
}

function readHeaderValue(buffer: Buffer, offset: number, type: number): [EventStreamHeaderValue, number] {
  switch (type) {
    case 0:
      return [{ type: 'boolean', value: true }, offset];
    case 1:
      return [{ type: 'boolean', value: false }, offset];
    case 2:
      return [{ type: 'byte', value: buffer.readInt8(offset) }, offset + 1];
    case 3:
      return [{ type: 'short', value: buffer.readInt16BE(offset) }, offset + 2];
    case 4:
      return [{ type: 'integer', value: buffer.readInt32BE(offset) }, offset + 4];
    case 5:
      return [{ type: 'long', value: buffer.readBigInt64BE(offset) }, offset + 8];
    case 6:
    case 7: {
      const length = buffer.readUInt16BE(offset);
      const start = offset + 2;
      if (start + length > buffer.length) throw new EventStreamDecodeError('header value runs past the headers');
      const bytes = buffer.subarray(start, start + length);
      const value: EventStreamHeaderValue =
        type === 6 ? { type: 'bytes', value: Buffer.from(bytes) } : { type: 'string', value: bytes.toString('utf8') };
      return [value, start + length];
    }
    case 8:
      return [{ type: 'timestamp', value: new Date(Number(buffer.readBigInt64BE(offset))) }, offset + 8];
    case 9: {
      const hex = buffer.subarray(offset, offset + 16).toString('hex');
      if (hex.length !== 32) throw new EventStreamDecodeError('header value runs past the headers');
      const uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
      return [{ type: 'uuid', value: uuid }, offset + 16];
    }
    default:
      throw new EventStreamDecodeError(`unknown header value type ${type}`);
  }
}

function decodeHeaders(block: Buffer): Map<string, EventStreamHeaderValue> {
  const headers = new Map<string, EventStreamHeaderValue>();
  let offset = 0;
  try {
    while (offset < block.length) {
      const nameLength = block.readUInt8(offset);
      const name = block.subarray(offset + 1, offset + 1 + nameLength).toString('utf8');
      offset += 1 + nameLength;
      const [value, next] = readHeaderValue(block, offset + 1, block.readUInt8(offset));
      headers.set(name, value);
      offset = next;
    }
  } catch (error) {
    if (error instanceof EventStreamDecodeError) throw error;
    throw new EventStreamDecodeError('header block is truncated', { cause: error });
  }
  if (offset !== block.length) throw new EventStreamDecodeError('header value runs past the headers');
  return headers;
}

/** Decodes one complete message (`frame` is exactly total-length bytes). */
function decodeMessage(frame: Buffer): EventStreamMessage {
  const headersLength = frame.readUInt32BE(4);
  if (frame.readUInt32BE(8) !== crc32(frame.subarray(0, 8))) throw new EventStreamDecodeError('prelude CRC mismatch');
  const messageCrcAt = frame.length - CRC_BYTES;
  if (frame.readUInt32BE(messageCrcAt) !== crc32(frame.subarray(0, messageCrcAt)))
    throw new EventStreamDecodeError('message CRC mismatch');
  if (PRELUDE_BYTES + headersLength > messageCrcAt)
    throw new EventStreamDecodeError(`headers length ${headersLength} exceeds the message`);
  const headersEnd = PRELUDE_BYTES + headersLength;
  return {
    headers: decodeHeaders(frame.subarray(PRELUDE_BYTES, headersEnd)),
    payload: Buffer.from(frame.subarray(headersEnd, messageCrcAt)),
  };
}

export interface EventStreamDecoder {
  /** Feeds bytes as they arrive; returns every message they complete (possibly none). Throws EventStreamDecodeError. */
  push(chunk: Buffer): EventStreamMessage[];
  /** At end of stream: throws EventStreamDecodeError when a partial message is left over. */
  end(): void;
  /** Bytes held waiting for the rest of a message. */
  readonly bufferedBytes: number;
}

/**
 * A streaming decoder: messages may be split across chunks or several may share one. It keeps only the
 * bytes of the message in progress, and checks both CRCs of every message.
 *
 * @example
 *   const decoder = createEventStreamDecoder();
 *   for await (const chunk of response.body) for (const message of decoder.push(chunk)) handle(message);
 *   decoder.end();
 */
export function createEventStreamDecoder(options: { readonly maxMessageBytes?: number } = {}): EventStreamDecoder {
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  let pending: Buffer = Buffer.alloc(0);

  return {
    push(chunk) {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      const messages: EventStreamMessage[] = [];
      while (pending.length >= PRELUDE_BYTES) {
        const totalLength = pending.readUInt32BE(0);
        if (totalLength < MIN_MESSAGE_BYTES || totalLength > maxMessageBytes) {
          // Check the prelude first: a corrupt length should be reported as corruption.
          if (pending.readUInt32BE(8) !== crc32(pending.subarray(0, 8)))
            throw new EventStreamDecodeError('prelude CRC mismatch');
          throw new EventStreamDecodeError(`message length ${totalLength} is out of range`);
        }
        if (pending.length < totalLength) break;
        messages.push(decodeMessage(pending.subarray(0, totalLength)));
        pending = pending.subarray(totalLength);
      }
      return messages;
    },
    end() {
      if (pending.length > 0)
        throw new EventStreamDecodeError(`stream ended inside a message (${pending.length} bytes)`);
    },
    get bufferedBytes() {
      return pending.length;
    },
  };
}

function encodeHeader(name: string, header: EventStreamHeaderValue): Buffer {
  const nameBytes = Buffer.from(name, 'utf8');
  let value: Buffer;
  let type: number;
  switch (header.type) {
    case 'boolean':
      [type, value] = [header.value ? 0 : 1, Buffer.alloc(0)];
      break;
    case 'byte':
      [type, value] = [2, Buffer.from([header.value & 0xff])];
      break;
    case 'short':
      [type, value] = [3, Buffer.alloc(2)];
      value.writeInt16BE(header.value);
      break;
    case 'integer':
      [type, value] = [4, Buffer.alloc(4)];
      value.writeInt32BE(header.value);
      break;
    case 'long':
      [type, value] = [5, Buffer.alloc(8)];
      value.writeBigInt64BE(header.value);
      break;
    case 'bytes':
    case 'string': {
      const bytes = header.type === 'bytes' ? header.value : Buffer.from(header.value, 'utf8');
      [type, value] = [header.type === 'bytes' ? 6 : 7, Buffer.alloc(2 + bytes.length)];
      value.writeUInt16BE(bytes.length);
      bytes.copy(value, 2);
      break;
    }
    case 'timestamp':
      [type, value] = [8, Buffer.alloc(8)];
      value.writeBigInt64BE(BigInt(header.value.getTime()));
      break;
    case 'uuid':
      [type, value] = [9, Buffer.from(header.value.replace(/-/g, ''), 'hex')];
      break;
  }
  return Buffer.concat([Buffer.from([nameBytes.length]), nameBytes, Buffer.from([type]), value]);
}

/**
 * Encodes one message, for mock upstreams and tests (the gateway only decodes).
 *
 * @example
 *   encodeEventStreamMessage({ headers: new Map([[':event-type', { type: 'string', value: 'messageStop' }]]), payload: Buffer.from('{}') });
 */
export function encodeEventStreamMessage(message: EventStreamMessage): Buffer {
  const headers = Buffer.concat([...message.headers].map(([name, value]) => encodeHeader(name, value)));
  const totalLength = PRELUDE_BYTES + headers.length + message.payload.length + CRC_BYTES;
  const frame = Buffer.alloc(totalLength);
  frame.writeUInt32BE(totalLength, 0);
  frame.writeUInt32BE(headers.length, 4);
  frame.writeUInt32BE(crc32(frame.subarray(0, 8)), 8);
  headers.copy(frame, PRELUDE_BYTES);
  message.payload.copy(frame, PRELUDE_BYTES + headers.length);
  frame.writeUInt32BE(crc32(frame.subarray(0, totalLength - CRC_BYTES)), totalLength - CRC_BYTES);
  return frame;
}
