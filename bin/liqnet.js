#!/usr/bin/env node
// liqnet runs its TypeScript sources directly through tsx's loader.
import { register } from 'tsx/esm/api'

register()
await import('../node/cli/main.ts')
