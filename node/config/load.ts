/**
 * Loading of the node configuration from its four sources, lowest to highest precedence:
 *
 *   defaults  <  file (YAML or JSON, `--config`)  <  environment `LIQNET_*`  <  dotted flags (`--api.port 9001`)
 *
 * Environment mapping: `LIQNET_` + the key path, segments separated by `__`, each segment in
 * SCREAMING_SNAKE_CASE of the camelCase key: `api.port` ← `LIQNET_API__PORT`, `dataDir` ←
 * `LIQNET_DATA_DIR`, `p2p.directPeers` ← `LIQNET_P2P__DIRECT_PEERS`, `chains[0].rpcUrls` ←
 * `LIQNET_CHAINS__0__RPC_URLS`. Values are strings converted by the key's type: numbers, `true`/`false`,
 * lists as comma-separated values or a JSON array, objects and lists of objects (`LIQNET_CHAINS`)
 * as JSON. `LIQNET_KEYSTORE_PASSWORD` and `LIQNET_CONFIG` are not keys (they are read elsewhere);
 * any other unknown `LIQNET_*` variable is an error, so a typo is not silently ignored.
 *
 * Every problem, whatever its source, becomes one line of a {@link ConfigError} naming the key, the
 * rule, and where the value came from.
 */
import { readFileSync } from 'node:fs'
import { dirname, isAbsolute, resolve } from 'node:path'
import YAML from 'yaml'
import { z } from 'zod'
import { BaseError } from '../../protocol/errors.js'
import { nodeConfigSchema, type NodeConfig } from './schema.js'

// ---------------------------------------------------------------- errors

/** One problem of a configuration: the key path (`api.port`), what is wrong, and where the value came from. */
export type ConfigProblem = { path: string; message: string; source?: string }

export type ConfigErrorType = ConfigError
/** A configuration that cannot be used. Its message has one line per problem. */
export class ConfigError extends BaseError {
  override name = 'ConfigError'
  readonly problems: ConfigProblem[]
  constructor(problems: ConfigProblem[]) {
    super(`Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):`, {
      metaMessages: problems.map(formatProblem),
    })
    this.problems = problems
  }
}

export function formatProblem(p: ConfigProblem): string {
  return `  ${p.path || '(root)'}: ${p.message}${p.source ? ` (from ${p.source})` : ''}`
}

// ---------------------------------------------------------------- keys

/** A settable key of the configuration, derived from the schema. */
export type ConfigKey = {
  /** Dotted path, e.g. `api.port`. */
  path: string
  type: 'string' | 'number' | 'integer' | 'boolean' | 'string[]' | 'json'
  description?: string
  default?: unknown
  enum?: readonly string[]
}

type JsonSchema = {
  type?: string | string[]
  properties?: Record<string, JsonSchema>
  additionalProperties?: boolean | JsonSchema
  items?: JsonSchema
  default?: unknown
  description?: string
  enum?: string[]
  anyOf?: JsonSchema[]
}

let cachedJsonSchema: JsonSchema | undefined
function jsonSchema(): JsonSchema {
  return (cachedJsonSchema ??= z.toJSONSchema(nodeConfigSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema)
}

function leafType(s: JsonSchema): ConfigKey['type'] {
  const t = Array.isArray(s.type) ? s.type[0] : s.type
  if (t === 'array') return s.items?.type === 'string' ? 'string[]' : 'json'
  if (t === 'object') return 'json'
  if (t === 'integer' || t === 'number' || t === 'boolean') return t
  return 'string'
}

/** Every settable key of the configuration (leaves of the schema; lists of objects are one JSON key). */
export function configKeys(): ConfigKey[] {
  const out: ConfigKey[] = []
  const walk = (s: JsonSchema, path: string[]) => {
    if (s.type === 'object' && s.properties) {
      for (const [k, v] of Object.entries(s.properties)) walk(v, [...path, k])
      return
    }
    out.push({ path: path.join('.'), type: leafType(s), description: s.description, default: s.default, enum: s.enum })
  }
  walk(jsonSchema(), [])
  return out
}

/** Schema node at a path (numeric segments index lists), or `undefined` if no such key. `open` when inside an open section. */
function schemaAt(path: readonly string[]): { node?: JsonSchema; open: boolean } {
  let node: JsonSchema | undefined = jsonSchema()
  for (const seg of path) {
    if (!node) return { open: false }
    if (node.type === 'array' && /^\d+$/.test(seg)) {
      node = node.items
      continue
    }
    const next: JsonSchema | undefined = node.properties?.[seg]
    if (!next) return { node: undefined, open: node.type === 'object' && node.additionalProperties !== false && node.additionalProperties !== undefined }
    node = next
  }
  return { node, open: false }
}

// ---------------------------------------------------------------- value conversion

const camelToSnake = (k: string) => k.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()
const snakeToCamel = (k: string) => k.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase())

/** `api.port` → `LIQNET_API__PORT`. */
export function envNameOf(path: string): string {
  return `LIQNET_${path.split('.').map(camelToSnake).join('__')}`
}

