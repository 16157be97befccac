import { SwitchboardError } from '@switchboard/core';

/** Which cap a stream hit (ai-proxy-multi.md §1.1, §6.3 step 9). */
export type StreamLimit = 'max_response_bytes' | 'max_stream_duration_ms';

/** The attempt's error for a cap: 502 `max_response_bytes exceeded` / 504 `max_stream_duration_ms exceeded`. */
export function streamLimitError(limit: StreamLimit): SwitchboardError {
  return limit === 'max_response_bytes'
    ? new SwitchboardError('SB_ERR_RESPONSE_TOO_LARGE', 'max_response_bytes exceeded')
    : new SwitchboardError('SB_ERR_STREAM_TOO_LONG', 'max_stream_duration_ms exceeded');
}

/**
 * `max_response_bytes` and `max_stream_duration_ms` over one stream. Bytes are checked before a chunk is
 * forwarded, so nothing past the cap reaches the client; duration is checked then too, and a timer cuts
 * a silent upstream at the cap (APISIX only checks when a chunk arrives).
 *
 * @example
 *   const caps = new StreamCaps({ maxResponseBytes: 2048, maxStreamDurationMs: undefined }, elapsedMs, () => body.destroy());
 *   caps.admit(chunk.length); // undefined while under the caps
 */
export class StreamCaps {
  /** The cap that ended the stream, once one did. */
  hit: StreamLimit | undefined;
  /** Upstream body bytes seen so far, the rejected chunk included. */
  received = 0;
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly limits: {
      readonly maxResponseBytes: number | undefined;
      readonly maxStreamDurationMs: number | undefined;
    },
    private readonly elapsedMs: () => number,
    onDurationTimeout: () => void,
  ) {
    const maxDuration = limits.maxStreamDurationMs;
    this.timer =
      maxDuration === undefined
        ? undefined
        : setTimeout(
            () => {
              this.hit ??= 'max_stream_duration_ms';
              onDurationTimeout();
            },
            Math.max(maxDuration - elapsedMs(), 0),
          );
  }

  /** Counts a chunk; the cap it breaks, if any (then it must not be forwarded). */
  admit(bytes: number): StreamLimit | undefined {
    this.received += bytes;
    const { maxResponseBytes, maxStreamDurationMs } = this.limits;
    if (maxResponseBytes !== undefined && this.received > maxResponseBytes) this.hit ??= 'max_response_bytes';
    else if (maxStreamDurationMs !== undefined && this.elapsedMs() >= maxStreamDurationMs)
      this.hit ??= 'max_stream_duration_ms';
    return this.hit;
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}
