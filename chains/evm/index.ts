/**
 * EVM chain access on viem: a fallback-transport client with retries and backoff
 * (`createChainClient`), Multicall3 batching under eth_call gas caps (`multicall`,
 * `multicallRaw`, `readContracts`), chunked getLogs with adaptive range halving
 * (`getLogsChunked`), a block follower over WebSocket with polling fallback
 * (`createBlockFollower`), and revert decoding into liqnet errors (`decodeRevert`, `toChainError`).
 *
 * Wiring a follower to the protocol trackers (each re-reads only what the new blocks touched):
 * @example
 * const client = createChainClient({ chainId, rpcUrls, wsUrls })
 * const morpho = new MorphoTracker(client, { morpho: address, markets })
 * await morpho.init()
 * const follower = createBlockFollower(client)
 * follower.addEventListener('follower:block', (e) => void morpho.update(e.detail.blockNumber).then(onUpdate))
 * await follower.start()
 */
export * from './client.js'
export * from './errors.js'
export * from './follower.js'
export * from './keccak.js'
export * from './logs.js'
export * from './multicall.js'
