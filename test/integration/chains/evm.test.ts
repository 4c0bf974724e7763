import assert from 'node:assert/strict'
import { encodeErrorResult, encodeFunctionData, type Address, type Hex, parseAbi } from 'viem'
import { startAnvil, type Anvil } from '../../../chains/devnet/anvil.js'
import { getFreePort } from '../../../chains/devnet/ports.js'
import { createChainClient } from '../../../chains/evm/client.js'
import { ContractRevertError, decodeRevert, RpcUnavailableError, toChainError } from '../../../chains/evm/errors.js'
import { createBlockFollower } from '../../../chains/evm/follower.js'
import { getLogsChunked } from '../../../chains/evm/logs.js'
import { multicall, multicallRaw, readContracts, readWords } from '../../../chains/evm/multicall.js'
import { BaseError } from '../../../protocol/errors.js'
import type { BlockUpdate } from '../../../chains/types.js'
import { plantMulticall3, startGarbageServer, startRangeLimitedProxy, startSilentServer, waitFor } from './helpers.js'

const TOPIC = `0x${'ab'.repeat(32)}` as Hex
/** Runtime code: LOG1(0, 0, TOPIC); STOP. */
const EMITTER_CODE = `0x7f${TOPIC.slice(2)}60006000a100` as Hex
const EMITTER = '0x00000000000000000000000000000000000e0000' as Address
const multicall3Abi = parseAbi([
  'function getBlockNumber() view returns (uint256)',
  'function getChainId() view returns (uint256)',
  'function getEthBalance(address) view returns (uint256)',
  'struct Call { address target; bytes callData; }',
  'function aggregate(Call[] calls) payable returns (uint256 blockNumber, bytes[] returnData)',
])

