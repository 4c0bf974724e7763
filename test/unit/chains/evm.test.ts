import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  type Address,
  bytesToHex,
  decodeAbiParameters,
  encodeAbiParameters,
  encodeFunctionData,
  getAddress,
  type Hex,
  keccak256,
  parseAbi,
} from 'viem'
import { checkRpcResult, createChainClient, InvalidChainClientOptionsError } from '../../../chains/evm/client.js'
import { ChainReadError, ContractRevertError, decodeRevert, redactUrl, RpcUnavailableError, toChainError } from '../../../chains/evm/errors.js'
import { checksumAddress, keccak256Short } from '../../../chains/evm/keccak.js'
import { chunkCalls, decodeAggregate3, encodeAggregate3, mapWithConcurrency, readWords } from '../../../chains/evm/multicall.js'
import { borrowerOfLog, positionBorrowSharesAndCollateralSlot } from '../../../chains/morpho/reader.js'
import { BaseError } from '../../../protocol/errors.js'

const aggregate3Abi = parseAbi([
  'struct Call3 { address target; bool allowFailure; bytes callData; }',
  'struct Result { bool success; bytes returnData; }',
  'function aggregate3(Call3[] calls) payable returns (Result[] returnData)',
])
const resultType = [{ type: 'tuple[]', components: [{ type: 'bool', name: 'success' }, { type: 'bytes', name: 'returnData' }] }] as const

const arbAddress = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => bytesToHex(b) as Address)
const arbBytes = fc.uint8Array({ minLength: 0, maxLength: 100 }).map((b) => bytesToHex(b))

describe('chains/evm: keccak', () => {
  it('keccak256Short equals viem keccak256 for every length 0..300', () => {
    for (let len = 0; len <= 300; len++) {
      const b = new Uint8Array(len).map((_, i) => (i * 73 + len * 5) & 255)
      assert.equal(bytesToHex(keccak256Short(b)), keccak256(b), `length ${len}`)
    }
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => bytesToHex(keccak256Short(b)) === keccak256(b)), { numRuns: 300 })
  })

  it('checksumAddress equals viem getAddress (EIP-55)', () => {
    fc.assert(fc.property(arbAddress, (a) => checksumAddress(a) === getAddress(a) && checksumAddress(a.toUpperCase().replace('0X', '0x')) === getAddress(a)), { numRuns: 300 })
    assert.throws(() => checksumAddress('0x1234'), RangeError)
  })

  it('Morpho position slots follow MorphoStorageLib.positionBorrowSharesAndCollateralSlot', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), arbAddress, (idBytes, user) => {
        const id = bytesToHex(idBytes)
        const inner = keccak256(encodeAbiParameters([{ type: 'bytes32' }, { type: 'uint256' }], [id, 2n]))
        const expected = (BigInt(keccak256(encodeAbiParameters([{ type: 'address' }, { type: 'bytes32' }], [user, inner]))) + 1n) % 2n ** 256n
        return BigInt(positionBorrowSharesAndCollateralSlot(id, user)) === expected
      }),
      { numRuns: 100 },
    )
  })
})

describe('chains/evm: multicall encoding', () => {
  it('encodeAggregate3 equals viem encodeFunctionData (allowFailure = true)', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ target: arbAddress, callData: arbBytes }), { maxLength: 12 }), (calls) => {
        const ours = encodeAggregate3(calls)
        const viem = encodeFunctionData({ abi: aggregate3Abi, functionName: 'aggregate3', args: [calls.map((c) => ({ ...c, allowFailure: true }))] })
        return ours === viem
      }),
      { numRuns: 200 },
    )
  })

  it('decodeAggregate3 reads what the ABI encoder wrote, without copies', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ success: fc.boolean(), returnData: arbBytes }), { maxLength: 12 }), (results) => {
        const hex = encodeAbiParameters(resultType, [results])
        const got: { success: boolean; returnData: Hex }[] = []
        decodeAggregate3(hex, results.length, (i, success, h, s, e) => (got[i] = { success, returnData: `0x${h.slice(s, e)}` as Hex }))
        return JSON.stringify(got) === JSON.stringify(results)
      }),
      { numRuns: 200 },
    )
    const hex = encodeAbiParameters(resultType, [[{ success: true, returnData: '0x01' }]])
    assert.throws(() => decodeAggregate3(hex, 2, () => {}), ChainReadError)
    assert.throws(() => decodeAggregate3(hex.slice(0, 100), 1, () => {}), ChainReadError)
  })

  it('readWords parses uint256 words', () => {
    const hex = encodeAbiParameters([{ type: 'uint256' }, { type: 'uint256' }], [7n, 2n ** 255n])
    assert.deepEqual(readWords(hex, 2, 2), [7n, 2n ** 255n])
    assert.deepEqual(decodeAbiParameters([{ type: 'uint256' }], hex), [7n])
  })

  it('chunkCalls keeps each chunk under the gas cap and the call cap, in order, covering every call', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 300_000 }), { maxLength: 300 }), fc.integer({ min: 1, max: 50 }), (gases, maxCalls) => {
        const calls = gases.map((g) => ({ target: '0x0000000000000000000000000000000000000001' as Address, callData: '0x' as Hex, gas: BigInt(g) }))
        const cap = 1_000_000n
        const chunks = chunkCalls(calls, cap, 30_000n, maxCalls)
        let next = 0
        for (const c of chunks) {
          if (c.start !== next || c.end <= c.start) return false
          const gas = calls.slice(c.start, c.end).reduce((a, x) => a + x.gas!, 60_000n)
          if (c.end - c.start > 1 && gas > cap) return false
          if (c.end - c.start > maxCalls) return false
          next = c.end
        }
        return next === calls.length
      }),
    )
  })

  it('mapWithConcurrency bounds the calls in flight and keeps order', async () => {
    let inFlight = 0
    let peak = 0
    const out = await mapWithConcurrency([...Array(20).keys()], 3, async (x) => {
      peak = Math.max(peak, ++inFlight)
      await new Promise((r) => setTimeout(r, 2))
      inFlight--
      return x * 2
    })
    assert.deepEqual(out, [...Array(20).keys()].map((x) => x * 2))
    assert.equal(peak, 3)
  })
})

