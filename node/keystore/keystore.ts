/**
 * The operator key at rest: an encrypted Web3 Secret Storage (v3) keystore, written and read with
 * `@ethereumjs/wallet` (scrypt KDF, AES-128-CTR, keccak256 MAC), the format geth and every Ethereum
 * wallet reads.
 *
 * KDF strengths (scrypt N, r, p):
 * - `standard`: 2^18, 8, 1 (geth's StandardScryptN: ~1 s and 256 MiB per unlock);
 * - `light`: 2^12, 8, 6 (geth's LightScryptN);
 * - `insecure-test`: 2^10, 8, 1, for tests and throwaway devnets only.
 */
import { constants } from 'node:fs'
import { mkdir, open, readFile, rename, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { Wallet } from '@ethereumjs/wallet'
import { bytesToHex, getAddress, type Address } from 'viem'
import { generatePrivateKey } from 'viem/accounts'
import { BaseError } from '../../protocol/errors.js'
import { createOperatorSigner, type OperatorSigner } from '../../protocol/signing/envelope.js'

export type KdfStrength = 'standard' | 'light' | 'insecure-test'

export const kdfParams: { [K in KdfStrength]: { n: number; r: number; p: number } } = {
  standard: { n: 262_144, r: 8, p: 1 },
  light: { n: 4096, r: 8, p: 6 },
  'insecure-test': { n: 1024, r: 8, p: 1 },
}

/** A v3 keystore as JSON (with the customary `address` field, lower-case hex without 0x). */
export type KeystoreV3 = {
  version: 3
  id: string
  address?: string
  crypto: {
    cipher: string
    cipherparams: { iv: string }
    ciphertext: string
    kdf: string
    kdfparams: Record<string, unknown>
    mac: string
  }
}

// ---------------------------------------------------------------- errors

export type WrongPasswordErrorType = WrongPasswordError
export class WrongPasswordError extends BaseError {
  override name = 'WrongPasswordError'
  constructor(path: string) {
    super(`Wrong password for the keystore ${path}: check --password-file or LIQNET_KEYSTORE_PASSWORD.`)
  }
}

export type KeystoreExistsErrorType = KeystoreExistsError
export class KeystoreExistsError extends BaseError {
  override name = 'KeystoreExistsError'
  constructor(path: string) {
    super(`A keystore already exists at ${path}; pass --force to replace it (the old key is then lost unless backed up).`)
  }
}

export type KeystoreReadErrorType = KeystoreReadError
export class KeystoreReadError extends BaseError {
  override name = 'KeystoreReadError'
  constructor(path: string, reason: string, cause?: unknown) {
    super(`Cannot read the keystore ${path}: ${reason}.`, { cause, metaMessages: ['Run `liqnet init` to create one, or point operator.keystore at a Web3 Secret Storage v3 file.'] })
  }
}

// ---------------------------------------------------------------- encrypt / decrypt

/** A new random operator key (32 bytes, a valid secp256k1 scalar). */
export function generateOperatorKey(): Uint8Array {
  return Uint8Array.from(Buffer.from(generatePrivateKey().slice(2), 'hex'))
}

/** Encrypts a private key into a v3 keystore. */
export async function encryptKeystore(privateKey: Uint8Array, password: string, opts: { kdf?: KdfStrength } = {}): Promise<KeystoreV3> {
  const wallet = Wallet.fromPrivateKey(privateKey)
  return (await wallet.toV3(password, { kdf: 'scrypt', ...kdfParams[opts.kdf ?? 'standard'] })) as unknown as KeystoreV3
}

/**
 * Decrypts a v3 keystore (scrypt or pbkdf2).
 * @param path only for messages.
 * @throws WrongPasswordError (MAC mismatch), KeystoreReadError (not a v3 keystore)
 */
export async function decryptKeystore(keystore: string | KeystoreV3, password: string, path = 'keystore'): Promise<Uint8Array> {
  let json: KeystoreV3
  try {
    json = typeof keystore === 'string' ? JSON.parse(keystore) : keystore
  } catch (err) {
    throw new KeystoreReadError(path, 'not JSON', err)
  }
  if (typeof json !== 'object' || json === null || json.version !== 3 || typeof json.crypto !== 'object')
    throw new KeystoreReadError(path, 'not a version 3 keystore')
  try {
    const wallet = await Wallet.fromV3(json as never, password, true)
    return wallet.getPrivateKey()
  } catch (err) {
    if (/passphrase/i.test((err as Error).message)) throw new WrongPasswordError(path)
    throw new KeystoreReadError(path, (err as Error).message, err)
  }
}

/** The address a keystore says it holds (its `address` field), if any; not authenticated until decrypted. */
export function keystoreAddress(keystore: KeystoreV3): Address | undefined {
  return typeof keystore.address === 'string' && /^(0x)?[0-9a-fA-F]{40}$/.test(keystore.address)
    ? getAddress(keystore.address.startsWith('0x') ? keystore.address : `0x${keystore.address}`)
    : undefined
}

// ---------------------------------------------------------------- files

/**
 * Writes a keystore file (mode 0600). Without `force`, fails if the file exists (checked atomically
 * with O_EXCL); with `force`, replaces it atomically (write to a temp file, then rename).
 * @throws KeystoreExistsError
 */
export async function writeKeystoreFile(path: string, keystore: KeystoreV3, opts: { force?: boolean } = {}): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  const text = JSON.stringify(keystore, null, 2) + '\n'
  if (opts.force) {
    const tmp = `${path}.tmp-${process.pid}`
    await writeFile(tmp, text, { mode: 0o600 })
    await rename(tmp, path)
    return
  }
  let fh
  try {
    fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new KeystoreExistsError(path)
    throw err
  }
  try {
    await fh.writeFile(text)
    await fh.sync()
  } finally {
    await fh.close()
  }
}

/** Reads a keystore file without decrypting it. @throws KeystoreReadError */
export async function readKeystoreFile(path: string): Promise<KeystoreV3> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw new KeystoreReadError(path, (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String((err as Error).message), err)
  }
  try {
    return JSON.parse(text) as KeystoreV3
  } catch (err) {
    throw new KeystoreReadError(path, 'not JSON', err)
  }
}

/**
 * Unlocks the operator key: reads and decrypts the keystore, and checks the expected address when given.
 * @throws KeystoreReadError, WrongPasswordError, KeystoreAddressMismatchError
 */
export async function unlockOperatorKey(path: string, password: string, opts: { expectedAddress?: Address } = {}): Promise<OperatorSigner> {
  const privateKey = await decryptKeystore(await readKeystoreFile(path), password, path)
  const signer = createOperatorSigner(privateKey)
  if (opts.expectedAddress && signer.address.toLowerCase() !== opts.expectedAddress.toLowerCase()) throw new KeystoreAddressMismatchError(path, opts.expectedAddress, signer.address)
  return signer
}

export type KeystoreAddressMismatchErrorType = KeystoreAddressMismatchError
export class KeystoreAddressMismatchError extends BaseError {
  override name = 'KeystoreAddressMismatchError'
  constructor(path: string, expected: Address, actual: Address) {
    super(`The keystore ${path} holds ${getAddress(actual)}, not operator.address ${getAddress(expected)}.`, {
      metaMessages: ['Point operator.keystore at the right file, or fix operator.address.'],
    })
  }
}

/** Hex of a private key (for tests and devnet tooling only; never log it). */
export const privateKeyHex = (k: Uint8Array) => bytesToHex(k)
