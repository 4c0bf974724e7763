/**
 * The multi-height QBFT node: routes inbound packets to the running height's instance, buffers
 * (bounded) the messages of heights slightly ahead and replays them when that height starts,
 * answers validators still working on a height decided here with the DECIDED certificate, and
 * counts every outcome.
 *
 * The driver calls `start(h, input)`, receives `onDecide(decision)`, then starts h + 1.
 */
import type { Address } from 'viem'
import { defaultQbftOptions } from './constants.js'
import { QbftConfigError, QbftDecodeError, QbftStartError } from './errors.js'
import { QbftInstance, type InstanceDeps } from './instance.js'
import { SignatureCache, checkSignature } from './justification.js'
import { keccakValueDigest } from './keys.js'
import { decodePacket, encodePacket, type DecodeLimits } from './messages.js'
import type {
  Decision,
  Qbft,
  QbftConfig,
  QbftOptions,
  QbftPacket,
  QbftStats,
  ReceiveOutcome,
  RejectReason,
  StartInput,
} from './types.js'
import { createValidatorSet } from './validators.js'

function resolveOptions(n: number, partial: Partial<QbftOptions> = {}): QbftOptions {
  const o: QbftOptions = { ...defaultQbftOptions, maxBufferedPerHeight: 32 * n, ...partial }
  if (partial.maxValueBytes !== undefined && partial.maxPacketBytes === undefined)
    o.maxPacketBytes = o.maxValueBytes + (defaultQbftOptions.maxPacketBytes - defaultQbftOptions.maxValueBytes)
  const positive: (keyof QbftOptions)[] = [
    'roundTimeoutBaseMs',
    'maxRoundTimeoutMs',
    'maxFutureRounds',
    'maxBufferedPerHeight',
    'maxBufferedPerSigner',
    'maxValueBytes',
    'maxPacketBytes',
    'keepDecisions',
  ]
  for (const k of positive) {
    const v = o[k] as number
    if (!Number.isFinite(v) || v <= 0) throw new QbftConfigError(`options.${k}`, 'must be a positive number')
  }
  if (typeof o.maxFutureHeights !== 'bigint' || o.maxFutureHeights < 0n) throw new QbftConfigError('options.maxFutureHeights', 'must be a bigint ≥ 0')
  return o
}

type FutureBuffer = { items: QbftPacket[]; perSigner: Map<string, number> }

/**
 * Creates a QBFT node over the injected transport, timers, clock, signer, sealer and value validator.
 * @throws QbftConfigError on an unusable validator set, `self` outside it, a domain separator that is
 *   not 32 bytes, or bad options.
 * @example
 * const qbft = createQbft({ self, validators, domainSeparator, sign, sealer, validateValue, transport, timers, clock,
 *   onDecide: (d) => driver.certified(d) })
 * qbft.start(7n, { getValue: (h, r) => buildPlan(h) })
 * transport.onMessage((bytes) => qbft.receive(bytes))
 */
