/**
 * Executor options (type 3) with `@layerzerolabs/lz-v2-utilities`' `Options` builder: the gas (and native value)
 * the executor gives `lzReceive` on the destination chain.
 */
import { Options } from '@layerzerolabs/lz-v2-utilities'
import { isHex, type Hex } from 'viem'
import { InvalidOptionsError } from './errors.js'

/** What the executor passes to `lzReceive`: gas limit and msg.value (wei). */
export type LzReceiveOption = { gas: bigint; value: bigint }

const UINT128_MAX = (1n << 128n) - 1n

/**
 * Type-3 options with one executor lzReceive option: `Options.newOptions().addExecutorLzReceiveOption(gas, value).toHex()`.
 * @param gas lzReceive gas limit on the destination, > 0 and < 2^128.
 * @param value msg.value of lzReceive, wei (default 0).
 * @throws InvalidOptionsError for a gas or value out of range.
 * @example lzReceiveOptions(300_000n) // '0x000301001101000000000000000000000000000493e0'
 */
export function lzReceiveOptions(gas: bigint, value = 0n): Hex {
  if (gas <= 0n || gas > UINT128_MAX) throw new InvalidOptionsError(`gas ${gas} out of range (1 .. 2^128-1)`)
  if (value < 0n || value > UINT128_MAX) throw new InvalidOptionsError(`value ${value} out of range (0 .. 2^128-1)`)
  return Options.newOptions().addExecutorLzReceiveOption(gas, value).toHex() as Hex
}

/**
 * The executor lzReceive option of `options` (several are summed, as the executor does), or undefined when there
 * is none (empty options: the OApp relies on enforced options, or the default of the send library).
 * @throws InvalidOptionsError when `options` is not hex or not type-3 options.
 */
export function decodeLzReceiveOption(options: Hex): LzReceiveOption | undefined {
  if (!isHex(options, { strict: true })) throw new InvalidOptionsError('not hex bytes')
  if (options === '0x') return undefined
  if (!options.startsWith('0x0003')) throw new InvalidOptionsError(`type ${options.slice(2, 6)}, only type 3 is supported`)
  try {
    const o = Options.fromOptions(options).decodeExecutorLzReceiveOption()
    return o === undefined ? undefined : { gas: o.gas, value: o.value }
  } catch (err) {
    throw new InvalidOptionsError('undecodable type-3 options', { cause: err })
  }
}
