import { createCipheriv, createDecipheriv } from 'node:crypto';
import { SwitchboardError } from '../errors.js';
import { findPlugin } from '../plugins/catalog.js';
import type { ResourceKind } from '../resources/check.js';

/**
 * APISIX `data_encryption` (admin-api.md §3.7), byte-compatible so existing etcd data keeps working:
 * AES-CBC with the key bytes as IV (the first 16 bytes for a 32-byte key), PKCS#7 padding, base64.
 */
export interface FieldCipher {
  /** Encrypts with the first keyring entry. */
  encrypt(plaintext: string): string;
  /** Tries each keyring entry in order; returns undefined when none decrypts. */
  decrypt(ciphertext: string): string | undefined;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Builds the cipher for `apisix.data_encryption.keyring`; undefined when the keyring is empty
 * (values are then stored in plain text). A key that is not 16 or 32 bytes long is a config error:
 * APISIX drops it with a log line, which can silently leave secrets unencrypted.
 *
 * @example createFieldCipher(['qeddd145sfvddff3'])?.encrypt('auth-one') // '4y+JvURBE6ZwRbbgaryrhg=='
 */
export function createFieldCipher(keyring: readonly string[]): FieldCipher | undefined {
  if (keyring.length === 0) return undefined;
  const keys = keyring.map((entry) => {
    const key = Buffer.from(entry, 'utf8');
    if (key.length !== 16 && key.length !== 32) {
      throw new SwitchboardError(
        'SB_ERR_CONFIG_INVALID',
        `apisix.data_encryption.keyring: a key must be 16 (AES-128) or 32 (AES-256) bytes long, got ${key.length}`,
      );
    }
    return { algorithm: key.length === 16 ? 'aes-128-cbc' : 'aes-256-cbc', key, iv: key.subarray(0, 16) };
  });
  const primary = keys[0];
  if (primary === undefined) return undefined;
  // A wrong key occasionally yields valid padding; rejecting non-UTF-8 output catches most of those.
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  return {
    encrypt(plaintext) {
      const cipher = createCipheriv(primary.algorithm, primary.key, primary.iv);
      return Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]).toString('base64');
    },
    decrypt(ciphertext) {
      if (ciphertext === '' || !BASE64.test(ciphertext)) return undefined;
      const data = Buffer.from(ciphertext, 'base64');
      if (data.length % 16 !== 0) return undefined;
      for (const { algorithm, key, iv } of keys) {
        try {
          const decipher = createDecipheriv(algorithm, key, iv);
          return utf8.decode(Buffer.concat([decipher.update(data), decipher.final()]));
        } catch {
          // bad padding or bytes: try the next key
        }
      }
      return undefined;
    },
  };
}

/** Where a value that could not be decrypted sits, e.g. `instances[0].auth.header.Authorization`. */
export interface SecretFieldFailure {
  readonly plugin: string;
  readonly location: string;
}

/**
 * Returns a copy of a resource with each plugin's `encryptFields` encrypted (consumers and
 * credentials use `consumerEncryptFields`, falling back to `encryptFields`). Without a cipher the
 * copy is unchanged.
 *
 * @example encryptResourceSecrets('consumers', { username: 'jack', plugins: { 'key-auth': { key: 'auth-one' } } }, cipher)
 * // → plugins['key-auth'].key === '4y+JvURBE6ZwRbbgaryrhg=='
 */
export function encryptResourceSecrets<T>(kind: ResourceKind, value: T, cipher: FieldCipher | undefined): T {
  return transformSecrets(kind, value, cipher === undefined ? undefined : (text) => cipher.encrypt(text));
}

/**
 * Returns a copy with the encrypted fields decrypted. A value that does not decrypt (plain text
 * stored before encryption was on, or a rotated-out key) is left as is and reported via onFailure.
 */
export function decryptResourceSecrets<T>(
  kind: ResourceKind,
  value: T,
  cipher: FieldCipher | undefined,
  onFailure?: (failure: SecretFieldFailure) => void,
): T {
  return transformSecrets(
    kind,
    value,
    cipher === undefined
      ? undefined
      : (text, plugin, location) => {
          const plaintext = cipher.decrypt(text);
          if (plaintext === undefined) onFailure?.({ plugin, location });
          return plaintext ?? text;
        },
  );
}

type Transform = (text: string, plugin: string, location: string) => string;

function transformSecrets<T>(kind: ResourceKind, value: T, transform: Transform | undefined): T {
  const copy = structuredClone(value);
  if (transform === undefined || !isObject(copy) || !isObject(copy.plugins)) return copy;
  const consumerSide = kind === 'consumers' || kind === 'credentials';
  for (const [name, conf] of Object.entries(copy.plugins)) {
    const plugin = findPlugin(name);
    const fields = consumerSide ? (plugin?.consumerEncryptFields ?? plugin?.encryptFields) : plugin?.encryptFields;
    if (fields === undefined || !isObject(conf)) continue;
    for (const field of fields) {
      transformPath(conf, field.split('.'), '', (text, location) => transform(text, name, location));
    }
  }
  return copy;
}

/** Walks a dotted path, traversing arrays at intermediate nodes; a leaf is a string, string[] or string map. */
function transformPath(
  node: Record<string, unknown>,
  segments: readonly string[],
  location: string,
  transform: (text: string, location: string) => string,
): void {
  const [head, ...rest] = segments;
  if (head === undefined || !Object.hasOwn(node, head)) return;
  const child = node[head];
  const here = location === '' ? head : `${location}.${head}`;
  if (rest.length > 0) {
    if (Array.isArray(child)) {
      child.forEach((item, index) => {
        if (isObject(item)) transformPath(item, rest, `${here}[${index}]`, transform);
      });
    } else if (isObject(child)) {
      transformPath(child, rest, here, transform);
    }
    return;
  }
  if (typeof child === 'string') {
    node[head] = transform(child, here);
  } else if (Array.isArray(child)) {
    child.forEach((item, index) => {
      if (typeof item === 'string') child[index] = transform(item, `${here}[${index}]`);
    });
  } else if (isObject(child)) {
    for (const [key, item] of Object.entries(child)) {
      if (typeof item === 'string') child[key] = transform(item, `${here}.${key}`);
    }
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
