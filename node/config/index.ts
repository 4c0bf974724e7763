export { nodeConfigSchema, chainConfigSchema, defaultNodeConfig, defaultQuorum, logLevels, type NodeConfig, type NodeConfigInput, type ChainConfig } from './schema.js'
export {
  ConfigError,
  configKeys,
  envLayer,
  envNameOf,
  fileLayer,
  flagsLayer,
  loadConfig,
  mergeConfig,
  parseDottedArgs,
  resolvePaths,
  type ConfigErrorType,
  type ConfigKey,
  type ConfigProblem,
  type LoadConfigOptions,
  type LoadedConfig,
} from './load.js'
export { addConfigOptions, configFlagsOf, loadConfigFromCli } from './cli.js'
export { chainClientOptionsOf, gossipNodeOptionsOf, networkGapsOf, networkOf, p2pOptionsOf, publisherThresholdsOf, quorumOf, signingDomainOf, storePathOf } from './options.js'
