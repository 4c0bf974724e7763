/**
 * Build step: turns `protocol/proto/proposal.proto` into `schema.ts` (the protobufjs JSON descriptor).
 * Run `npx tsx protocol/proposal/generate.ts` after editing the .proto file; the unit test
 * `test/unit/proposal/codec.test.ts` fails while they differ.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { schemaFromProto } from '../proto/generate.js'

const here = fileURLToPath(new URL('.', import.meta.url))
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const json = schemaFromProto(readFileSync(`${here}../proto/proposal.proto`, 'utf8'))
  const out =
    '// Generated from protocol/proto/proposal.proto by protocol/proposal/generate.ts. Do not edit.\n' +
    `export const proposalSchema = ${JSON.stringify(json, null, 2)} as const\n`
  writeFileSync(`${here}schema.ts`, out)
  console.log(`wrote ${here}schema.ts`)
}
