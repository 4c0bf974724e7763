/**
 * The validator set: sorting, quorum and the leader rule.
 */
import type { Address } from 'viem'
import { MAX_VALIDATORS } from './constants.js'
import { QbftConfigError } from './errors.js'

/** f = floor((n-1)/3), the number of Byzantine validators tolerated out of n. */
export function maxFaulty(n: number): number {
  return Math.floor((n - 1) / 3)
}

/** The quorum 2f+1 with f = floor((n-1)/3) (DESIGN.md). Any two quorums intersect in ≥ f+1 validators when n ≥ 3f+1. */
export function quorumSize(n: number): number {
  return 2 * maxFaulty(n) + 1
}

/** A validator set sorted by ascending address (lowercase hex), with an index by address. */
export type ValidatorSet = {
  readonly list: readonly Address[]
  readonly index: ReadonlyMap<string, number>
  readonly n: number
  readonly f: number
  readonly quorum: number
}

const ADDRESS_RE = /^0x[0-9a-fA-F]{40}$/

/**
 * Normalises and sorts a validator list.
 * @throws QbftConfigError on an empty list, a malformed or duplicate address, or more than MAX_VALIDATORS entries.
 */
export function createValidatorSet(validators: readonly string[]): ValidatorSet {
  if (validators.length === 0) throw new QbftConfigError('validators', 'must not be empty')
  if (validators.length > MAX_VALIDATORS) throw new QbftConfigError('validators', `at most ${MAX_VALIDATORS} validators`)
  const list = validators.map((v, i) => {
    if (typeof v !== 'string' || !ADDRESS_RE.test(v)) throw new QbftConfigError(`validators[${i}]`, 'must be a 20-byte 0x-hex address')
    return v.toLowerCase() as Address
  })
  list.sort()
  const index = new Map<string, number>()
  list.forEach((a, i) => {
    if (index.has(a)) throw new QbftConfigError('validators', `duplicate address ${a}`)
    index.set(a, i)
  })
  const n = list.length
  return { list, index, n, f: maxFaulty(n), quorum: quorumSize(n) }
}

/** leader(height, round) = sorted[(height + round) mod n]. */
export function leaderOf(set: ValidatorSet, height: bigint, round: number): Address {
  return set.list[Number((height + BigInt(round)) % BigInt(set.n))]
}
