import { CONSENSUS_TOPIC } from '../../../node/consensus/index.js'
import { cleanup, planConsensusCluster, startMember, stopMember, type RunningMember } from './helpers.js'
const n = 16
const plan = await planConsensusCluster(n, 'diag')
const running: RunningMember[] = await Promise.all(plan.members.map((_, i) => startMember(plan, i, { heightIntervalMs: 0 })))
for (let k = 0; k < 8; k++) {
  await new Promise((r) => setTimeout(r, 5000))
  console.log(k, 'subs', running.map((r) => r.host.pubsub.getSubscribers(CONSENSUS_TOPIC).length).join(','), 'conns', running.map((r) => r.host.libp2p.getPeers().length).join(','))
}
await Promise.all(running.map(stopMember)); cleanup(plan.dir); process.exit(0)
