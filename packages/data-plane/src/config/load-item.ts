import { checkResource, decryptResourceSecrets, type FieldCipher, type SecretFieldFailure } from '@switchboard/core';
import type { ResourceKey } from './resource-key.js';

/** One validated, decrypted and defaulted resource as the runtime uses it. */
export interface LoadedItem {
  readonly key: string;
  readonly modRevision: number;
  readonly value: Readonly<Record<string, unknown>>;
}

export type LoadItemResult =
  | { readonly outcome: 'loaded'; readonly item: LoadedItem; readonly skippedPlugins: readonly string[] }
  /** Not a JSON object (directory placeholders hold `init_dir`): ignored silently (admin-api.md §5.1). */
  | { readonly outcome: 'ignored' }
  | { readonly outcome: 'invalid'; readonly message: string };

export interface LoadItemDeps {
  /** Undefined when `data_encryption.enable_encrypt_fields` is off or the keyring is empty. */
  readonly cipher: FieldCipher | undefined;
  /** A secret field that no keyring entry decrypts is left as it is and reported (admin-api.md §3.7). */
  readonly onDecryptFailure: (failure: SecretFieldFailure) => void;
}

/**
 * Turns one stored value into a runtime item: parse, decrypt secret fields, re-validate with the
 * admin's checker in data-plane mode (unknown plugins skipped, defaults injected; admin-api.md §5.6),
 * then overwrite `id` with the key suffix as APISIX does after validation (§5.3).
 */
export function loadItem(
  resource: ResourceKey,
  stored: { readonly key: string; readonly value: string; readonly modRevision: number },
  deps: LoadItemDeps,
): LoadItemResult {
  const parsed = parseJsonObject(stored.value);
  if (parsed === undefined) return { outcome: 'ignored' };
  const decrypted =
    deps.cipher === undefined
      ? parsed
      : decryptResourceSecrets(resource.kind, parsed, deps.cipher, deps.onDecryptFailure);
  const checked = checkResource(resource.kind, decrypted, { mode: 'data-plane' });
  if (!checked.ok) return { outcome: 'invalid', message: checked.message };
  const value = { ...checked.value, id: resource.id };
  return {
    outcome: 'loaded',
    item: { key: stored.key, modRevision: stored.modRevision, value },
    skippedPlugins: checked.skippedPlugins,
  };
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
    ? (parsed as Record<string, unknown>)
    : undefined;
}
