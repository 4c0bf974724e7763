/**
 * Build step: turns `liqnet.proto` into `schema.ts` (the protobufjs JSON
 * descriptor), so that the codec loads the schema without file I/O.
 * Run `npx tsx protocol/proto/generate.ts` after editing the .proto file;
 * the unit test `test/unit/gossip/codec.test.ts` fails while they differ.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import protobuf from 'protobufjs'

export function schemaFromProto(protoText: string): unknown {
  return protobuf.parse(protoText, { keepCase: false }).root.toJSON()
}

const here = fileURLToPath(new URL('.', import.meta.url))
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const json = schemaFromProto(readFileSync(`${here}liqnet.proto`, 'utf8'))
  const out =
    '// Generated from liqnet.proto by protocol/proto/generate.ts. Do not edit.\n' +
    `export const liqnetSchema = ${JSON.stringify(json, null, 2)} as const\n`
  writeFileSync(`${here}schema.ts`, out)
  console.log(`wrote ${here}schema.ts`)
}
