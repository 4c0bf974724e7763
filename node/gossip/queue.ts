import { GossipType } from '../../protocol/topics.js'

/** How a topic's validation queue behaves when peers send faster than the node validates. */
export type GossipQueueOptions = {
  /** Most messages waiting; beyond it one is dropped (IGNORE, `QUEUE_FULL`). */
  maxLength: number
  /** FIFO: oldest first. LIFO: newest first. */
  order: 'FIFO' | 'LIFO'
  /** Which message is dropped when full. */
  drop: 'oldest' | 'newest'
}

/**
 * One bounded queue per topic type, declared in one table: a queue here is what protects
 * the node from peers that flood it. Health snapshots are processed in arrival order and
 * the oldest is dropped first (the newest state matters most); liquidity likewise.
 */
export const gossipQueueOptions: { [K in GossipType]: GossipQueueOptions } = {
  [GossipType.health]: { maxLength: 1024, order: 'FIFO', drop: 'oldest' },
  [GossipType.liquidity]: { maxLength: 1024, order: 'FIFO', drop: 'oldest' },
}

/** A bounded queue with a drop policy. `push` returns the dropped item, if any. */
export class BoundedQueue<T> {
  private items: T[] = []
  private head = 0
  constructor(readonly options: GossipQueueOptions) {}

  get length(): number {
    return this.items.length - this.head
  }

  push(item: T): T | undefined {
    let dropped: T | undefined
    if (this.length >= this.options.maxLength) {
      if (this.options.drop === 'newest') return item
      dropped = this.items[this.head]
      this.items[this.head++] = undefined as T
    }
    this.items.push(item)
    return dropped
  }

  /** Next item by the queue's order. */
  next(): T | undefined {
    if (this.length === 0) return undefined
    let item: T
    if (this.options.order === 'LIFO') item = this.items.pop() as T
    else {
      item = this.items[this.head]
      this.items[this.head++] = undefined as T
    }
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
    return item
  }

  clear(): T[] {
    const rest = this.items.slice(this.head)
    this.items = []
    this.head = 0
    return rest
  }
}