describe('chains/evm on anvil', function () {
  this.timeout(30_000)
  let anvil: Anvil
  const closers: (() => Promise<void>)[] = []

  before(async () => {
    anvil = await startAnvil({ chainId: 31_337 })
    await plantMulticall3(anvil)
    await anvil.request('anvil_setCode', [EMITTER, EMITTER_CODE])
  })
  after(async () => {
    for (const c of closers) await c().catch(() => {})
    await anvil?.stop()
  })

  it('keeps reading when a dead URL and garbage-answering servers come first in the fallback list', async () => {
    const deadPort = await getFreePort() // nothing listens there
    const html = await startGarbageServer('<html>oops</html>')
    const badJson = await startGarbageServer('{"jsonrpc":"2.0","id":1,"result":"0xnot-hex"}', 'application/json')
    const empty = await startGarbageServer('{}', 'application/json')
    closers.push(html.close, badJson.close, empty.close)
    const client = createChainClient({
      chainId: 31_337,
      rpcUrls: [`http://127.0.0.1:${deadPort}`, html.url, badJson.url, empty.url, anvil.rpcUrl],
      retryCount: 1,
      retryDelayMs: 10,
      timeoutMs: 2_000,
    })
    const expected = BigInt(await anvil.request<Hex>('eth_blockNumber'))
    assert.equal(await client.getBlockNumber(), expected)
    assert.equal(await client.getChainId(), 31_337)
    const balance = await client.getBalance({ address: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266' })
    assert.ok(balance > 0n)
    // Batched reads go through the same list.
    const res = await multicall(client, [
      { target: client.liqnet.multicallAddress, callData: encodeFunctionData({ abi: multicall3Abi, functionName: 'getBlockNumber' }) },
    ])
    assert.equal(res[0].success, true)
    assert.equal(BigInt(res[0].returnData), expected)
  })

  it('reports an RPC that only times out as RpcUnavailableError naming the URLs, without crashing', async () => {
    const silent = await startSilentServer()
    closers.push(silent.close)
    const client = createChainClient({ chainId: 31_337, rpcUrls: [silent.url], retryCount: 1, retryDelayMs: 10, timeoutMs: 200 })
    const t0 = Date.now()
    const err = await client.getBlockNumber().then(
      () => assert.fail('expected a failure'),
      (e: unknown) => e,
    )
    const mapped = toChainError(err)
    assert.ok(mapped instanceof RpcUnavailableError, `got ${(mapped as Error).name}`)
    assert.ok(mapped instanceof BaseError)
    assert.deepEqual(mapped.urls, [silent.url])
    assert.match(mapped.message, /127\.0\.0\.1/)
    assert.ok(Date.now() - t0 < 5_000)
    // Through multicall the error reaches the caller as the liqnet error itself.
    await assert.rejects(
      multicall(client, [{ target: client.liqnet.multicallAddress, callData: '0x42cbb15c' }]),
      (e: unknown) => e instanceof RpcUnavailableError,
    )
  })

  it('multicall chunks under the gas cap, keeps order, and reports failed calls with decoded reverts', async () => {
    const client = createChainClient({ chainId: 31_337, rpcUrls: [anvil.rpcUrl] })
    const n = 3_000
    const addrs = Array.from({ length: n }, (_, i) => `0x${(i + 1).toString(16).padStart(40, '0')}` as Address)
    await anvil.request('anvil_setBalance', [addrs[1234], '0x1234'])
    const calls = addrs.map((a) => ({
      target: client.liqnet.multicallAddress,
      callData: encodeFunctionData({ abi: multicall3Abi, functionName: 'getEthBalance', args: [a] }),
    }))
    // One call that reverts with Error(string): aggregate() of a failing call.
    calls.push({
      target: client.liqnet.multicallAddress,
      callData: encodeFunctionData({
        abi: multicall3Abi,
        functionName: 'aggregate',
        args: [[{ target: client.liqnet.multicallAddress, callData: '0xdeadbeef' }]],
      }),
    })
    let chunks = 0
    const original = client.request
    client.request = (async (args: { method: string }, opts?: unknown) => {
      if (args.method === 'eth_call') chunks++
      return (original as (a: unknown, o?: unknown) => Promise<unknown>)(args, opts)
    }) as typeof client.request
    const balances = new Array<bigint>(n)
    let failure: { hex: string; s: number; e: number } | undefined
    await multicallRaw(
      client,
      calls,
      (i, ok, hex, s, e) => {
        if (i < n) {
          assert.equal(ok, true)
          balances[i] = readWords(hex, s, 1)[0]
        } else {
          assert.equal(ok, false)
          failure = { hex, s, e }
        }
      },
      { gasCap: 2_000_000n, gasPerCall: 5_000n, concurrency: 3 },
    )
    client.request = original
    assert.ok(chunks >= 7, `expected ≥ 7 chunks, got ${chunks}`)
    assert.equal(balances[1234], 0x1234n)
    assert.equal(balances[0], 0n)
    const revert = decodeRevert(`0x${failure!.hex.slice(failure!.s, failure!.e)}` as Hex, multicall3Abi)
    assert.equal(revert.errorName, 'Error')
    assert.deepEqual(revert.args, ['Multicall3: call failed'])

    const typed = await readContracts(client, [
      { address: client.liqnet.multicallAddress, abi: multicall3Abi, functionName: 'getEthBalance', args: [addrs[1234]] },
      { address: client.liqnet.multicallAddress, abi: multicall3Abi, functionName: 'getChainId' },
    ] as const)
    assert.deepEqual(typed[0], { status: 'success', result: 0x1234n })
    assert.deepEqual(typed[1], { status: 'success', result: 31_337n })
  })

  it('decodes custom errors with the ABI into a ContractRevertError', () => {
    const abi = parseAbi(['error InsufficientCollateral(address borrower, uint256 needed)'])
    const data = encodeErrorResult({ abi, errorName: 'InsufficientCollateral', args: ['0x00000000000000000000000000000000000000aa', 7n] })
    const err = decodeRevert(data, abi, { functionName: 'liquidate' })
    assert.ok(err instanceof ContractRevertError && err instanceof BaseError)
    assert.equal(err.errorName, 'InsufficientCollateral')
    assert.deepEqual(err.args, ['0x00000000000000000000000000000000000000AA', 7n])
    assert.match(err.shortMessage, /liquidate reverted: InsufficientCollateral\(.*, 7\)/)
    const unknown = decodeRevert('0x12345678', abi)
    assert.equal(unknown.errorName, undefined)
  })

  it('getLogs halves the range when the RPC refuses it, and returns every log in order', async () => {
    const [from] = await anvil.request<Address[]>('eth_accounts')
    const start = BigInt(await anvil.request<Hex>('eth_blockNumber')) + 1n
    for (let i = 0; i < 12; i++) {
      await anvil.request('eth_sendTransaction', [{ from, to: EMITTER, gas: '0x30000' }])
      await anvil.request('anvil_mine', ['0x19']) // 25 empty blocks between logs
    }
    const end = BigInt(await anvil.request<Hex>('eth_blockNumber'))
    const proxy = await startRangeLimitedProxy(anvil.rpcUrl, 40n)
    closers.push(proxy.close)
    const client = createChainClient({ chainId: 31_337, rpcUrls: [proxy.url], retryCount: 0 })
    const logs = await getLogsChunked(client, { address: EMITTER, topics: [TOPIC], fromBlock: start, toBlock: end, chunkSize: 1_000n })
    assert.equal(logs.length, 12)
    for (let i = 1; i < logs.length; i++) assert.ok(logs[i].blockNumber! > logs[i - 1].blockNumber!)
    assert.ok(proxy.refused() >= 3, `expected refusals, got ${proxy.refused()}`)
  })

  it('the follower emits new heads over WebSocket', async () => {
    const client = createChainClient({ chainId: 31_337, rpcUrls: [anvil.rpcUrl], wsUrls: [anvil.wsUrl], pollingIntervalMs: 5_000 })
    const follower = createBlockFollower(client, { stallTimeoutMs: 10_000 })
    const seen: BlockUpdate[] = []
    follower.addEventListener('follower:block', (e) => seen.push(e.detail))
    await follower.start()
    try {
      assert.equal(follower.mode, 'ws')
      const head = BigInt(await anvil.request<Hex>('eth_blockNumber'))
      await waitFor(() => seen.length >= 1, 5_000, 'the first head')
      await new Promise((r) => setTimeout(r, 300)) // let the subscription settle
      await anvil.request('evm_mine')
      await anvil.request('evm_mine')
      await anvil.request('evm_mine')
      await waitFor(() => seen.some((b) => b.blockNumber === head + 3n), 5_000, 'three mined heads')
      const ws = seen.filter((b) => b.source === 'ws').map((b) => b.blockNumber)
      assert.ok(ws.length >= 3, `ws heads: ${ws}`)
      for (let i = 1; i < seen.length; i++) assert.ok(seen[i].blockNumber > seen[i - 1].blockNumber)
      assert.equal(seen.at(-1)!.chainId, 31_337)
      assert.match(seen.at(-1)!.blockHash, /^0x[0-9a-f]{64}$/)
    } finally {
      await follower.stop()
    }
    assert.equal(follower.mode, 'stopped')
  })

  it('the follower falls back to polling when WebSocket fails', async () => {
    const deadPort = await getFreePort()
    const client = createChainClient({
      chainId: 31_337,
      rpcUrls: [anvil.rpcUrl],
      wsUrls: [`ws://127.0.0.1:${deadPort}`],
      pollingIntervalMs: 50,
    })
    const follower = createBlockFollower(client, { wsRetryIntervalMs: 60_000 })
    const seen: BlockUpdate[] = []
    const modes: string[] = []
    let errors = 0
    follower.addEventListener('follower:block', (e) => seen.push(e.detail))
    follower.addEventListener('follower:mode', (e) => modes.push(e.detail.mode))
    follower.addEventListener('follower:error', () => errors++)
    await follower.start()
    try {
      await waitFor(() => follower.mode === 'poll', 5_000, 'polling mode')
      const head = BigInt(await anvil.request<Hex>('eth_blockNumber'))
      await anvil.request('anvil_mine', ['0x3'])
      await waitFor(() => seen.some((b) => b.blockNumber === head + 3n), 5_000, 'polled heads')
      const polled = seen.filter((b) => b.source === 'poll').map((b) => b.blockNumber)
      assert.ok(polled.includes(head + 1n) && polled.includes(head + 2n), `missed heights are filled: ${polled}`)
      assert.ok(errors >= 1)
      assert.ok(modes.includes('poll'))
    } finally {
      await follower.stop()
    }
  })
})
