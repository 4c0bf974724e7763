/**
 * Subscribes to a liqnet node's risk feed, verifying every item's operator signature.
 *
 *   npx tsx examples/subscribe.ts [apiUrl] [chainId]
 *   LIQNET_TRUSTED_OPERATORS=0xabc...,0xdef... npx tsx examples/subscribe.ts http://127.0.0.1:8080 31337
 *
 * Prints the riskiest accounts once, then one line per update (accounts, pools, plans) until Ctrl-C.
 */
import type { Address } from 'viem'
import { createFeedClient, type AccountItem, type LiquidityItem, type PlanItem } from '../client/index.js'

const url = process.argv[2] ?? 'http://127.0.0.1:8080'
const chainId = process.argv[3] ? Number(process.argv[3]) : undefined
const trusted = process.env.LIQNET_TRUSTED_OPERATORS?.split(',').map((a) => a.trim() as Address)

const feed = createFeedClient({ url, trustedOperators: trusted })
const info = await feed.info()
console.log(`node operator ${info.operator}; risk model ${info.risk.model} (${info.risk.estimator}), horizon ${info.risk.horizonSeconds} s`)

const pct = (p: number | null) => (p === null ? 'n/a' : `${(p * 100).toFixed(2)} %`)
const hf = (wad: string) => (BigInt(wad) >= 2n ** 255n ? '∞' : (Number(BigInt(wad) / 10n ** 12n) / 1e6).toFixed(4))

const riskiest = await feed.accounts({ chainId, limit: 10 })
console.log(`${riskiest.total} accounts; the riskiest:`)
for (const { data: a } of riskiest.items)
  console.log(`  ${a.protocol} ${a.chainId} ${a.borrower} HF ${hf(a.healthFactor)}  -${a.risk.distanceBps / 100} % to liquidation  P(${a.risk.horizonSeconds / 3600} h) ${pct(a.risk.probability)}  attested by ${a.attestedBy.length}`)

const sub = await feed.subscribe(
  { chainId },
  {
    onItem(item) {
      if (item.kind === 'account') {
        const a = item.data as AccountItem
        console.log(`account ${a.chainId} ${a.borrower} HF ${hf(a.healthFactor)} ${a.liquidatable ? 'LIQUIDATABLE' : ''} block ${a.blockNumber}`)
      } else if (item.kind === 'liquidity') {
        const l = item.data as LiquidityItem
        console.log(`pool ${l.chainId} ${l.pair} reserves ${l.reserve0}/${l.reserve1} block ${l.blockNumber}`)
      } else {
        const p = item.data as PlanItem
        console.log(`plan ${p.height} ${p.status}: ${p.counts.executed} executed, ${p.counts.failed} failed, ${p.counts.dispatched} in flight`)
      }
    },
    onInvalid(_item, err) {
      console.error(`dropped an item: ${err.shortMessage}`)
    },
    onClose(code, reason) {
      console.error(`stream closed: ${code} ${reason}`)
      process.exit(code === 1000 ? 0 : 1)
    },
  },
)
console.log(`subscribed (operator ${sub.hello.operator}); Ctrl-C to stop`)
process.on('SIGINT', () => sub.close())
