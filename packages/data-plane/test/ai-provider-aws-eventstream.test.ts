import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import {
  createEventStreamDecoder,
  EventStreamDecodeError,
  type EventStreamHeaderValue,
  type EventStreamMessage,
  encodeEventStreamMessage,
  eventStreamHeaderString,
} from '../src/upstream/aws-eventstream.js';

/**
 * AWS EventStream decoding (ai-proxy-multi.md §6.3: Bedrock ConverseStream framing). The frames here are
 * built byte by byte from the format's definition (prelude: total length, headers length, prelude CRC32;
 * headers; payload; message CRC32), independently of the module's own encoder.
 */

function stringHeader(name: string, value: string): Buffer {
  const nameBytes = Buffer.from(name);
  const valueBytes = Buffer.from(value);
  const header = Buffer.alloc(1 + nameBytes.length + 1 + 2 + valueBytes.length);
  header.writeUInt8(nameBytes.length, 0);
  nameBytes.copy(header, 1);
  header.writeUInt8(7, 1 + nameBytes.length);
  header.writeUInt16BE(valueBytes.length, 2 + nameBytes.length);
  valueBytes.copy(header, 4 + nameBytes.length);
  return header;
}

function frame(headers: readonly Buffer[], payload: string): Buffer {
  const headerBlock = Buffer.concat(headers);
  const payloadBytes = Buffer.from(payload);
  const total = 12 + headerBlock.length + payloadBytes.length + 4;
  const bytes = Buffer.alloc(total);
  bytes.writeUInt32BE(total, 0);
  bytes.writeUInt32BE(headerBlock.length, 4);
  bytes.writeUInt32BE(crc32(bytes.subarray(0, 8)), 8);
  headerBlock.copy(bytes, 12);
  payloadBytes.copy(bytes, 12 + headerBlock.length);
  bytes.writeUInt32BE(crc32(bytes.subarray(0, total - 4)), total - 4);
  return bytes;
}

/** A ConverseStream event frame as Bedrock sends it. */
function converseEvent(eventType: string, payload: object): Buffer {
  return frame(
    [
      stringHeader(':event-type', eventType),
      stringHeader(':content-type', 'application/json'),
      stringHeader(':message-type', 'event'),
    ],
    JSON.stringify(payload),
  );
}

const DELTA = converseEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Hello' }, p: 'abcdef' });
const STOP = converseEvent('messageStop', { stopReason: 'end_turn', p: 'ab' });
const METADATA = converseEvent('metadata', {
  usage: { inputTokens: 12, outputTokens: 6, totalTokens: 18 },
  metrics: { latencyMs: 100 },
});

function summary(message: EventStreamMessage | undefined) {
  assert.ok(message);
  return {
    eventType: eventStreamHeaderString(message, ':event-type'),
    messageType: eventStreamHeaderString(message, ':message-type'),
    payload: JSON.parse(message.payload.toString()) as unknown,
  };
}

