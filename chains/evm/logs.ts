import { type Address, formatLog, type Hex, type Log, numberToHex, type RpcLog, toEventSelector } from 'viem'
import type { ChainClient } from './client.js'
import { ChainReadError, RpcUnavailableError, toChainError } from './errors.js'

/** Parameters of {@link getLogsChunked}. Defaults in {@link defaultGetLogsOptions}. */
export type GetLogsChunkedParameters = {
  /** Emitting contract(s). */
  address?: Address | readonly Address[]
  /** Topic filter, as in eth_getLogs: position i matches topic i; an array means "any of"; null means any. */
  topics?: readonly (Hex | readonly Hex[] | null)[]
  /** First block, inclusive. */
  fromBlock: bigint
  /** Last block, inclusive. */
  toBlock: bigint
  /** Blocks per eth_getLogs at first; halved whenever the RPC refuses a range. @default 10_000n */
  chunkSize?: bigint
  /** Smallest range tried before giving up. @default 1n */
  minChunkSize?: bigint
  /** Called after each range with the logs it returned. */
  onChunk?: (range: { fromBlock: bigint; toBlock: bigint }, logs: Log[]) => void
  signal?: AbortSignal
}

/** Parameters of {@link getRpcLogsChunked}: as {@link GetLogsChunkedParameters}, logs left as the RPC sent them. */
export type GetRpcLogsChunkedParameters = Omit<GetLogsChunkedParameters, 'onChunk'> & {
  onChunk?: (range: { fromBlock: bigint; toBlock: bigint }, logs: RpcLog[]) => void
}

export const defaultGetLogsOptions = { chunkSize: 10_000n, minChunkSize: 1n } as const

/** The RPC refused every range size down to `minChunkSize`. */
export class LogRangeRefusedError extends ChainReadError {
  override name = 'LogRangeRefusedError'
  constructor(params: { chainId: number; fromBlock: bigint; toBlock: bigint; cause: unknown }) {
    super(`eth_getLogs refused blocks ${params.fromBlock}–${params.toBlock} even at the smallest range.`, {
      chainId: params.chainId,
      cause: params.cause,
      metaMessages: ['The RPC may not serve logs this old, or limits results per call; try another URL.'],
    })
  }
}

/**
 * Fetches logs over `[fromBlock, toBlock]` in ranges of `chunkSize` blocks, in order.
 * When the RPC refuses a range (result limit, range limit, timeout answered as an error),
 * the range is halved and retried, and later ranges keep the smaller size; after four
 * ranges in a row succeed the size doubles again, up to `chunkSize`.
 *
 * @returns the logs in block order, formatted by viem (blockNumber, logIndex as bigint/number).
 * @throws RpcUnavailableError when no URL answers; LogRangeRefusedError when even the
 *   smallest range is refused.
 */
export async function getLogsChunked(client: ChainClient, params: GetLogsChunkedParameters): Promise<Log[]> {
  const { onChunk, ...rest } = params
  const raw = await getRpcLogsChunked(client, {
    ...rest,
    onChunk: onChunk ? (range, logs) => onChunk(range, logs.map((l) => formatLog(l))) : undefined,
  })
  return raw.map((l) => formatLog(l))
}

/**
 * {@link getLogsChunked} without viem's log formatting (hex quantities stay hex): for hot paths
 * that only read topics, e.g. discovering thousands of borrowers.
 * @throws RpcUnavailableError, LogRangeRefusedError
 */
export async function getRpcLogsChunked(client: ChainClient, params: GetRpcLogsChunkedParameters): Promise<RpcLog[]> {
  const maxSize = params.chunkSize ?? defaultGetLogsOptions.chunkSize
  const minSize = params.minChunkSize ?? defaultGetLogsOptions.minChunkSize
  if (maxSize < 1n) throw new ChainReadError('getLogsChunked: chunkSize must be ≥ 1.')
  const out: RpcLog[] = []
  let size = maxSize
  let streak = 0
  let from = params.fromBlock
  while (from <= params.toBlock) {
    params.signal?.throwIfAborted()
    const to = from + size - 1n < params.toBlock ? from + size - 1n : params.toBlock
    let raw: RpcLog[]
    try {
      raw = (await client.request({
        method: 'eth_getLogs',
        params: [
          {
            address: params.address as Address | Address[] | undefined,
            topics: params.topics as never,
            fromBlock: numberToHex(from),
            toBlock: numberToHex(to),
          },
        ],
      })) as RpcLog[]
    } catch (err) {
      if (err instanceof RpcUnavailableError) throw err
      const span = to - from + 1n
      if (span <= minSize) {
        throw new LogRangeRefusedError({
          chainId: client.liqnet.chainId,
          fromBlock: from,
          toBlock: to,
          cause: toChainError(err, { chainId: client.liqnet.chainId, what: 'eth_getLogs' }),
        })
      }
      size = span / 2n > minSize ? span / 2n : minSize
      streak = 0
      continue
    }
    for (const l of raw) out.push(l)
    params.onChunk?.({ fromBlock: from, toBlock: to }, raw)
    from = to + 1n
    if (size < maxSize && ++streak >= 4) {
      size = size * 2n < maxSize ? size * 2n : maxSize
      streak = 0
    }
  }
  return out
}

/** The address in an indexed `address` topic (the low 20 bytes), lowercased. */
export function topicToAddress(topic: Hex): Address {
  return `0x${topic.slice(26)}` as Address
}

/**
 * The topic0 of event `name` in `abi`, and the topic index (1-based) of its indexed input `param`.
 * @throws ChainReadError when the ABI lacks the event or the input is not indexed.
 */
export function eventTopic(abi: readonly unknown[], name: string, param?: string): { topic0: Hex; topicIndex: number } {
  const ev = (abi as readonly { type: string; name?: string; inputs?: readonly { name: string; indexed?: boolean }[] }[]).find(
    (x) => x.type === 'event' && x.name === name,
  )
  if (!ev) throw new ChainReadError(`The ABI lacks event ${name}.`)
  const topic0 = toEventSelector(ev as never)
  if (param === undefined) return { topic0, topicIndex: 0 }
  let k = 0
  for (const input of ev.inputs ?? []) {
    if (!input.indexed) continue
    k++
    if (input.name === param) return { topic0, topicIndex: k }
  }
  throw new ChainReadError(`Event ${name} has no indexed input ${param}.`)
}

/**
 * The address in the indexed topic that `events` names for a log's event (lowercase), or
 * undefined when the log is none of `events`. `events` come from {@link eventTopic}.
 */
export function addressOfLog(events: readonly { topic0: Hex; topicIndex: number }[], log: { topics: readonly (Hex | undefined)[] }): Address | undefined {
  const t0 = log.topics[0]
  for (const e of events) {
    if (e.topic0 === t0) {
      const topic = log.topics[e.topicIndex]
      return topic ? topicToAddress(topic) : undefined
    }
  }
  return undefined
}
