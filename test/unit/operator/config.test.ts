import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Command } from 'commander'
import { generateKeyPair } from '@libp2p/crypto/keys'
import {
  ConfigError,
  addConfigOptions,
  configFlagsOf,
  configKeys,
  defaultNodeConfig,
  defaultQuorum,
  envNameOf,
  gossipNodeOptionsOf,
  loadConfig,
  loadConfigFromCli,
  parseDottedArgs,
  quorumOf,
  signingDomainOf,
} from '../../../node/config/index.js'
import { defaultP2POptions } from '../../../node/p2p/host.js'

const ADDR = ['0x70997970C51812dc3A010C7d01b50e0d17dc79C8', '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC', '0x90F79bf6EB2c4f870365E785982E1f101E93b906', '0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65']
const MARKET = `0x${'ab'.repeat(32)}`

describe('node config', () => {
  let dir: string
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'liqnet-config-'))))
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  const file = (name: string, text: string) => {
    const p = join(dir, name)
    writeFileSync(p, text)
    return p
  }

  it('has defaults taken from the modules\' own constants', () => {
    assert.equal(defaultNodeConfig.api.host, '127.0.0.1')
    assert.equal(defaultNodeConfig.metrics.host, '127.0.0.1')
    assert.equal(defaultNodeConfig.p2p.maxConnections, defaultP2POptions.maxConnections)
    assert.equal(defaultNodeConfig.consensus.roundTimeoutBaseMs, 1000)
    assert.deepEqual(defaultNodeConfig.chains, [])
  })

  it('applies defaults < file < environment < flags', () => {
    const f = file('node.yaml', 'api:\n  port: 7000\n  horizonSeconds: 3600\nmetrics:\n  port: 7001\nlog:\n  level: debug\n')
    const env = { LIQNET_API__PORT: '8000', LIQNET_METRICS__PORT: '8001', PATH: '/bin' }
    const flags = { 'api.port': '9000' }
    const all = loadConfig({ file: f, env, flags }).config
    assert.equal(all.api.port, 9000) // flag over env over file
    assert.equal(all.metrics.port, 8001) // env over file
    assert.equal(all.api.horizonSeconds, 3600) // file over default
    assert.equal(all.log.level, 'debug')
    assert.equal(all.api.maxPageSize, 1000) // default
    assert.equal(loadConfig({ file: f, env }).config.api.port, 8000)
    assert.equal(loadConfig({ file: f }).config.api.port, 7000)
    assert.equal(loadConfig({}).config.api.port, 8080)
    const sources = loadConfig({ file: f, env, flags }).sources
    assert.equal(sources.get('api.port'), '--api.port')
    assert.equal(sources.get('metrics.port'), 'LIQNET_METRICS__PORT')
    assert.equal(sources.get('api.horizonSeconds'), f)
  })

  it('maps LIQNET_* variables: snake segments, __ nesting, lists, JSON, indexed list entries, open sections', () => {
    const f = file('node.json', JSON.stringify({ chains: [{ name: 'a', chainId: 31337, rpcUrls: ['http://127.0.0.1:1'] }] }))
    const c = loadConfig({
      file: f,
      env: {
        LIQNET_DATA_DIR: '/var/lib/liqnet',
        LIQNET_P2P__DIRECT_PEERS: '/ip4/127.0.0.1/tcp/9001/p2p/12D3KooWA, /ip4/127.0.0.1/tcp/9002/p2p/12D3KooWB',
        LIQNET_NETWORK__OPERATORS: JSON.stringify(ADDR),
        LIQNET_CHAINS__0__RPC_URLS: 'http://127.0.0.1:2,http://127.0.0.1:3',
        LIQNET_API__ENABLED: 'false',
        LIQNET_CONSENSUS__MAX_ROUNDS: '12',
        LIQNET_KEYSTORE_PASSWORD: 'not a key',
      },
    }).config
    assert.equal(c.dataDir, '/var/lib/liqnet')
    assert.deepEqual(c.p2p.directPeers, ['/ip4/127.0.0.1/tcp/9001/p2p/12D3KooWA', '/ip4/127.0.0.1/tcp/9002/p2p/12D3KooWB'])
    assert.deepEqual(c.network.operators, ADDR)
    assert.deepEqual(c.chains[0].rpcUrls, ['http://127.0.0.1:2', 'http://127.0.0.1:3'])
    assert.equal(c.chains[0].name, 'a') // the file's entry, merged
    assert.equal(c.api.enabled, false)
    assert.equal((c.consensus as Record<string, unknown>).maxRounds, 12)
    assert.equal(envNameOf('p2p.inboundConnectionThreshold'), 'LIQNET_P2P__INBOUND_CONNECTION_THRESHOLD')
    assert.equal(envNameOf('dataDir'), 'LIQNET_DATA_DIR')
  })

  it('reports every problem on its own line, naming the key, the rule and the source', () => {
    const f = file(
      'bad.yaml',
      ['chains:', '  - name: A', '    chainId: 1', '    rpcUrls: [ftp://x]', '    morpho: { address: "0x1", markets: [] }', 'apii: { port: 1 }', ''].join('\n'),
    )
    let err: unknown
    try {
      loadConfig({ file: f, env: { LIQNET_METRICS__PORT: 'ninety', LIQNET_LOGG__LEVEL: 'x' }, flags: { 'api.port': '70000' } })
    } catch (e) {
      err = e
    }
    assert.ok(err instanceof ConfigError, String(err))
    const lines = err.metaMessages!
    assert.equal(lines.length, err.problems.length)
    const by = (path: string) => err.problems.find((p) => p.path === path)
    assert.match(by('api.port')!.message, /65535/)
    assert.equal(by('api.port')!.source, '--api.port')
    assert.equal(by('metrics.port')!.source, 'LIQNET_METRICS__PORT')
    assert.equal(by('logg.level')!.message, 'unknown key')
    assert.equal(by('apii')!.message, 'unknown key')
    assert.match(by('chains.0.name')!.message, /lower-case/)
    assert.match(by('chains.0.rpcUrls.0')!.message, /http/)
    assert.match(by('chains.0.morpho.address')!.message, /20-byte/)
    assert.match(by('chains.0.morpho.markets')!.message, /at least one/)
    assert.equal(by('chains.0.name')!.source, f)
    for (const l of lines) assert.ok(!l.includes('\n'))
    assert.match(err.message, /^Invalid configuration \(8 problems\):/)
  })

  it('checks cross-field rules: duplicate chains, quorum, operator membership, hub chain', () => {
    const chain = (name: string, chainId: number) => ({ name, chainId, rpcUrls: ['http://127.0.0.1:1'] })
    assert.throws(
      () =>
        loadConfig({
          flags: {
            chains: JSON.stringify([chain('a', 1), chain('a', 1)]),
            'network.operators': ADDR.slice(0, 2),
            'network.quorum': '3',
            'network.hubChainId': '5',
            'operator.address': ADDR[3],
          },
        }),
      (e: unknown) =>
        e instanceof ConfigError &&
        ['chains.1.name', 'chains.1.chainId', 'network.quorum', 'operator.address', 'network.hubChainId'].every((p) => e.problems.some((x) => x.path === p)),
    )
  })

  it('resolves relative paths against the config file and maps onto the modules\' options', async () => {
    const f = file(
      'node.yaml',
      [
        'operator: { keystore: keys/op.json }',
        'dataDir: ./state',
        'chains:',
        `  - { name: a, chainId: 31337, rpcUrls: ["http://127.0.0.1:8545"], morpho: { address: "${ADDR[0]}", markets: ["${MARKET}"] } }`,
        '  - { name: b, chainId: 31338, rpcUrls: ["http://127.0.0.1:8546"] }',
        `network: { operators: ${JSON.stringify(ADDR)}, hubChainId: 31337, hub: "${ADDR[1]}" }`,
        'p2p: { peers: ["/ip4/127.0.0.1/tcp/9001/p2p/12D3KooWA"] }',
      ].join('\n'),
    )
    const { config } = loadConfig({ file: f })
    assert.equal(config.operator.keystore, join(dir, 'keys/op.json'))
    assert.equal(config.dataDir, join(dir, 'state'))
    assert.equal(config.p2p.peerKey, join(dir, 'peer.key'))
    assert.equal(quorumOf(config), 3)
    assert.deepEqual([1, 4, 7, 10].map(defaultQuorum), [1, 3, 5, 7])
    assert.deepEqual(signingDomainOf(config), { chainId: 31337, verifyingContract: ADDR[1] })
    const g = gossipNodeOptionsOf(config, await generateKeyPair('Ed25519'))
    assert.deepEqual(g.chainIds, [31337, 31338])
    assert.equal(g.storePath, join(dir, 'state', 'store'))
    assert.deepEqual(g.p2p?.staticPeers, ['/ip4/127.0.0.1/tcp/9001/p2p/12D3KooWA'])
    assert.equal(g.prune?.intervalMs, 60_000)
  })

  it('turns every key into a documented dotted flag, parsed back into the same layer', async () => {
    const cmd = addConfigOptions(new Command('start').exitOverride())
    const help = cmd.helpInformation()
    for (const k of configKeys()) {
      assert.ok(help.includes(`--${k.path} `), `--help lacks --${k.path}`)
      assert.ok(help.includes(envNameOf(k.path)), `--help lacks ${envNameOf(k.path)}`)
    }
    assert.match(help, /--api\.port <n>\s+port \(0 = any free port\); default: 8080; env LIQNET_API__PORT/)
    let seen: Record<string, unknown> = {}
    cmd.action((opts: Record<string, unknown>) => void (seen = opts))
    await cmd.parseAsync(['--api.port', '9100', '--p2p.peers', '/ip4/127.0.0.1/tcp/1/p2p/A', '--p2p.peers', '/ip4/127.0.0.1/tcp/2/p2p/B'], { from: 'user' })
    assert.deepEqual(configFlagsOf(seen), { 'api.port': '9100', 'p2p.peers': ['/ip4/127.0.0.1/tcp/1/p2p/A', '/ip4/127.0.0.1/tcp/2/p2p/B'] })
    const c = loadConfigFromCli(seen, { LIQNET_API__PORT: '1' }).config
    assert.equal(c.api.port, 9100)
    assert.equal(c.p2p.peers.length, 2)
    assert.deepEqual(parseDottedArgs(['start', '--api.port=1', '--metrics.port', '2', '-v']), { flags: { 'api.port': ['1'], 'metrics.port': ['2'] }, rest: ['start', '-v'] })
  })

  it('names an unreadable or malformed file in one line', () => {
    assert.throws(() => loadConfig({ file: join(dir, 'missing.yaml') }), (e: unknown) => e instanceof ConfigError && /cannot read the config file .*ENOENT/.test(e.problems[0].message))
    assert.throws(() => loadConfig({ file: file('x.yaml', 'api: [1, 2\n') }), (e: unknown) => e instanceof ConfigError && /not valid YAML/.test(e.problems[0].message))
    assert.throws(() => loadConfig({ file: file('y.yaml', '- 1\n') }), (e: unknown) => e instanceof ConfigError && /mapping/.test(e.problems[0].message))
  })
})