describe('EventStream decoder', () => {
  it('decodes a ConverseStream event frame: headers by name, payload bytes', () => {
    const decoder = createEventStreamDecoder();
    const [message, ...rest] = decoder.push(DELTA);
    assert.deepEqual(rest, []);
    assert.deepEqual(summary(message), {
      eventType: 'contentBlockDelta',
      messageType: 'event',
      payload: { contentBlockIndex: 0, delta: { text: 'Hello' }, p: 'abcdef' },
    });
    assert.equal(message?.headers.get(':content-type')?.value, 'application/json');
    assert.equal(decoder.bufferedBytes, 0);
    decoder.end();
  });

  it('reassembles a message split at every byte, and only then returns it', () => {
    const decoder = createEventStreamDecoder();
    const decoded: EventStreamMessage[] = [];
    for (let index = 0; index < METADATA.length; index++) {
      decoded.push(...decoder.push(METADATA.subarray(index, index + 1)));
      if (index < METADATA.length - 1) assert.equal(decoded.length, 0, `nothing before the last byte (at ${index})`);
    }
    assert.equal(decoded.length, 1);
    assert.equal(summary(decoded[0]).eventType, 'metadata');
    decoder.end();
  });

  it('returns every message of a chunk holding several, keeping a partial tail for the next chunk', () => {
    const decoder = createEventStreamDecoder();
    const joined = Buffer.concat([DELTA, METADATA, STOP]);
    const cut = DELTA.length + METADATA.length + 5;
    const first = decoder.push(joined.subarray(0, cut));
    assert.deepEqual(
      first.map((message) => summary(message).eventType),
      ['contentBlockDelta', 'metadata'],
    );
    assert.equal(decoder.bufferedBytes, 5);
    const second = decoder.push(joined.subarray(cut));
    assert.deepEqual(
      second.map((message) => summary(message).eventType),
      ['messageStop'],
    );
    decoder.end();
  });

  it('decodes a frame with no headers and an empty payload (16 bytes)', () => {
    const [message] = createEventStreamDecoder().push(frame([], ''));
    assert.equal(message?.headers.size, 0);
    assert.equal(message?.payload.length, 0);
  });

  const corruptions: { name: string; corrupt: (bytes: Buffer) => Buffer; message: RegExp }[] = [
    {
      name: 'a payload byte flipped → message CRC mismatch',
      corrupt: (bytes) => {
        const copy = Buffer.from(bytes);
        copy[copy.length - 6] = (copy[copy.length - 6] ?? 0) ^ 0xff;
        return copy;
      },
      message: /message CRC mismatch/,
    },
    {
      name: 'the headers length changed → prelude CRC mismatch',
      corrupt: (bytes) => {
        const copy = Buffer.from(bytes);
        copy.writeUInt32BE(copy.readUInt32BE(4) + 1, 4);
        return copy;
      },
      message: /prelude CRC mismatch/,
    },
    {
      name: 'a total length below the minimum → prelude CRC checked first',
      corrupt: (bytes) => {
        const copy = Buffer.from(bytes);
        copy.writeUInt32BE(3, 0);
        return copy;
      },
      message: /prelude CRC mismatch/,
    },
  ];
  for (const { name, corrupt, message } of corruptions) {
    it(`rejects ${name}`, () => {
      assert.throws(
        () => createEventStreamDecoder().push(corrupt(DELTA)),
        (error: unknown) => error instanceof EventStreamDecodeError && message.test(error.message),
      );
    });
  }

  it('rejects a message longer than the cap before buffering it', () => {
    const decoder = createEventStreamDecoder({ maxMessageBytes: 32 });
    assert.throws(() => decoder.push(DELTA), /message length \d+ is out of range/);
  });

  it('rejects a header value that runs past the header block', () => {
    const header = stringHeader(':event-type', 'messageStop');
    header.writeUInt16BE(500, header.length - 'messageStop'.length - 2);
    assert.throws(() => createEventStreamDecoder().push(frame([header], '{}')), EventStreamDecodeError);
  });

  it('reports a stream that ends inside a message', () => {
    const decoder = createEventStreamDecoder();
    decoder.push(STOP.subarray(0, 20));
    assert.throws(() => decoder.end(), /stream ended inside a message \(20 bytes\)/);
  });
});

describe('EventStream encoder', () => {
  it('produces the bytes of the hand-built frame', () => {
    const encoded = encodeEventStreamMessage({
      headers: new Map<string, EventStreamHeaderValue>([
        [':event-type', { type: 'string', value: 'messageStop' }],
        [':content-type', { type: 'string', value: 'application/json' }],
        [':message-type', { type: 'string', value: 'event' }],
      ]),
      payload: Buffer.from(JSON.stringify({ stopReason: 'end_turn', p: 'ab' })),
    });
    assert.deepEqual(encoded, STOP);
  });

  it('round-trips every header value type', () => {
    const headers = new Map<string, EventStreamHeaderValue>([
      ['true', { type: 'boolean', value: true }],
      ['false', { type: 'boolean', value: false }],
      ['byte', { type: 'byte', value: -5 }],
      ['short', { type: 'short', value: -1234 }],
      ['integer', { type: 'integer', value: 123456789 }],
      ['long', { type: 'long', value: -(2n ** 40n) }],
      ['bytes', { type: 'bytes', value: Buffer.from([0, 1, 2, 255]) }],
      ['string', { type: 'string', value: 'héllo' }],
      ['timestamp', { type: 'timestamp', value: new Date(1_700_000_000_123) }],
      ['uuid', { type: 'uuid', value: '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0' }],
    ]);
    const [decoded] = createEventStreamDecoder().push(encodeEventStreamMessage({ headers, payload: Buffer.from('x') }));
    assert.deepEqual(decoded?.headers, headers);
    assert.equal(decoded?.payload.toString(), 'x');
  });
});
