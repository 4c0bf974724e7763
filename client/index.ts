/**
 * A typed TypeScript client of the liqnet risk-feed API (docs/openapi.yaml) that verifies every
 * item's EIP-712 signature (node/api/signing.ts) before handing it over.
 *
 * Trust: pass `trustedOperators` (the network's operator set, e.g. read from the hub contract) and
 * `domain` (the network's EIP-712 domain). Without them the client takes both from the node's
 * `/v1/info` on first use, which proves only that items come from the operator the node claims to be.
 *
 * HTTP uses the global `fetch`; the stream uses the `ws` package (Node 20 has no global WebSocket).
 *
 * @example
 * const feed = createFeedClient({ url: 'http://127.0.0.1:8080', trustedOperators: ['0x...'] })
 * const { items } = await feed.accounts({ chainId: 31337, protocol: 'morpho-blue' })
 * const sub = await feed.subscribe({ kinds: ['account'], chainId: 31337 }, { onItem: (i) => console.log(i.data) })
 */
import { createRequire } from 'node:module'
import type { Address, Hex } from 'viem'
import { BaseError } from '../protocol/errors.js'
import { createDomainSeparator, type SigningDomain } from '../protocol/signing/eip712.js'
import type { AccountItem, LiquidityItem, PlanItem, ProtocolName, VenueName } from '../node/api/feed.js'
import { verifyFeedItem, type FeedKind, type FeedVerification, type SignedFeedItem } from '../node/api/signing.js'

export type { AccountItem, LiquidityItem, PlanItem, SignedFeedItem, FeedKind }

// ---------------------------------------------------------------- errors

export type FeedHttpErrorType = FeedHttpError
/** The API answered with an error status (400: a bad parameter, named in the message). */
export class FeedHttpError extends BaseError {
  override name = 'FeedHttpError'
  constructor(
    readonly status: number,
    readonly body: { error?: string; message?: string } | undefined,
    url: string,
  ) {
    super(`${url} answered ${status}: ${body?.message ?? 'no message'}.`)
  }
}

export type FeedVerificationErrorType = FeedVerificationError
/** An item whose signature does not verify (tampered, wrong domain or untrusted operator). */
export class FeedVerificationError extends BaseError {
  override name = 'FeedVerificationError'
  constructor(
    readonly reason: Exclude<FeedVerification, { ok: true }>['reason'],
    kind: string,
  ) {
    super(`A ${kind} item failed verification: ${reason}.`, { metaMessages: ['Do not use it. Check the trusted operators and the domain, or the path to the node.'] })
  }
}

// ---------------------------------------------------------------- types

export type FeedInfo = {
  operator: Address
  domain: { name: string; version: string; chainId?: number; verifyingContract?: Address }
  feedItem: { type: string; typeHash: Hex; kinds: Record<FeedKind, number> }
  risk: { model: string; estimator: string; horizonSeconds: number; volatilityWindow: number; minVolatilitySamples: number }
}
export type Page<T> = { operator: Address; total: number; offset: number; items: T[] }

export type AccountsParams = { chainId?: number; protocol?: ProtocolName; market?: Hex; borrower?: Address; liquidatable?: boolean; limit?: number; offset?: number }
export type LiquidityParams = { chainId?: number; venue?: VenueName; pair?: Address; limit?: number; offset?: number }
export type PlansParams = { limit?: number; before?: bigint }
export type StreamParams = { chainId?: number; protocol?: ProtocolName; market?: Hex; pair?: Address; kinds?: FeedKind[] }

export type FeedClientOptions = {
  /** Base URL of the node's API, e.g. `http://127.0.0.1:8080`. */
  url: string
  /** Operators whose signatures are accepted. @default the node's operator from /v1/info */
  trustedOperators?: Address[]
  /** The network's EIP-712 domain. @default the node's, from /v1/info */
  domain?: SigningDomain
  /** What to do with an item that fails verification: throw {@link FeedVerificationError} (HTTP) / call `onInvalid` (stream). @default 'throw' */
  onInvalid?: 'throw' | 'skip'
  fetch?: typeof fetch
  /** Per-request timeout, ms. @default 10_000 */
  timeoutMs?: number
}

