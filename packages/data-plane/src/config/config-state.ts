import { type ConfigListener, createFieldCipher, type DataEncryptionConfig } from '@switchboard/core';
import { createResourceCollections } from './resource-collections.js';
import { createRuntimeBuilder, type RuntimeBuilderOptions } from './runtime-builder.js';
import type { RuntimeConfig } from './runtime-config.js';

export interface ConfigStateOptions extends RuntimeBuilderOptions {
  readonly dataEncryption: DataEncryptionConfig;
  /** After each applied batch: the revision now served and whether a full load has happened. */
  readonly onApplied?: (event: { readonly revision: number; readonly fullyLoaded: boolean }) => void;
}

/** A worker's view of the config store: fed by a ConfigSource, read by the request pipeline. */
export interface ConfigState {
  /** Give this to `ConfigSource.start`. */
  readonly listener: ConfigListener;
  /** The config version requests use; replaced (never mutated) after each applied batch. */
  current(): RuntimeConfig;
  /** Highest store revision applied. */
  revision(): number;
  /** True once the first full snapshot was applied (admin-api.md §5.7 readiness). */
  fullyLoaded(): boolean;
  /** Disposes every prepared plugin. */
  close(): void;
}

/**
 * Applies snapshots and change batches into the per-kind collections, then rebuilds the runtime
 * (router, auth index, prepared plugins) once per batch, never per request (admin-api.md §5.3).
 * Until the first snapshot the runtime is empty, so every request is a 404 (§5.7).
 *
 * @example
 *   const state = createConfigState(options);
 *   source.start('/apisix', state.listener);
 */
export function createConfigState(options: ConfigStateOptions): ConfigState {
  const { logger } = options;
  const cipher = options.dataEncryption.enable_encrypt_fields
    ? createFieldCipher(options.dataEncryption.keyring)
    : undefined;
  const collections = createResourceCollections({
    prefix: options.prefix,
    logger,
    loadDeps: (key) => ({
      cipher,
      onDecryptFailure: (failure) =>
        logger.warn(
          { key, plugin: failure.plugin, field: failure.location },
          'failed to decrypt a secret field; used as stored',
        ),
    }),
  });
  const builder = createRuntimeBuilder(options);
  let runtime = builder.build(collections.view(), 0);
  let revision = 0;
  let loaded = false;

  function rebuild(): void {
    try {
      runtime = builder.build(collections.view(), revision);
    } catch (error) {
      // Never take the worker down for a config it cannot build: the previous version keeps serving.
      logger.error({ err: error, revision }, 'failed to build the runtime config; the previous one keeps serving');
    }
  }

  function applied(): void {
    options.onApplied?.({ revision, fullyLoaded: loaded });
  }

  return {
    listener: {
      onSnapshot(items, snapshotRevision) {
        const changed = collections.applySnapshot(items, snapshotRevision);
        revision = snapshotRevision;
        if (changed || !loaded) rebuild();
        loaded = true;
        applied();
      },
      onChanges(events, changesRevision) {
        const changed = collections.applyChanges(events);
        revision = Math.max(revision, changesRevision);
        if (changed) rebuild();
        applied();
      },
      onError(error) {
        logger.warn({ err: error }, 'config source error; serving the last applied config');
      },
    },
    current: () => runtime,
    revision: () => revision,
    fullyLoaded: () => loaded,
    close: () => builder.dispose(),
  };
}
