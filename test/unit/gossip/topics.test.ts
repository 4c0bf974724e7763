import assert from 'node:assert/strict'
import { GossipType, InvalidTopicError, formatTopic, parseTopic, topicMaxBytes } from '../../../protocol/topics.js'

/** One row per topic type: TypeScript fails to compile when a GossipType has no row. */
const table: { [K in GossipType]: { chainId: number; name: string } } = {
  [GossipType.health]: { chainId: 1, name: '/liqnet/1/health/1' },
  [GossipType.liquidity]: { chainId: 42161, name: '/liqnet/1/liquidity/42161' },
}

describe('gossip topics', () => {
  for (const [type, row] of Object.entries(table) as [GossipType, { chainId: number; name: string }][]) {
    it(`round-trips ${type}`, () => {
      assert.equal(formatTopic({ type, chainId: row.chainId }), row.name)
      assert.deepEqual(parseTopic(row.name), { type, chainId: row.chainId })
      assert.ok(topicMaxBytes[type] > 0)
    })
  }

  it('rejects foreign, versioned, unknown and malformed topics', () => {
    for (const bad of ['/liqnet/2/health/1', '/eth2/1/health/1', '/liqnet/1/blocks/1', '/liqnet/1/health/01', '/liqnet/1/health/0', '/liqnet/1/health/-1', '/liqnet/1/health/1/x', 'liqnet/1/health/1', '/liqnet/1/health/99999999999999999'])
      assert.throws(() => parseTopic(bad), InvalidTopicError, bad)
    assert.throws(() => formatTopic({ type: GossipType.health, chainId: 0 }), InvalidTopicError)
  })
})
