import { BaseError } from './errors.js'
import { MAX_HEALTH_MESSAGE_BYTES, MAX_LIQUIDITY_MESSAGE_BYTES } from './limits.js'

/**
 * Gossip topic types. This one enum drives topic names, size limits, the
 * validation handlers and queues of `node/gossip` (`{ [K in GossipType]: ... }`),
 * and the round-trip test table, so adding a type forces each of them.
 */
export enum GossipType {
  health = 'health',
  liquidity = 'liquidity',
}

/** Version of the wire format carried in every topic name; bumped on any incompatible change. */
export const TOPIC_VERSION = 1
export const TOPIC_PREFIX = '/liqnet'

/** A parsed topic: `/liqnet/<version>/<type>/<chainId>`. */
export type GossipTopic = { type: GossipType; chainId: number }

/** Per-topic wire limits (bytes of the whole SignedEnvelope). */
export const topicMaxBytes: { [K in GossipType]: number } = {
  [GossipType.health]: MAX_HEALTH_MESSAGE_BYTES,
  [GossipType.liquidity]: MAX_LIQUIDITY_MESSAGE_BYTES,
}

export const gossipTypes: readonly GossipType[] = Object.values(GossipType)

export type InvalidTopicErrorType = InvalidTopicError
export class InvalidTopicError extends BaseError {
  override name = 'InvalidTopicError'
  constructor(topic: string, reason: string) {
    super(`Invalid gossip topic "${topic}": ${reason}.`, {
      metaMessages: [`Topics read ${TOPIC_PREFIX}/${TOPIC_VERSION}/<${gossipTypes.join('|')}>/<chainId>.`],
    })
  }
}

function checkChainId(chainId: number, topic: string): void {
  if (!Number.isSafeInteger(chainId) || chainId <= 0) throw new InvalidTopicError(topic, 'chainId must be a positive safe integer')
}

/**
 * Formats a topic name, e.g. `formatTopic({ type: GossipType.health, chainId: 1 })` → `/liqnet/1/health/1`.
 * @throws InvalidTopicError if chainId is not a positive safe integer.
 */
export function formatTopic(topic: GossipTopic): string {
  const name = `${TOPIC_PREFIX}/${TOPIC_VERSION}/${topic.type}/${topic.chainId}`
  checkChainId(topic.chainId, name)
  return name
}

/**
 * Parses a topic name; inverse of {@link formatTopic}.
 * @throws InvalidTopicError on a foreign prefix, another version, an unknown type or a bad chain id.
 */
export function parseTopic(topic: string): GossipTopic {
  const parts = topic.split('/')
  // ['', 'liqnet', '1', type, chainId]
  if (parts.length !== 5 || parts[0] !== '' || `/${parts[1]}` !== TOPIC_PREFIX) throw new InvalidTopicError(topic, 'not a liqnet topic')
  if (parts[2] !== String(TOPIC_VERSION)) throw new InvalidTopicError(topic, `unsupported version ${parts[2]}`)
  const type = parts[3] as GossipType
  if (!gossipTypes.includes(type)) throw new InvalidTopicError(topic, `unknown type ${parts[3]}`)
  if (!/^[1-9][0-9]{0,15}$/.test(parts[4])) throw new InvalidTopicError(topic, 'chainId must be a decimal integer without leading zeros')
  const chainId = Number(parts[4])
  checkChainId(chainId, topic)
  return { type, chainId }
}
