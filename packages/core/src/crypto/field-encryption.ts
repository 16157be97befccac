/** STUB (helper core-schemas replaces it): APISIX data_encryption (admin-api.md §3.7). */
export interface FieldCipher {
  encrypt(plaintext: string): string;
  /** Tries each keyring entry in order; returns undefined when none decrypts. */
  decrypt(ciphertext: string): string | undefined;
}

export function createFieldCipher(_keyring: readonly string[]): FieldCipher | undefined {
  throw new Error('createFieldCipher: not implemented yet');
}
