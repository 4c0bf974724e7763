/**
 * Command-line side of the configuration: every key of the schema becomes a dotted flag
 * (`--api.port <value>`) whose help line gives its description, its default and its
 * environment variable, so `liqnet <command> --help` documents every option.
 */
import { Option, type Command } from 'commander'
import { configKeys, envNameOf, loadConfig, type ConfigKey, type LoadedConfig } from './load.js'

const placeholder: Record<ConfigKey['type'], string> = {
  string: '<value>',
  number: '<n>',
  integer: '<n>',
  boolean: '<true|false>',
  'string[]': '<list>',
  json: '<json>',
}

const collect = (v: string, prev: string[] | undefined) => [...(prev ?? []), v]

function describe(k: ConfigKey): string {
  const parts = [k.description ?? '']
  if (k.type === 'string[]') parts.push('comma-separated or repeated')
  if (k.enum) parts.push(`one of ${k.enum.join(', ')}`)
  if (k.default !== undefined && !(Array.isArray(k.default) && k.default.length === 0) && !(typeof k.default === 'object' && !Array.isArray(k.default)))
    parts.push(`default: ${JSON.stringify(k.default)}`)
  parts.push(`env ${envNameOf(k.path)}`)
  return parts.filter(Boolean).join('; ')
}

/**
 * Adds `--config <file>` and one dotted flag per configuration key to `cmd`. The flags carry no
 * commander default (that would hide the file and the environment); defaults are shown in the help.
 */
export function addConfigOptions(cmd: Command, opts: { configFile?: boolean } = {}): Command {
  if (opts.configFile !== false) cmd.option('--config <file>', 'node config file (YAML or JSON); env LIQNET_CONFIG')
  for (const k of configKeys()) {
    const o = new Option(`--${k.path} ${placeholder[k.type]}`, describe(k))
    if (k.type === 'string[]') o.argParser(collect)
    cmd.addOption(o)
  }
  return cmd
}

/** The dotted flags among a command's parsed options. */
export function configFlagsOf(opts: Record<string, unknown>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const [k, v] of Object.entries(opts)) if (k.includes('.') && (typeof v === 'string' || Array.isArray(v))) out[k] = v as string | string[]
  return out
}

/**
 * Loads the configuration the way every command does: `--config` (or LIQNET_CONFIG), then the
 * environment, then the dotted flags. @throws ConfigError
 */
export function loadConfigFromCli(opts: Record<string, unknown>, env: Record<string, string | undefined> = process.env): LoadedConfig {
  const file = (opts.config as string | undefined) ?? env.LIQNET_CONFIG
  return loadConfig({ file, env, flags: configFlagsOf(opts) })
}
