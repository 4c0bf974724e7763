/**
 * Build step: turns `protocol/proto/consensus.proto` into `schema.ts` (the protobufjs JSON
 * descriptor), so that the consensus codec loads its schema without file I/O.
 * Run `npx tsx protocol/consensus/generate-schema.ts` after editing the .proto file;
 * the unit test `test/unit/consensus/messages.test.ts` fails while they differ.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { schemaFromProto } from '../proto/generate.js'

const here = fileURLToPath(new URL('.', import.meta.url))
export const consensusProtoPath = `${here}../proto/consensus.proto`

/** The schema.ts text for the given .proto text. */
export function consensusSchemaSource(protoText: string): string {
  return (
    '// Generated from protocol/proto/consensus.proto by protocol/consensus/generate-schema.ts. Do not edit.\n' +
    `export const consensusSchema = ${JSON.stringify(schemaFromProto(protoText), null, 2)} as const\n`
  )
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(`${here}schema.ts`, consensusSchemaSource(readFileSync(consensusProtoPath, 'utf8')))
  console.log(`wrote ${here}schema.ts`)
}