export type StreamHandlers = {
  onItem(item: SignedFeedItem): void
  /** An item that failed verification (it is not passed to onItem). */
  onInvalid?(item: unknown, error: FeedVerificationError): void
  /** The stream closed (code 4001: dropped as a slow consumer; 1013: too many subscribers; 1001: node shutting down). */
  onClose?(code: number, reason: string): void
}

export type Subscription = {
  /** The node's first frame: its operator, domain and the filter in force. */
  hello: { operator: Address; filter: StreamParams }
  /** Resolves with the close code and reason. */
  closed: Promise<{ code: number; reason: string }>
  close(): void
}

/** The part of the `ws` package's WebSocket this client uses. */
type Ws = {
  on(event: 'open', fn: () => void): void
  on(event: 'message', fn: (data: Buffer) => void): void
  on(event: 'close', fn: (code: number, reason: Buffer) => void): void
  on(event: 'error', fn: (err: Error) => void): void
  on(event: 'unexpected-response', fn: (req: unknown, res: NodeJS.ReadableStream & { statusCode?: number }) => void): void
  close(code?: number): void
}
type WsConstructor = new (url: string) => Ws
let wsCtor: WsConstructor | undefined
function loadWs(): WsConstructor {
  return (wsCtor ??= (createRequire(import.meta.url)('ws') as { WebSocket: WsConstructor }).WebSocket)
}

function query(params: Record<string, unknown>): string {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue
    q.set(k, Array.isArray(v) ? v.join(',') : String(v))
  }
  const s = q.toString()
  return s ? `?${s}` : ''
}

// ---------------------------------------------------------------- client

export class FeedClient {
  private readonly base: string
  private readonly fetchFn: typeof fetch
  private trust?: { domainSeparator: Uint8Array; operators: Address[] }

  constructor(private readonly o: FeedClientOptions) {
    this.base = o.url.replace(/\/+$/, '')
    this.fetchFn = o.fetch ?? fetch
  }

  private async get<T>(path: string): Promise<T> {
    const url = `${this.base}${path}`
    const res = await this.fetchFn(url, { signal: AbortSignal.timeout(this.o.timeoutMs ?? 10_000) })
    const body = (await res.json().catch(() => undefined)) as T & { error?: string; message?: string }
    if (!res.ok) throw new FeedHttpError(res.status, body, url)
    return body
  }

  /** The node's operator, domain and risk model. */
  info(): Promise<FeedInfo> {
    return this.get<FeedInfo>('/v1/info')
  }

  private async trustAnchor() {
    if (!this.trust) {
      let domain = this.o.domain
      let operators = this.o.trustedOperators
      if (!domain || !operators) {
        const info = await this.info()
        domain ??= { chainId: info.domain.chainId, verifyingContract: info.domain.verifyingContract }
        operators ??= [info.operator]
      }
      this.trust = { domainSeparator: createDomainSeparator(domain), operators }
    }
    return this.trust
  }

  /** Verifies one item against the trusted operators and domain. */
  async verify(item: SignedFeedItem): Promise<FeedVerification> {
    const t = await this.trustAnchor()
    return verifyFeedItem(item, t.domainSeparator, t.operators)
  }

  private async verified<T extends SignedFeedItem>(items: T[]): Promise<T[]> {
    const t = await this.trustAnchor()
    const out: T[] = []
    for (const item of items) {
      const v = verifyFeedItem(item, t.domainSeparator, t.operators)
      if (v.ok) out.push(item)
      else if (this.o.onInvalid !== 'skip') throw new FeedVerificationError(v.reason, item?.kind ?? 'unknown')
    }
    return out
  }

