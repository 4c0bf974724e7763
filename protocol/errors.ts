/**
 * The one error base class that users of liqnet see, after viem's `BaseError`:
 * a fixed `name`, a one-line `shortMessage`, optional `details` and
 * `metaMessages` (what to do next), and the `cause` chain.
 *
 * Subclasses set `name` to a constant string and never rely on the message
 * text for control flow; codes, not messages, become metric labels.
 */
export type BaseErrorParameters = {
  /** Lower-level error that caused this one. */
  cause?: unknown
  /** Technical detail, e.g. the RPC error text. */
  details?: string
  /** Extra lines, e.g. the offending field, or what to do next. */
  metaMessages?: string[]
}

export class BaseError extends Error {
  override name = 'LiqnetError'
  readonly shortMessage: string
  readonly details?: string
  readonly metaMessages?: string[]

  constructor(shortMessage: string, parameters: BaseErrorParameters = {}) {
    const details =
      parameters.details ??
      (parameters.cause instanceof Error ? parameters.cause.message : undefined)
    const lines = [shortMessage]
    if (parameters.metaMessages?.length) lines.push('', ...parameters.metaMessages)
    if (details && details !== shortMessage) lines.push('', `Details: ${details}`)
    super(lines.join('\n'), parameters.cause === undefined ? undefined : { cause: parameters.cause })
    this.shortMessage = shortMessage
    this.details = details
    this.metaMessages = parameters.metaMessages
  }

  /** Walks the `cause` chain and returns the first error `fn` accepts. */
  walk(fn: (err: unknown) => boolean): unknown {
    let err: unknown = this
    while (err) {
      if (fn(err)) return err
      err = err instanceof Error ? err.cause : undefined
    }
    return undefined
  }
}
