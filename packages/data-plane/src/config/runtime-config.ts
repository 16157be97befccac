import type { ChainPlugin, PluginChain } from '../plugins/plugin-chain.js';
import type { AttachedConsumer } from '../plugins/runtime-plugin.js';
import type { HostUriRouter } from '../router/host-uri-router.js';
import type { RouteFilter } from '../router/route-filters.js';
import type { UpstreamTarget } from '../server/upstream-target.js';
import type { ConsumerIndex } from './consumer-index.js';
import type { EffectiveRoute } from './service-merge.js';

/** Why a matched route cannot be proxied; answered as `{"error_msg": message}`. */
export interface RouteFailure {
  readonly status: number;
  readonly message: string;
}

/** Everything a request needs about its route, built once per config change. */
export interface RouteRuntime {
  readonly route: EffectiveRoute;
  readonly filter: RouteFilter;
  readonly chain: PluginChain;
  /** undefined: no upstream configured (the 503 of admin-api.md §6.6 step 5 unless a plugin answers). */
  readonly upstream: UpstreamTarget | RouteFailure | undefined;
}

/** A route's plugins with a consumer's merged in (admin-api.md §6.6 step 4.2). */
export interface ConsumerMergedChain {
  /** Route plugins not replaced by the consumer's, plus the consumer's, in priority order. */
  readonly plugins: readonly ChainPlugin[];
  /** Plugins new from the consumer, not auth, that run their rewrite phase after the route's. */
  readonly rewriteAfterAuth: readonly ChainPlugin[];
  /** A consumer plugin whose prepare threw: requests as this consumer fail closed. */
  readonly failedPlugin: string | undefined;
}

/** One immutable config version: swapped atomically, so a request sees one version throughout. */
export interface RuntimeConfig {
  /** The store revision this version reflects. */
  readonly revision: number;
  readonly router: HostUriRouter<RouteRuntime>;
  readonly consumers: ConsumerIndex;
  /** Merged once per (route, consumer) pair and cached for the life of this version. */
  consumerChain(route: RouteRuntime, consumer: AttachedConsumer): ConsumerMergedChain;
}