describe('chains/evm: client options and RPC answers', () => {
  it('refuses bad options, naming the field', () => {
    assert.throws(() => createChainClient({ chainId: 1, rpcUrls: [] }), (e: unknown) => e instanceof InvalidChainClientOptionsError && /rpcUrls/.test(e.message))
    assert.throws(() => createChainClient({ chainId: 0, rpcUrls: ['http://127.0.0.1:1'] }), /chainId/)
    assert.throws(() => createChainClient({ chainId: 1, rpcUrls: ['ftp://x'] }), /rpcUrls/)
    assert.throws(() => createChainClient({ chainId: 1, rpcUrls: ['http://127.0.0.1:1'], wsUrls: ['http://x'] }), /wsUrls/)
    assert.throws(() => createChainClient({ chainId: 1, rpcUrls: ['http://127.0.0.1:1'], timeoutMs: -1 }), /timeoutMs/)
  })

  it('checkRpcResult tells garbage from answers', () => {
    assert.equal(checkRpcResult('eth_blockNumber', '0x1a'), undefined)
    assert.ok(checkRpcResult('eth_blockNumber', '0xzz'))
    assert.ok(checkRpcResult('eth_blockNumber', undefined))
    assert.equal(checkRpcResult('eth_call', '0x'), undefined)
    assert.ok(checkRpcResult('eth_call', '0x123'))
    assert.ok(checkRpcResult('eth_call', 'hello'))
    assert.equal(checkRpcResult('eth_getLogs', []), undefined)
    assert.ok(checkRpcResult('eth_getLogs', {}))
    assert.ok(checkRpcResult('eth_getLogs', [{ data: '0x' }]))
    assert.equal(checkRpcResult('eth_getBlockByNumber', null), undefined)
    assert.ok(checkRpcResult('eth_getBlockByNumber', { hash: '0x12' }))
    assert.ok(checkRpcResult('eth_getTransactionReceipt', undefined))
  })

  it('errors are liqnet BaseErrors with fixed names; URLs are redacted', () => {
    const e = new RpcUnavailableError({ chainId: 1, method: 'eth_call', urls: ['https://user:pw@rpc.example/v2/abcdefghijklmnopqrstuvwxyz123456'] })
    assert.ok(e instanceof BaseError)
    assert.equal(e.name, 'RpcUnavailableError')
    assert.doesNotMatch(e.message, /pw|abcdefghijklmnopqrstuvwxyz/)
    assert.equal(redactUrl('http://127.0.0.1:8545'), 'http://127.0.0.1:8545/')
    const wrapped = toChainError(new Error('boom', { cause: e }))
    assert.equal(wrapped, e)
    const other = toChainError(new Error('weird'), { what: 'read' })
    assert.ok(other instanceof ChainReadError && /read failed: weird/.test(other.shortMessage))
  })

  it('decodeRevert decodes Error(string) and Panic, and never throws', () => {
    const errorString = encodeFunctionData({ abi: parseAbi(['function Error(string)']), functionName: 'Error', args: ['position is healthy'] })
    const r = decodeRevert(errorString, [])
    assert.ok(r instanceof ContractRevertError)
    assert.equal(r.errorName, 'Error')
    assert.deepEqual(r.args, ['position is healthy'])
    const panic = encodeFunctionData({ abi: parseAbi(['function Panic(uint256)']), functionName: 'Panic', args: [0x11n] })
    assert.equal(decodeRevert(panic, []).errorName, 'Panic')
    assert.equal(decodeRevert('0x', []).errorName, undefined)
    assert.equal(decodeRevert('0xnothex' as Hex, []).errorName, undefined)
  })
})

describe('chains/morpho: event topics', () => {
  it('finds the borrower topic of position events', () => {
    const user = '0x00000000000000000000000000000000000000aa'
    const topic = `0x${user.slice(2).padStart(64, '0')}` as Hex
    const borrowTopic0 = keccak256(new TextEncoder().encode('Borrow(bytes32,address,address,address,uint256,uint256)'))
    const id = `0x${'11'.repeat(32)}` as Hex
    assert.equal(borrowerOfLog({ topics: [borrowTopic0, id, topic, `0x${'00'.repeat(32)}`] }), user)
    assert.equal(borrowerOfLog({ topics: [`0x${'00'.repeat(32)}`] }), undefined)
  })
})
