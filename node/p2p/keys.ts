/**
 * The node's libp2p identity key, kept in a file so that a restarted node keeps its peer id.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { generateKeyPair, generateKeyPairFromSeed, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { BaseError } from '../../protocol/errors.js'

export type PeerKeyErrorType = PeerKeyError
export class PeerKeyError extends BaseError {
  override name = 'PeerKeyError'
  constructor(path: string, cause: unknown) {
    super(`Cannot read the libp2p key at ${path}.`, { cause, metaMessages: ['The file holds a protobuf-encoded libp2p private key; delete it to get a new peer id.'] })
  }
}

/** Reads the key at `path`, or creates an Ed25519 key there (mode 0600). @throws PeerKeyError */
export async function loadOrCreatePeerKey(path: string): Promise<PrivateKey> {
  let bytes: Uint8Array | undefined
  try {
    bytes = await readFile(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new PeerKeyError(path, err)
  }
  if (bytes) {
    try {
      return privateKeyFromProtobuf(bytes)
    } catch (err) {
      throw new PeerKeyError(path, err)
    }
  }
  const key = await generateKeyPair('Ed25519')
  await mkdir(dirname(path), { recursive: true })
  await writeFile(path, privateKeyToProtobuf(key), { mode: 0o600 })
  return key
}

/** A deterministic Ed25519 key from a 32-byte seed (tests and devnets only). */
export function peerKeyFromSeed(seed: Uint8Array): Promise<PrivateKey> {
  return generateKeyPairFromSeed('Ed25519', seed)
}
