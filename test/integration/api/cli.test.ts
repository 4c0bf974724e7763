import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { getFreePort } from '../../../chains/devnet/ports.js'
import { Command } from 'commander'
import { formatStatus, parseMetrics, readNodeStatus } from '../../../node/cli/status.js'
import { initNode, registerInit } from '../../../node/cli/init.js'
import { ConfigError, loadConfig } from '../../../node/config/load.js'
import { WrongPasswordError, unlockOperatorKey } from '../../../node/keystore/keystore.js'
import { createMetricsRegistry } from '../../../node/metrics/registry.js'
import { startMetricsServer, type MetricsServer } from '../../../node/metrics/server.js'

const BIN = fileURLToPath(new URL('../../../bin/liqnet.js', import.meta.url))

function liqnet(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    )
  })
}

describe('liqnet init and liqnet status (the CLI as a process)', function () {
  this.timeout(90_000)
  let dir: string
  let server: MetricsServer | undefined
  before(() => (dir = mkdtempSync(join(tmpdir(), 'liqnet-cli-'))))
  after(async () => {
    await server?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('init creates an encrypted keystore, a peer key and a valid config, completes an existing directory, and validates its flags', async () => {
    const node = join(dir, 'node')
    const pw = join(dir, 'pw')
    writeFileSync(pw, 'hunter2\n')
    const r = await initNode({ dir: node, passwordFile: pw, kdf: 'insecure-test', overrides: { 'api.port': '9100', 'p2p.listen': ['/ip4/127.0.0.1/tcp/9101'] } })
    assert.deepEqual(r.created, { keystore: true, peerKey: true, config: true })
    assert.ok(existsSync(join(node, 'peer.key')) && existsSync(join(node, 'data')))
    const { config } = loadConfig({ file: r.configFile })
    assert.equal(config.api.port, 9100)
    assert.deepEqual(config.p2p.listen, ['/ip4/127.0.0.1/tcp/9101'])
    assert.equal(config.operator.address, r.operator)
    assert.deepEqual(config.network.operators, [r.operator])
    assert.equal(config.operator.keystore, r.keystoreFile)
    assert.equal((await unlockOperatorKey(config.operator.keystore, 'hunter2')).address.toLowerCase(), r.operator.toLowerCase())
    const keystore = readFileSync(r.keystoreFile, 'utf8')
    assert.ok(!keystore.includes('hunter2'))
    // Again: everything kept, same peer id; a wrong password fails and overwrites nothing.
    const again = await initNode({ dir: node, env: { LIQNET_KEYSTORE_PASSWORD: 'hunter2' } })
    assert.deepEqual(again.created, { keystore: false, peerKey: false, config: false })
    assert.equal(again.peerId, r.peerId)
    await assert.rejects(initNode({ dir: node, env: { LIQNET_KEYSTORE_PASSWORD: 'hunter3' } }), WrongPasswordError)
    assert.equal(readFileSync(r.keystoreFile, 'utf8'), keystore)
    // Bad flags: nothing is created.
    await assert.rejects(initNode({ dir: join(dir, 'other'), overrides: { 'api.port': '99999', 'metrics.host': 'localhost:1' }, env: { LIQNET_KEYSTORE_PASSWORD: 'x' } }), (e: unknown) =>
      e instanceof ConfigError && e.problems.map((p) => p.path).sort().join() === 'api.port,metrics.host')
    assert.ok(!existsSync(join(dir, 'other', 'keystore.json')))
    // --help documents every option with its default.
    const program = new Command()
    registerInit(program)
    const help = program.commands[0].helpInformation()
    for (const flag of ['--dir', '--password-file', '--force', '--kdf', '--api.port', '--metrics.port', '--p2p.listen', '--network.operators', '--consensus.roundTimeoutBaseMs'])
      assert.ok(help.includes(flag), `init --help lacks ${flag}`)
    assert.match(help, /default: 9464/)
  })

  it('status summarises a node from its metrics port (ready, then degraded with the RPC named)', async () => {
    let rpcUp = true
    server = await startMetricsServer({
      register: createMetricsRegistry(),
      port: 0,
      checks: [{ name: 'rpc:chain-a', check: () => (rpcUp ? { ok: true, info: { head: 42 } } : { ok: false, detail: 'connection refused' }) }],
    })
    const s = await readNodeStatus(server.url)
    assert.equal(s.ready, true)
    assert.equal(s.alive, true)
    assert.deepEqual(s.chains, { 'chain-a': { ok: true, head: 42 } })
    rpcUp = false
    const d = await readNodeStatus(server.url)
    assert.equal(d.ready, false)
    assert.deepEqual(d.failing, ['rpc:chain-a'])
    const text = formatStatus(d)
    assert.match(text, /ready {5}DEGRADED \(rpc:chain-a\)/)
    assert.match(text, /chain {5}chain-a: RPC DOWN \(connection refused\)/)
    assert.deepEqual(parseMetrics('# HELP x\nliqnet_p2p_peers 3\nliqnet_settlement_legs{state="executed"} 2\n'), [
      { name: 'liqnet_p2p_peers', labels: {}, value: 3 },
      { name: 'liqnet_settlement_legs', labels: { state: 'executed' }, value: 2 },
    ])
  })

  it('as processes: a wrong keystore password, an unreachable node and a degraded node each exit non-zero with one line', async () => {
    const node = join(dir, 'node')
    const free = await getFreePort()
    const [wrong, down, degraded] = await Promise.all([
      liqnet(['init', '--dir', node], { LIQNET_KEYSTORE_PASSWORD: 'hunter3' }),
      liqnet(['status', '--metrics.port', String(free)]),
      liqnet(['status', '--url', server!.url, '--json']),
    ])
    assert.equal(wrong.code, 1)
    assert.equal(wrong.stderr.trim(), `WrongPasswordError: Wrong password for the keystore ${join(node, 'keystore.json')}: check --password-file or LIQNET_KEYSTORE_PASSWORD.`)
    assert.equal(down.code, 1)
    assert.equal(down.stderr.split('\n')[0], `NodeUnreachableError: No liqnet node answers at http://127.0.0.1:${free}; is it running, and is metrics.port right?`)
    assert.equal(degraded.code, 2)
    assert.deepEqual(JSON.parse(degraded.stdout).failing, ['rpc:chain-a'])
  })
})
