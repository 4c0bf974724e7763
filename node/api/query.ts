/**
 * Query-string schemas of the risk-feed API (zod). Unknown parameters are refused, so a typo is a
 * 400 rather than a silently ignored filter.
 */
import { z } from 'zod'
import type { Address, Hex } from 'viem'
import type { FeedKind } from './signing.js'

const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'expected a non-negative integer')
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`))
const chainId = int(1, Number.MAX_SAFE_INTEGER)
const bytes32 = z
  .string()
  .regex(/^0x[0-9a-fA-F]{64}$/, 'expected a 32-byte 0x-hex market id')
  .transform((s) => s.toLowerCase() as Hex)
const address = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, 'expected a 20-byte 0x-hex address')
  .transform((s) => s as Address)
const bool = z.enum(['true', 'false'], 'expected true or false').transform((v) => v === 'true')
const protocol = z.enum(['morpho-blue', 'aave-v3'], 'expected morpho-blue or aave-v3')
const venue = z.enum(['uniswap-v2'], 'expected uniswap-v2')

export const feedKinds: readonly FeedKind[] = ['account', 'liquidity', 'plan']

export function accountsQuerySchema(maxPageSize: number) {
  return z
    .object({
      chainId: chainId.optional(),
      protocol: protocol.optional(),
      market: bytes32.optional(),
      borrower: address.optional(),
      liquidatable: bool.optional(),
      limit: int(1, maxPageSize).default(Math.min(100, maxPageSize)),
      offset: int(0, Number.MAX_SAFE_INTEGER).default(0),
    })
    .strict()
}

export function liquidityQuerySchema(maxPageSize: number) {
  return z
    .object({
      chainId: chainId.optional(),
      venue: venue.optional(),
      pair: address.optional(),
      limit: int(1, maxPageSize).default(Math.min(100, maxPageSize)),
      offset: int(0, Number.MAX_SAFE_INTEGER).default(0),
    })
    .strict()
}

export function plansQuerySchema(maxPageSize: number) {
  return z
    .object({
      limit: int(1, Math.min(maxPageSize, 1000)).default(20),
      before: z.string().regex(/^\d+$/, 'expected a height (non-negative integer)').transform(BigInt).optional(),
    })
    .strict()
}

export const planHeightSchema = z.object({ height: z.string().regex(/^\d+$/, 'expected a height (non-negative integer)').transform(BigInt) }).strict()

export const streamQuerySchema = z
  .object({
    chainId: chainId.optional(),
    protocol: protocol.optional(),
    market: bytes32.optional(),
    pair: address.optional(),
    kinds: z
      .string()
      .transform((s) => s.split(',').map((k) => k.trim()).filter(Boolean))
      .pipe(z.array(z.enum(feedKinds as [FeedKind, ...FeedKind[]], 'expected a comma-separated list of account, liquidity, plan')).min(1, 'give at least one kind'))
      .optional(),
  })
  .strict()

export type StreamFilter = z.output<typeof streamQuerySchema>

/** One problem of a request, for the 400 body. */
export type QueryIssue = { path: string; message: string }

export function queryIssues(err: z.ZodError): QueryIssue[] {
  return err.issues.map((i) =>
    i.code === 'unrecognized_keys' ? { path: i.keys.join(','), message: 'unknown parameter' } : { path: i.path.join('.'), message: i.message },
  )
}
