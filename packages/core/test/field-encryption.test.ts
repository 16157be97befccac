import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createFieldCipher,
  decryptResourceSecrets,
  encryptResourceSecrets,
  type SecretFieldFailure,
} from '../src/crypto/field-encryption.js';
import { isSwitchboardError } from '../src/errors.js';

const DEFAULT_KEYRING = ['qeddd145sfvddff3', 'edd1c9f0985e76a2'];

/** admin-api.md §3.7, verified with openssl. */
const VECTORS = [
  ['auth-one', '4y+JvURBE6ZwRbbgaryrhg=='],
  ['the-key', 'JCX7x1qN5e9kHt0GuJfWpw=='],
  ['new-key', '523EisB/dvqlIT9RzfF3ZQ=='],
  ['the-password', 'WvF5kpaLvIzjuk4GNIMTJg=='],
] as const;

function cipherFor(keyring: readonly string[]) {
  const cipher = createFieldCipher(keyring);
  assert.ok(cipher);
  return cipher;
}

describe('createFieldCipher', () => {
  const cipher = cipherFor(DEFAULT_KEYRING);

  for (const [plaintext, ciphertext] of VECTORS) {
    it(`${plaintext} ⇄ ${ciphertext}`, () => {
      assert.equal(cipher.encrypt(plaintext), ciphertext);
      assert.equal(cipher.decrypt(ciphertext), plaintext);
    });
  }

  it('decrypts with any keyring entry, encrypts with the first', () => {
    const rotated = cipherFor(['0123456789abcdef', 'qeddd145sfvddff3']);
    assert.equal(rotated.decrypt('4y+JvURBE6ZwRbbgaryrhg=='), 'auth-one');
    assert.notEqual(rotated.encrypt('auth-one'), '4y+JvURBE6ZwRbbgaryrhg==');
  });

  it('uses AES-256 with a 32-byte key', () => {
    const wide = cipherFor(['0123456789abcdef0123456789abcdef']);
    const ciphertext = wide.encrypt('sk-secret');
    assert.notEqual(ciphertext, cipher.encrypt('sk-secret'));
    assert.equal(wide.decrypt(ciphertext), 'sk-secret');
  });

  it('returns undefined for plain text and foreign ciphertext', () => {
    assert.equal(cipher.decrypt('auth-one'), undefined);
    assert.equal(cipher.decrypt('not base64!'), undefined);
    assert.equal(cipher.decrypt(''), undefined);
    assert.equal(cipherFor(['0123456789abcdef']).decrypt('4y+JvURBE6ZwRbbgaryrhg=='), undefined);
  });

  it('is absent with an empty keyring and refuses keys of other lengths', () => {
    assert.equal(createFieldCipher([]), undefined);
    assert.throws(
      () => createFieldCipher(['short']),
      (error) => isSwitchboardError(error, 'SB_ERR_CONFIG_INVALID'),
    );
  });
});

describe('encryptResourceSecrets / decryptResourceSecrets', () => {
  const cipher = cipherFor(DEFAULT_KEYRING);

  it('38: encrypts the key-auth key of a consumer (consumer encrypt fields)', () => {
    const consumer = { username: 'jack', plugins: { 'key-auth': { key: 'auth-one' } } };
    const encrypted = encryptResourceSecrets('consumers', consumer, cipher);
    assert.deepEqual(encrypted, { username: 'jack', plugins: { 'key-auth': { key: '4y+JvURBE6ZwRbbgaryrhg==' } } });
    assert.equal(consumer.plugins['key-auth'].key, 'auth-one', 'input untouched');
    assert.deepEqual(decryptResourceSecrets('consumers', encrypted, cipher), consumer);
  });

  it('leaves key-auth on a route alone (its route schema has no secret)', () => {
    const route = { uri: '/i', plugins: { 'key-auth': { header: 'apikey' } } };
    assert.deepEqual(encryptResourceSecrets('routes', route, cipher), route);
  });

  it('walks instances[] and encrypts maps of strings (ai-proxy-multi)', () => {
    const route = {
      uri: '/v1/chat/completions',
      plugins: {
        'ai-proxy-multi': {
          instances: [
            { name: 'a', provider: 'openai', weight: 1, auth: { header: { Authorization: 'the-key' } } },
            {
              name: 'b',
              provider: 'bedrock',
              weight: 1,
              auth: { aws: { access_key_id: 'AKIA', secret_access_key: 'the-password' } },
            },
          ],
        },
      },
    };
    const encrypted = encryptResourceSecrets('routes', route, cipher);
    const [a, b] = encrypted.plugins['ai-proxy-multi'].instances;
    assert.equal(a?.auth.header?.Authorization, 'JCX7x1qN5e9kHt0GuJfWpw==');
    assert.equal(b?.auth.aws?.access_key_id, 'AKIA', 'only the listed paths');
    assert.equal(b?.auth.aws?.secret_access_key, 'WvF5kpaLvIzjuk4GNIMTJg==');
    assert.deepEqual(decryptResourceSecrets('routes', encrypted, cipher), route);
  });

  it('reports values that do not decrypt and leaves them as they are', () => {
    const failures: SecretFieldFailure[] = [];
    const credential = { plugins: { 'key-auth': { key: 'plain-text' } } };
    assert.deepEqual(
      decryptResourceSecrets('credentials', credential, cipher, (failure) => failures.push(failure)),
      credential,
    );
    assert.deepEqual(failures, [{ plugin: 'key-auth', location: 'key' }]);
  });

  it('is the identity without a cipher', () => {
    const consumer = { username: 'jack', plugins: { 'key-auth': { key: 'auth-one' } } };
    assert.deepEqual(encryptResourceSecrets('consumers', consumer, undefined), consumer);
  });
});
