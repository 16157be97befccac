import type { Consumer, Credential, Route, Service, Timeout, Upstream } from '@switchboard/core';

/**
 * The validated resources the runtime reads, as core's schemas type them (one schema per shape).
 * Runtime values are the checked, defaulted copies with `id` set from the etcd key suffix.
 */
export type RouteView = Readonly<Route>;
export type ServiceView = Readonly<Service>;
export type UpstreamView = Readonly<Upstream>;
export type UpstreamNodesView = NonNullable<Upstream['nodes']>;
export type TimeoutView = Readonly<Timeout>;
export type ConsumerView = Readonly<Consumer>;
export type CredentialView = Readonly<Credential>;
