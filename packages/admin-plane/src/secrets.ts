import {
  createFieldCipher,
  type DataEncryptionConfig,
  decryptResourceSecrets,
  encryptResourceSecrets,
  type ResourceKind,
} from '@switchboard/core';
import type { FastifyBaseLogger } from 'fastify';

export type StoredObject = Record<string, unknown>;

/** Encrypts and decrypts plugin `encrypt_fields` of one resource value (admin-api.md §3.7). */
export interface ResourceSecrets {
  encrypt(kind: ResourceKind, value: StoredObject): StoredObject;
  decrypt(kind: ResourceKind, value: StoredObject): StoredObject;
}

const PLAINTEXT: ResourceSecrets = { encrypt: (_kind, value) => value, decrypt: (_kind, value) => value };

/**
 * Binds the configured keyring once. Switchboard encrypts with the embedded store too (APISIX only
 * with etcd), so moving the data between stores never changes what is at rest.
 * @example createResourceSecrets({ enable_encrypt_fields: true, keyring: ['qeddd145sfvddff3'] }, app.log)
 */
export function createResourceSecrets(config: DataEncryptionConfig, logger: FastifyBaseLogger): ResourceSecrets {
  if (!config.enable_encrypt_fields) return PLAINTEXT;
  const cipher = createFieldCipher(config.keyring);
  if (cipher === undefined) return PLAINTEXT;
  return {
    encrypt: (kind, value) => encryptResourceSecrets(kind, value, cipher),
    // §3.7: a value that does not decrypt is returned as stored, and the failure is logged.
    decrypt: (kind, value) =>
      decryptResourceSecrets(kind, value, cipher, (failure) =>
        logger.warn(
          { kind, plugin: failure.plugin, field: failure.location },
          'failed to decrypt a plugin secret field',
        ),
      ),
  };
}
