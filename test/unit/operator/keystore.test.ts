import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { privateKeyToAddress } from 'viem/accounts'
import {
  KeystoreAddressMismatchError,
  KeystoreExistsError,
  KeystoreReadError,
  PasswordError,
  WrongPasswordError,
  decryptKeystore,
  encryptKeystore,
  generateOperatorKey,
  keystoreAddress,
  readKeystoreFile,
  resolvePassword,
  unlockOperatorKey,
  writeKeystoreFile,
} from '../../../node/keystore/index.js'
import { TEST_KEYS } from '../gossip/fixtures.js'

describe('operator keystore', () => {
  let dir: string
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'liqnet-keystore-'))))
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('round-trips a key through a Web3 Secret Storage v3 keystore (scrypt) and file', async () => {
    const key = Uint8Array.from(Buffer.from(TEST_KEYS[3].slice(2), 'hex'))
    const ks = await encryptKeystore(key, 'correct horse', { kdf: 'insecure-test' })
    assert.equal(ks.version, 3)
    assert.equal(ks.crypto.kdf, 'scrypt')
    assert.equal(ks.crypto.kdfparams.n, 1024)
    assert.equal(keystoreAddress(ks), privateKeyToAddress(TEST_KEYS[3]))
    assert.deepEqual(await decryptKeystore(ks, 'correct horse'), key)
    const path = join(dir, 'keystore.json')
    await writeKeystoreFile(path, ks)
    assert.equal(statSync(path).mode & 0o777, 0o600)
    const signer = await unlockOperatorKey(path, 'correct horse', { expectedAddress: privateKeyToAddress(TEST_KEYS[3]) })
    assert.equal(signer.address.toLowerCase(), privateKeyToAddress(TEST_KEYS[3]).toLowerCase())
  })

  it('refuses a wrong password with a one-line WrongPasswordError', async () => {
    const path = join(dir, 'keystore.json')
    await writeKeystoreFile(path, await encryptKeystore(generateOperatorKey(), 'right', { kdf: 'insecure-test' }))
    await assert.rejects(unlockOperatorKey(path, 'wrong'), (e: unknown) => e instanceof WrongPasswordError && e.message === `Wrong password for the keystore ${path}: check --password-file or LIQNET_KEYSTORE_PASSWORD.`)
  })

  it('never overwrites a keystore without force; with force replaces it', async () => {
    const path = join(dir, 'keystore.json')
    await writeKeystoreFile(path, await encryptKeystore(generateOperatorKey(), 'a', { kdf: 'insecure-test' }))
    const before = readFileSync(path, 'utf8')
    await assert.rejects(writeKeystoreFile(path, await encryptKeystore(generateOperatorKey(), 'b', { kdf: 'insecure-test' })), KeystoreExistsError)
    assert.equal(readFileSync(path, 'utf8'), before)
    await writeKeystoreFile(path, await encryptKeystore(generateOperatorKey(), 'b', { kdf: 'insecure-test' }), { force: true })
    assert.notEqual(readFileSync(path, 'utf8'), before)
    await unlockOperatorKey(path, 'b')
  })

  it('names missing, malformed and mismatched keystores', async () => {
    await assert.rejects(readKeystoreFile(join(dir, 'none.json')), (e: unknown) => e instanceof KeystoreReadError && /no such file/.test(e.shortMessage))
    writeFileSync(join(dir, 'bad.json'), '{"version": 1}')
    await assert.rejects(unlockOperatorKey(join(dir, 'bad.json'), 'x'), (e: unknown) => e instanceof KeystoreReadError && /version 3/.test(e.shortMessage))
    const path = join(dir, 'k.json')
    await writeKeystoreFile(path, await encryptKeystore(generateOperatorKey(), 'p', { kdf: 'insecure-test' }))
    await assert.rejects(unlockOperatorKey(path, 'p', { expectedAddress: privateKeyToAddress(TEST_KEYS[0]) }), KeystoreAddressMismatchError)
  })

  it('takes the password from the file, then LIQNET_KEYSTORE_PASSWORD, then the prompt', async () => {
    const pf = join(dir, 'pw')
    writeFileSync(pf, 's3cret\n')
    assert.equal(await resolvePassword({ passwordFile: pf, env: { LIQNET_KEYSTORE_PASSWORD: 'env' } }), 's3cret')
    assert.equal(await resolvePassword({ env: { LIQNET_KEYSTORE_PASSWORD: 'env' } }), 'env')
    const asked: string[] = []
    const prompt = async (q: string) => (asked.push(q), 'typed')
    assert.equal(await resolvePassword({ env: {}, prompt }, { confirm: true }), 'typed')
    assert.equal(asked.length, 2)
    let n = 0
    await assert.rejects(resolvePassword({ prompt: async () => String(n++) }, { confirm: true }), (e: unknown) => e instanceof PasswordError && /differ/.test(e.shortMessage))
    await assert.rejects(resolvePassword({ prompt: false }), (e: unknown) => e instanceof PasswordError && /no terminal/.test(e.shortMessage))
    await assert.rejects(resolvePassword({ passwordFile: join(dir, 'nope') }), (e: unknown) => e instanceof PasswordError && /ENOENT/.test(e.shortMessage))
    await assert.rejects(resolvePassword({ env: { LIQNET_KEYSTORE_PASSWORD: '' } }, { confirm: true }), (e: unknown) => e instanceof PasswordError && /empty/.test(e.shortMessage))
  })
})
