import { SwitchboardError } from '@switchboard/core';

/**
 * A quota operation on Redis that did not complete: Redis unreachable, not connected within the
 * connect timeout, no answer within the command timeout, or a reply error (READONLY on a replica).
 * The operation may or may not have reached Redis, so the caller treats the reservation as not made
 * and decides by `allow_degradation` (APISIX answers 500 `failed to limit count` without it).
 */
export class QuotaStoreUnavailableError extends SwitchboardError {
  override readonly name = 'QuotaStoreUnavailableError';

  constructor(store: string, reason: string, options?: { cause?: unknown }) {
    super('SB_ERR_QUOTA_STORE_UNAVAILABLE', `quota counters unavailable (${store}): ${reason}`, options);
  }
}
