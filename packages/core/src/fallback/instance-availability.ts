/**
 * The `rate_limiting` fallback strategy's question to ai-rate-limiting (ai-proxy-multi.md §2.7, §9.1):
 * may this request still use that instance? A dry run: it consumes nothing. `Request` is whatever the
 * plane's per-request context is (the check reads the ai-rate-limiting conf attached to the request).
 *
 * The token-quota work fills this in; until then every instance is available.
 */
export interface InstanceAvailability<Request> {
  isAvailable(request: Request, instanceName: string): boolean;
}

/** The default: no ai-rate-limiting, so every instance is available. */
export const ALWAYS_AVAILABLE: InstanceAvailability<unknown> = { isAvailable: () => true };
