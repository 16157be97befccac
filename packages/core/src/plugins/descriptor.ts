import type { TSchema } from '@sinclair/typebox';

/**
 * What the control side knows about a plugin: its identity, order and schemas. Runtime behaviour
 * (phases) lives in the data plane, keyed by `name`; the Admin API only needs this descriptor.
 */
export interface PluginDescriptor {
  readonly name: string;
  /** Higher runs first within a phase (APISIX priorities, admin-api.md §6.7). */
  readonly priority: number;
  /** `auth` plugins identify consumers and are the only ones allowed on credentials. */
  readonly type: 'auth' | 'other';
  /** Schema for the plugin on a route or service. */
  readonly schema: TSchema;
  /** Schema on a consumer or credential; falls back to `schema`. */
  readonly consumerSchema?: TSchema;
  /** Dotted paths encrypted at rest (admin-api.md §3.7); arrays are traversed. */
  readonly encryptFields?: readonly string[];
  readonly consumerEncryptFields?: readonly string[];
  /** The attribute that must be unique across consumers and credentials (key-auth → `key`). */
  readonly uniqueAttribute?: string;
  /** Cross-field rules the schema cannot express; returns the error message, or undefined when fine. */
  readonly check?: (conf: unknown) => string | undefined;
}