export function createQbft(config: QbftConfig): Qbft {
  const vset = createValidatorSet(config.validators)
  const self = (typeof config.self === 'string' ? config.self.toLowerCase() : '') as Address
  if (!vset.index.has(self)) throw new QbftConfigError('self', 'must be one of the validators')
  if (!(config.domainSeparator instanceof Uint8Array) || config.domainSeparator.length !== 32)
    throw new QbftConfigError('domainSeparator', 'must be 32 bytes')
  const options = resolveOptions(vset.n, config.options)
  const firstHeight = config.firstHeight ?? 0n
  if (typeof firstHeight !== 'bigint' || firstHeight < 0n) throw new QbftConfigError('firstHeight', 'must be a bigint ≥ 0')
  const limits: DecodeLimits = { maxPacketBytes: options.maxPacketBytes, maxValueBytes: options.maxValueBytes, maxJustifications: vset.n }
  const events = config.events ?? {}
  const valueDigest = config.valueDigest ?? keccakValueDigest
  const cache = new SignatureCache(Math.max(4096, 64 * vset.n))
  const stats: QbftStats = { accepted: 0, buffered: 0, rejected: {}, ignored: {}, signRefused: 0, sealRefused: 0, timeouts: 0, decided: 0 }
  const verify = { vset, domainSeparator: config.domainSeparator, cache }

  let current: QbftInstance | undefined
  let base = firstHeight // the running height, or the next one to run
  let stopped = false
  const decisions = new Map<bigint, Decision>()
  const buffers = new Map<bigint, FutureBuffer>()
  const replied = new Set<string>()

  const onDecide = (d: Decision): void => {
    decisions.set(d.height, d)
    for (const h of decisions.keys()) if (decisions.size > options.keepDecisions && h < d.height) decisions.delete(h)
    if (d.height >= base) base = d.height + 1n
    stats.decided++
    try {
      config.onDecide(d)
    } catch {
      // the driver's errors are its own
    }
    events.decided?.(d, config.clock.now())
  }

  const deps: InstanceDeps = {
    vset,
    self,
    domainSeparator: config.domainSeparator,
    sign: config.sign,
    sealer: config.sealer,
    validateValue: config.validateValue,
    valueDigest,
    transport: config.transport,
    timers: config.timers,
    clock: config.clock,
    events,
    options,
    stats,
    cache,
    onDecide,
  }

  function count(out: ReceiveOutcome, packet: QbftPacket | undefined): ReceiveOutcome {
    if (out.status === 'accepted') stats.accepted++
    else if (out.status === 'buffered') stats.buffered++
    else {
      const table = out.status === 'rejected' ? stats.rejected : stats.ignored
      table[out.reason] = (table[out.reason] ?? 0) + 1
      events.dropped?.(out.reason, out.status, packet?.type, config.clock.now())
    }
    return out
  }
  const ignored = (reason: RejectReason): ReceiveOutcome => ({ status: 'ignored', reason })
  const rejected = (reason: RejectReason): ReceiveOutcome => ({ status: 'rejected', reason })

  /** A validator sent a ROUND-CHANGE for a height decided here: send it the certificate (once per round). */
  function replyDecided(packet: QbftPacket): void {
    if (packet.type !== 'roundChange') return
    const m = packet.signed.message
    const d = decisions.get(m.height)
    if (!d) return
    const key = `${m.height}:${packet.signed.signer}:${m.round}`
    if (replied.has(key) || !checkSignature(verify, packet.signed)) return
    if (replied.size > 64 * vset.n) replied.clear()
    replied.add(key)
    const reply: QbftPacket = { type: 'decided', height: d.height, value: d.value, commits: d.commits }
    try {
      const bytes = encodePacket(reply)
      if (config.transport.sendTo) config.transport.sendTo(packet.signed.signer, reply, bytes)
      else config.transport.broadcast(reply, bytes)
    } catch {
      // best effort
    }
  }

  function bufferFuture(packet: QbftPacket, height: bigint): ReceiveOutcome {
    // Only validly signed messages take buffer room (certificates are checked in full at replay).
    if (packet.type !== 'decided' && !checkSignature(verify, packet.signed)) return rejected('BAD_SIGNATURE')
    const who = packet.type === 'decided' ? 'decided' : packet.signed.signer
    let buf = buffers.get(height)
    if (!buf) {
      buf = { items: [], perSigner: new Map() }
      buffers.set(height, buf)
    }
    const mine = buf.perSigner.get(who) ?? 0
    const cap = packet.type === 'decided' ? 2 : options.maxBufferedPerSigner
    if (buf.items.length >= options.maxBufferedPerHeight || mine >= cap) return ignored('BUFFER_FULL')
    buf.perSigner.set(who, mine + 1)
    buf.items.push(packet)
    return { status: 'buffered' }
  }

  async function route(packet: QbftPacket): Promise<ReceiveOutcome> {
    const height = packet.type === 'decided' ? packet.height : packet.signed.message.height
    if (packet.type !== 'decided' && !vset.index.has(packet.signed.signer)) return rejected('UNKNOWN_SIGNER')
    if (height < base) {
      replyDecided(packet)
      return ignored('OLD_HEIGHT')
    }
    if (height > base + options.maxFutureHeights) return rejected('FUTURE_HEIGHT')
    if (current && !current.done && current.height === height) return current.handle(packet, false)
    return bufferFuture(packet, height)
  }

  async function receive(input: Uint8Array | QbftPacket): Promise<ReceiveOutcome> {
    let packet: QbftPacket | undefined
    try {
      if (stopped) return count(ignored('NOT_STARTED'), undefined)
      try {
        // Decoded input is re-encoded and decoded, so it meets exactly the wire rules.
        packet = decodePacket(input instanceof Uint8Array ? input : encodePacket(input), limits)
      } catch (err) {
        return count(rejected(err instanceof QbftDecodeError ? err.code : 'MALFORMED'), undefined)
      }
      return count(await route(packet), packet)
    } catch {
      return count(rejected('MALFORMED'), packet)
    }
  }

  function start(height: bigint, input: StartInput): void {
    if (stopped) throw new QbftStartError(height, 'the node is stopped')
    if (typeof height !== 'bigint' || height < 0n) throw new QbftStartError(height, 'the height must be a bigint ≥ 0')
    if (height < base) throw new QbftStartError(height, `the node is already at height ${base}`)
    if (current && !current.done && current.height === height) throw new QbftStartError(height, 'the height is already running')
    const ok = input && (('value' in input && input.value instanceof Uint8Array && input.value.length > 0) || ('getValue' in input && typeof input.getValue === 'function'))
    if (!ok) throw new QbftStartError(height, 'the input needs a non-empty value or a getValue function')
    current?.stop()
    base = height
    for (const h of buffers.keys()) if (h < height) buffers.delete(h)
    const inst = new QbftInstance(deps, height, input)
    current = inst
    const replay = buffers.get(height)?.items ?? []
    buffers.delete(height)
    inst.start()
    if (replay.length > 0)
      void (async () => {
        for (const p of replay) {
          if (inst.done) break
          try {
            count(await inst.handle(p, false), p)
          } catch {
            count(rejected('MALFORMED'), p)
          }
        }
      })()
  }

  return {
    get height() {
      return base
    },
    get round() {
      return current && !current.done ? current.round : 0
    },
    get running() {
      return current !== undefined && !current.done
    },
    start,
    receive,
    decision: (h) => decisions.get(h),
    stats: () => ({ ...stats, rejected: { ...stats.rejected }, ignored: { ...stats.ignored } }),
    stop() {
      stopped = true
      current?.stop()
      buffers.clear()
    },
  }
}