/** Environment variables with the LIQNET_ prefix that are not configuration keys. */
export const reservedEnv = new Set(['LIQNET_KEYSTORE_PASSWORD', 'LIQNET_CONFIG'])

class ValueError extends Error {}

/** Converts a string from the environment or a flag to the key's type (zod then checks the rules). */
function convert(raw: string, node: JsonSchema | undefined): unknown {
  const type = node ? leafType(node) : 'json'
  switch (type) {
    case 'integer':
    case 'number': {
      const n = Number(raw.trim())
      return raw.trim() !== '' && Number.isFinite(n) ? n : raw
    }
    case 'boolean': {
      const v = raw.trim().toLowerCase()
      if (v === 'true' || v === '1' || v === 'yes') return true
      if (v === 'false' || v === '0' || v === 'no') return false
      return raw
    }
    case 'string[]':
      if (raw.trim().startsWith('[')) return parseJson(raw)
      return raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0)
    case 'json':
      if (!node) {
        // A key of an open section: JSON if it parses, else the string.
        try {
          return JSON.parse(raw)
        } catch {
          return raw
        }
      }
      return parseJson(raw)
    default:
      return raw
  }
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw)
  } catch {
    throw new ValueError('expected JSON')
  }
}

/** Marks lists built from indexed keys (`LIQNET_CHAINS__0__...`): merged element-wise, not replaced. */
const INDEXED = Symbol('indexed')

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let o: Record<string, unknown> | unknown[] = target
  for (let i = 0; i < path.length - 1; i++) {
    const seg = path[i]
    const nextIsIndex = /^\d+$/.test(path[i + 1])
    const cur = (o as Record<string, unknown>)[seg]
    if (typeof cur !== 'object' || cur === null) (o as Record<string, unknown>)[seg] = nextIsIndex ? Object.assign([], { [INDEXED]: true }) : {}
    o = (o as Record<string, unknown>)[seg] as Record<string, unknown>
  }
  ;(o as Record<string, unknown>)[path[path.length - 1]] = value
}

/** A partial configuration from one source, with where each key came from. */
export type ConfigLayer = { values: Record<string, unknown>; sources: Map<string, string>; problems: ConfigProblem[] }

function emptyLayer(): ConfigLayer {
  return { values: {}, sources: new Map(), problems: [] }
}

/** Adds one `path = raw string` assignment to a layer (environment and flags). */
function assign(layer: ConfigLayer, path: string[], raw: string, source: string): void {
  const dotted = path.join('.')
  const { node, open } = schemaAt(path)
  if (!node && !open) {
    layer.problems.push({ path: dotted, message: 'unknown key', source })
    return
  }
  try {
    setPath(layer.values, path, convert(raw, node))
    layer.sources.set(dotted, source)
  } catch (err) {
    layer.problems.push({ path: dotted, message: err instanceof ValueError ? err.message : String(err), source })
  }
}

/** Reads the `LIQNET_*` variables of `env` (see the module comment for the mapping). */
export function envLayer(env: Record<string, string | undefined>): ConfigLayer {
  const layer = emptyLayer()
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('LIQNET_') || raw === undefined || reservedEnv.has(name)) continue
    const path = name.slice('LIQNET_'.length).split('__').map((seg) => (/^\d+$/.test(seg) ? seg : snakeToCamel(seg)))
    assign(layer, path, raw, name)
  }
  return layer
}

/** Reads dotted flags: `{ 'api.port': '9001' }` (as commander gives them, or from {@link parseDottedArgs}). */
export function flagsLayer(flags: Record<string, string | string[] | boolean | undefined>): ConfigLayer {
  const layer = emptyLayer()
  for (const [key, v] of Object.entries(flags)) {
    if (v === undefined) continue
    const raw = Array.isArray(v) ? (v.length === 1 && v[0].trim().startsWith('[') ? v[0] : v.join(',')) : String(v)
    assign(layer, key.split('.'), raw, `--${key}`)
  }
  return layer
}

/** Reads a YAML or JSON file (YAML is a superset of JSON). */
export function fileLayer(path: string): ConfigLayer {
  const layer = emptyLayer()
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    layer.problems.push({ path: '', message: `cannot read the config file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}` })
    return layer
  }
  let doc: unknown
  try {
    doc = YAML.parse(text) ?? {}
  } catch (err) {
    layer.problems.push({ path: '', message: `${path} is not valid YAML/JSON: ${(err as Error).message.split('\n')[0]}` })
    return layer
  }
  if (typeof doc !== 'object' || Array.isArray(doc) || doc === null) {
    layer.problems.push({ path: '', message: `${path} must hold a mapping of keys` })
    return layer
  }
  layer.values = doc as Record<string, unknown>
  const mark = (o: unknown, p: string[]) => {
    if (typeof o === 'object' && o !== null && !Array.isArray(o)) for (const [k, v] of Object.entries(o)) mark(v, [...p, k])
    else layer.sources.set(p.join('.'), path)
  }
  mark(doc, [])
  return layer
}

/**
 * Parses `--a.b value`, `--a.b=value` pairs out of an argument list (repeated keys accumulate).
 * Arguments that are not dotted flags are returned in `rest`.
 */
