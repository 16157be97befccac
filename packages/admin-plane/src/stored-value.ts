import type { StoredItem } from '@switchboard/core';
import type { StoredObject } from './secrets.js';

export function isPlainObject(value: unknown): value is StoredObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The stored JSON object of an item, or undefined for anything else: directory placeholders
 * (`init_dir`) and other non-object values are ignored by readers (admin-api.md §5.1).
 */
export function parseStoredObject(item: StoredItem): StoredObject | undefined {
  try {
    const value: unknown = JSON.parse(item.value);
    return isPlainObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** One v3 item: the etcd wrapper stripped to key, value and revisions (admin-api.md §1.7). */
export interface V3Item {
  readonly key: string;
  readonly value: StoredObject;
  readonly createdIndex: number;
  readonly modifiedIndex: number;
}

export function toV3Item(item: StoredItem, value: StoredObject): V3Item {
  return { key: item.key, value, createdIndex: item.createRevision, modifiedIndex: item.modRevision };
}
