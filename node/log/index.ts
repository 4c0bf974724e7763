import { pino, type Logger, type LevelWithSilent } from 'pino'

export type { Logger }

/** Options of {@link createLogger}. */
export type LoggerOptions = {
  /** Minimum level written. @default 'info' */
  level?: LevelWithSilent
  /** Module name, written as the `module` field of every line. */
  module?: string
}

export const defaultLoggerOptions = { level: 'info' } as const satisfies LoggerOptions

/**
 * Structured JSON logs (pino), one object per line, written to stderr so that
 * stdout stays free for machine-readable output (`--json` reports, benchmarks).
 * bigint values are written as decimal strings.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? defaultLoggerOptions.level,
      base: options.module ? { module: options.module } : {},
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map((a) => (typeof a === 'object' && a !== null ? jsonSafe(a) : a)) as Parameters<typeof method>)
        },
      },
    },
    pino.destination({ fd: 2, sync: true }),
  )
}

function jsonSafe(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString()
  if (value instanceof Error) return value
  if (Array.isArray(value)) return value.map(jsonSafe)
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = jsonSafe(v)
    return out
  }
  return value
}