export function parseDottedArgs(args: readonly string[]): { flags: Record<string, string[]>; rest: string[] } {
  const flags: Record<string, string[]> = {}
  const rest: string[] = []
  for (let i = 0; i < args.length; i++) {
    const m = /^--([a-zA-Z][\w-]*(?:\.[\w-]+)+)(?:=(.*))?$/.exec(args[i])
    if (!m) {
      rest.push(args[i])
      continue
    }
    const value = m[2] ?? args[++i]
    ;(flags[m[1]] ??= []).push(value ?? '')
  }
  return { flags, rest }
}

// ---------------------------------------------------------------- merge and validate

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Deep merge: objects merge key by key, lists and scalars are replaced. */
export function mergeConfig(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base }
  for (const [k, v] of Object.entries(over)) {
    if (isPlainObject(v) && isPlainObject(out[k])) out[k] = mergeConfig(out[k] as Record<string, unknown>, v)
    else if (Array.isArray(v) && Array.isArray(out[k]) && (v as unknown as { [INDEXED]?: boolean })[INDEXED]) {
      // Sparse list from indexed keys (LIQNET_CHAINS__1__...): merge element-wise.
      const list = [...(out[k] as unknown[])]
      v.forEach((x, i) => {
        if (x !== undefined && x !== null) list[i] = isPlainObject(x) && isPlainObject(list[i]) ? mergeConfig(list[i] as Record<string, unknown>, x) : x
      })
      out[k] = list
    } else out[k] = v
  }
  return out
}

export type LoadConfigOptions = {
  /** Path of a YAML or JSON config file. Relative paths inside it resolve against its directory. */
  file?: string
  /** The environment (only `LIQNET_*` variables are read). @default {} (pass `process.env` explicitly) */
  env?: Record<string, string | undefined>
  /** Dotted flags, `{ 'api.port': '9001' }`. */
  flags?: Record<string, string | string[] | boolean | undefined>
  /** Base directory of relative paths when there is no file. @default process.cwd() */
  cwd?: string
}

/** A loaded configuration with where each set key came from. */
export type LoadedConfig = { config: NodeConfig; sources: Map<string, string>; baseDir: string }

/**
 * Loads, merges and validates the configuration; relative paths (`operator.keystore`,
 * `operator.passwordFile`, `dataDir`, `p2p.peerKey`) are made absolute against the config file's
 * directory (else `cwd`).
 *
 * @throws ConfigError listing every problem, one per line.
 */
export function loadConfig(options: LoadConfigOptions = {}): LoadedConfig {
  const layers = [options.file ? fileLayer(options.file) : emptyLayer(), envLayer(options.env ?? {}), flagsLayer(options.flags ?? {})]
  const problems = layers.flatMap((l) => l.problems)
  const sources = new Map<string, string>()
  let merged: Record<string, unknown> = {}
  for (const l of layers) {
    merged = mergeConfig(merged, l.values)
    for (const [k, v] of l.sources) sources.set(k, v)
  }
  const parsed = nodeConfigSchema.safeParse(merged)
  if (!parsed.success) problems.push(...parsed.error.issues.flatMap((issue) => issueProblems(issue, sources, merged)))
  if (problems.length || !parsed.success) throw new ConfigError(problems)
  const baseDir = options.file ? dirname(resolve(options.file)) : resolve(options.cwd ?? process.cwd())
  return { config: resolvePaths(parsed.data, baseDir), sources, baseDir }
}

function issueProblems(issue: z.core.$ZodIssue, sources: Map<string, string>, input: Record<string, unknown>): ConfigProblem[] {
  const path = issue.path.map(String)
  const sourceOf = (p: string[]) => {
    for (let n = p.length; n > 0; n--) {
      const s = sources.get(p.slice(0, n).join('.'))
      if (s) return s
    }
    const prefix = `${p.join('.')}.`
    for (const [k, s] of sources) if (k.startsWith(prefix)) return s
    return undefined
  }
  const valueAt = (p: string[]) => p.reduce<unknown>((o, seg) => (typeof o === 'object' && o !== null ? (o as Record<string, unknown>)[seg] : undefined), input)
  if (issue.code === 'unrecognized_keys')
    return issue.keys.map((k) => ({ path: [...path, k].join('.'), message: 'unknown key', source: sourceOf([...path, k]) }))
  let message = issue.message
  if (issue.code === 'invalid_type') {
    const v = valueAt(path)
    message = v === undefined ? `required (${issue.expected})` : `expected ${issue.expected}, got ${JSON.stringify(v)}`
  }
  return [{ path: path.join('.'), message, source: sourceOf(path) }]
}

/** Makes the config's relative file paths absolute against `baseDir`. */
export function resolvePaths(c: NodeConfig, baseDir: string): NodeConfig {
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p))
  return {
    ...c,
    dataDir: abs(c.dataDir),
    operator: { ...c.operator, keystore: abs(c.operator.keystore), ...(c.operator.passwordFile ? { passwordFile: abs(c.operator.passwordFile) } : {}) },
    p2p: { ...c.p2p, peerKey: abs(c.p2p.peerKey) },
  }
}