  /** Accounts, riskiest first. @throws FeedHttpError, FeedVerificationError */
  async accounts(params: AccountsParams = {}): Promise<Page<SignedFeedItem<'account', AccountItem>>> {
    const page = await this.get<Page<SignedFeedItem<'account', AccountItem>>>(`/v1/accounts${query(params)}`)
    return { ...page, items: await this.verified(page.items) }
  }

  /** Pools. @throws FeedHttpError, FeedVerificationError */
  async liquidity(params: LiquidityParams = {}): Promise<Page<SignedFeedItem<'liquidity', LiquidityItem>>> {
    const page = await this.get<Page<SignedFeedItem<'liquidity', LiquidityItem>>>(`/v1/liquidity${query(params)}`)
    return { ...page, items: await this.verified(page.items) }
  }

  /** Plans, newest first. @throws FeedHttpError, FeedVerificationError */
  async plans(params: PlansParams = {}): Promise<SignedFeedItem<'plan', PlanItem>[]> {
    const r = await this.get<{ items: SignedFeedItem<'plan', PlanItem>[] }>(`/v1/plans${query(params)}`)
    return this.verified(r.items)
  }

  /** One plan, or undefined if the node has none at that height. @throws FeedHttpError, FeedVerificationError */
  async plan(height: bigint | number): Promise<SignedFeedItem<'plan', PlanItem> | undefined> {
    try {
      const r = await this.get<{ item: SignedFeedItem<'plan', PlanItem> }>(`/v1/plans/${height}`)
      return (await this.verified([r.item]))[0]
    } catch (err) {
      if (err instanceof FeedHttpError && err.status === 404) return undefined
      throw err
    }
  }

  /**
   * Opens `/v1/stream` with filters; resolves once the node's hello frame arrived. Items that fail
   * verification go to `onInvalid`, never to `onItem`.
   * @throws FeedHttpError (bad filter: 400 before the upgrade)
   */
  async subscribe(params: StreamParams, handlers: StreamHandlers): Promise<Subscription> {
    const t = await this.trustAnchor()
    const url = `${this.base.replace(/^http/, 'ws')}/v1/stream${query(params)}`
    const WebSocket = loadWs()
    const ws = new WebSocket(url)
    let closedResolve!: (v: { code: number; reason: string }) => void
    const closed = new Promise<{ code: number; reason: string }>((r) => (closedResolve = r))
    return new Promise<Subscription>((resolve, reject) => {
      let hello: Subscription['hello'] | undefined
      ws.on('unexpected-response', (_req, res) => {
        let text = ''
        res.on('data', (c: Buffer) => (text += c.toString()))
        res.on('end', () => {
          let body: { message?: string } | undefined
          try {
            body = JSON.parse(text)
          } catch {
            body = { message: text }
          }
          reject(new FeedHttpError(res.statusCode ?? 0, body, url))
        })
      })
      ws.on('error', (err) => {
        if (!hello) reject(err)
      })
      ws.on('close', (code, reason) => {
        const r = { code, reason: reason.toString() }
        closedResolve(r)
        if (!hello) reject(new FeedHttpError(code, { message: `stream closed before hello: ${r.reason || code}` }, url))
        handlers.onClose?.(code, r.reason)
      })
      ws.on('message', (data) => {
        let frame: { type?: string; item?: SignedFeedItem; operator?: Address; filter?: StreamParams }
        try {
          frame = JSON.parse(data.toString())
        } catch {
          return
        }
        if (frame.type === 'hello' && !hello) {
          hello = { operator: frame.operator as Address, filter: frame.filter ?? {} }
          resolve({ hello, closed, close: () => ws.close(1000) })
          return
        }
        if (frame.type !== 'item' || !frame.item) return
        const v = verifyFeedItem(frame.item, t.domainSeparator, t.operators)
        if (v.ok) handlers.onItem(frame.item)
        else handlers.onInvalid?.(frame.item, new FeedVerificationError(v.reason, frame.item?.kind ?? 'unknown'))
      })
    })
  }
}

/** Creates a {@link FeedClient}. */
export function createFeedClient(options: FeedClientOptions): FeedClient {
  return new FeedClient(options)
}
