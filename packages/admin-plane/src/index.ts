export { ADMIN_ERRORS, type AdminErrorCode } from './errors.js';
export { type AdminServerOptions, createAdminServer } from './server.js';
export { createEtcdStore, type EtcdStoreOptions } from './store/etcd-store.js';
