import { BaseError } from '../errors.js'
import type { RejectReason } from './types.js'

/** The validator set or the options are unusable; names the offending field. */
export class QbftConfigError extends BaseError {
  override name = 'QbftConfigError' as const
  readonly field: string
  constructor(field: string, rule: string) {
    super(`Invalid QBFT configuration "${field}": ${rule}.`, {
      metaMessages: [`Field: ${field}`, 'See docs/consensus.md for the configuration.'],
    })
    this.field = field
  }
}

/** `start(height)` was called for a height that is behind, decided or already running. */
export class QbftStartError extends BaseError {
  override name = 'QbftStartError' as const
  readonly height: bigint
  constructor(height: bigint, rule: string) {
    super(`Cannot start QBFT height ${height}: ${rule}.`, {
      metaMessages: ['Start each height once, in increasing order, after the previous one decided.'],
    })
    this.height = height
  }
}

/** A consensus packet could not be decoded or breaks a field rule; `code` is the receive reason. */
export class QbftDecodeError extends BaseError {
  override name = 'QbftDecodeError' as const
  readonly code: Extract<RejectReason, 'MALFORMED' | 'OVERSIZED' | 'TOO_MANY_JUSTIFICATIONS'>
  readonly field?: string
  constructor(code: QbftDecodeError['code'], message: string, opts: { field?: string; cause?: unknown } = {}) {
    super(`Cannot decode consensus packet: ${message}.`, {
      cause: opts.cause,
      metaMessages: opts.field ? [`Field: ${opts.field}`, 'See docs/consensus.md for the wire rules.'] : ['See docs/consensus.md.'],
    })
    this.code = code
    this.field = opts.field
  }
}

/** A packet to encode breaks a field rule (e.g. a digest that is not 32 bytes). */
export class QbftEncodeError extends BaseError {
  override name = 'QbftEncodeError' as const
  readonly field: string
  constructor(field: string, rule: string) {
    super(`Cannot encode consensus field ${field}: ${rule}.`, { metaMessages: ['See docs/consensus.md for the wire rules.'] })
    this.field = field
  }
}
