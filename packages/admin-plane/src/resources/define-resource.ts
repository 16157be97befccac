import type { ResourceKind } from '@switchboard/core';
import type { AdminContext } from '../admin-context.js';
import type { StoredObject } from '../secrets.js';

/**
 * An admin resource is a descriptor over one generic CRUD (STYLE §6): what differs between routes,
 * services, upstreams, consumers and credentials is declared here, and `crud/` runs the same
 * pipeline for all of them (admin-api.md §2.3).
 */
export type AdminMethod = 'GET' | 'PUT' | 'POST' | 'DELETE' | 'PATCH';

/** Where a request points: `/routes/1` → id `1`; `/consumers/jack/credentials/c1` → parent `jack`, id `c1`. */
export interface ResourceAddress {
  readonly id: string | undefined;
  readonly parent: string | undefined;
  readonly subPath: string | undefined;
}

/** What the write checks see: the checked (defaulted) value and the id the write resolved to. */
export interface WriteCheck {
  readonly ctx: AdminContext;
  readonly value: StoredObject;
  readonly address: ResourceAddress;
  readonly id: string;
}

export interface ResourceDescriptor {
  /** URL segment, etcd directory and core checker kind: `routes`. */
  readonly name: ResourceKind;
  /** Singular, as in messages: `missing route id`, ``not supported `POST` method for consumer``. */
  readonly kind: string;
  /**
   * `id`: the URL or body `id` names the item and is stored in it (§2.2).
   * `username`: the body's `username` names it and no id is stored (consumers, §3.1).
   */
  readonly identity: 'id' | 'username';
  readonly unsupportedMethods: readonly AdminMethod[];
  /** Fields the list `filter=` argument may compare (§1.8). */
  readonly listFilterFields: readonly string[];
  /** The etcd directory below the prefix: `routes`, `consumers/jack/credentials`. */
  directory(address: ResourceAddress): string;
  /** Store-dependent checks between the shape and plugin halves (§2.3 step 5.5, §3.2 step 2). */
  checkAfterShape(check: WriteCheck): Promise<void>;
  /** Checks after the plugins (duplicate keys §3.6, `group_id` §3.2). */
  checkAfterPlugins(check: WriteCheck): Promise<void>;
  /** Runs after encryption, right before the write (credentials: the consumer must exist, §3.3 step 8). */
  beforeStore(ctx: AdminContext, address: ResourceAddress): Promise<void>;
  /** Runs before a list is read (credentials: 404 when the consumer does not exist). */
  beforeList(ctx: AdminContext, address: ResourceAddress): Promise<void>;
  /** DELETE without `?force=true`: refuses while something still uses the item (§4). */
  checkDeletable(ctx: AdminContext, id: string): Promise<void>;
  /** Removes what belongs to the item before the item itself (a consumer's credentials, §3.1). */
  deleteDependents(ctx: AdminContext, address: ResourceAddress, id: string): Promise<void>;
}

export type ResourceDefinition = Pick<ResourceDescriptor, 'name' | 'kind'> &
  Partial<Omit<ResourceDescriptor, 'name' | 'kind'>>;

const nothingToCheck = async (): Promise<void> => {};

/**
 * Fills the defaults (an `id` resource in its own directory, every method, no extra checks).
 * @example defineResource({ name: 'upstreams', kind: 'upstream', checkDeletable: refuseWhileUsed })
 */
export function defineResource(definition: ResourceDefinition): ResourceDescriptor {
  return Object.freeze({
    identity: 'id',
    unsupportedMethods: [],
    listFilterFields: [],
    directory: () => definition.name,
    checkAfterShape: nothingToCheck,
    checkAfterPlugins: nothingToCheck,
    beforeStore: nothingToCheck,
    beforeList: nothingToCheck,
    checkDeletable: nothingToCheck,
    deleteDependents: nothingToCheck,
    ...definition,
  });
}

/** The absolute key of one item: `<prefix>/<directory>/<id>`. */
export function keyOf(ctx: AdminContext, descriptor: ResourceDescriptor, address: ResourceAddress, id: string): string {
  return `${ctx.prefix}/${descriptor.directory(address)}/${id}`;
}
