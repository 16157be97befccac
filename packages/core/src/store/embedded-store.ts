import type { ConfigSource, ConfigStore } from './contract.js';

export interface EmbeddedStore extends ConfigStore, ConfigSource {}

/**
 * STUB (helper store replaces it): an etcd-like revisioned store persisted under `dataDir`, for the
 * `traditional` role without etcd. Implements both the admin and the data-plane side of the contract.
 */
export async function createEmbeddedStore(_options: { readonly dataDir: string }): Promise<EmbeddedStore> {
  throw new Error('createEmbeddedStore: not implemented yet');
}
