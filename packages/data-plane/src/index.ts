export { createEtcdConfigSource, type EtcdConfigSourceOptions } from './config-source/etcd-source.js';
export { createRuntimePluginRegistry, type RegisteredPlugin, type RuntimePluginRegistry } from './plugins/registry.js';
export type {
  AttachedConsumer,
  ConsumerDirectory,
  DispatcherRegistry,
  PhaseResult,
  PrepareScope,
  RequestContext,
  RuntimePlugin,
} from './plugins/runtime-plugin.js';
export { type DataPlane, type StartDataPlaneOptions, startDataPlane } from './process/start-data-plane.js';
export type {
  RedisClusterConnection,
  RedisQuotaConnection,
  RedisSentinelConnection,
  RedisStandaloneConnection,
} from './quota/redis-quota-connection.js';
export { QuotaStoreUnavailableError } from './quota/redis-quota-store-error.js';
export {
  createRedisQuotaStores,
  type RedisQuotaStores,
  type RedisQuotaStoresOptions,
} from './quota/redis-quota-stores.js';
export { createProxyServer, type ProxyServer, type ProxyServerOptions } from './server/proxy-server.js';
