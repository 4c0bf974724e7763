/**
 * Where the keystore password comes from, first match wins:
 * 1. `--password-file` (or `operator.passwordFile`): the file's content, one trailing newline removed;
 * 2. the environment variable `LIQNET_KEYSTORE_PASSWORD`;
 * 3. an interactive prompt, when stdin is a terminal (input not echoed; asked twice when creating).
 */
import { readFile } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { Writable } from 'node:stream'
import { BaseError } from '../../protocol/errors.js'

export const PASSWORD_ENV = 'LIQNET_KEYSTORE_PASSWORD'

export type PasswordErrorType = PasswordError
export class PasswordError extends BaseError {
  override name = 'PasswordError'
  constructor(reason: string, cause?: unknown) {
    super(`Keystore password: ${reason}.`, { cause, metaMessages: [`Give --password-file <file>, set ${PASSWORD_ENV}, or run in a terminal to be asked.`] })
  }
}

/** Asks a question without echoing the answer. */
export type PasswordPrompt = (question: string) => Promise<string>

export type PasswordSource = {
  passwordFile?: string
  /** Environment to read {@link PASSWORD_ENV} from. @default {} (pass process.env explicitly) */
  env?: Record<string, string | undefined>
  /** Prompt to use when neither the file nor the variable gives one; `false` = never prompt. @default a TTY prompt when stdin is a TTY */
  prompt?: PasswordPrompt | false
}

/** Reads a password without echo on the terminal (stderr carries the question). */
export const ttyPrompt: PasswordPrompt = (question) =>
  new Promise((resolve, reject) => {
    let muted = false
    const out = new Writable({
      write(chunk, _enc, cb) {
        if (!muted) process.stderr.write(chunk)
        cb()
      },
    })
    const rl = createInterface({ input: process.stdin, output: out, terminal: true })
    rl.question(question, (answer) => {
      rl.close()
      process.stderr.write('\n')
      resolve(answer)
    })
    rl.on('SIGINT', () => {
      rl.close()
      reject(new PasswordError('prompt interrupted'))
    })
    muted = true
  })

/**
 * Resolves the password. With `confirm` (creating a keystore), a prompted password is asked twice
 * and must not be empty.
 * @throws PasswordError
 */
export async function resolvePassword(src: PasswordSource, opts: { confirm?: boolean } = {}): Promise<string> {
  let password: string | undefined
  if (src.passwordFile) {
    try {
      password = (await readFile(src.passwordFile, 'utf8')).replace(/\r?\n$/, '')
    } catch (err) {
      throw new PasswordError(`cannot read the password file ${src.passwordFile} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, err)
    }
  } else if (src.env?.[PASSWORD_ENV] !== undefined) {
    password = src.env[PASSWORD_ENV]
  } else {
    const prompt = src.prompt ?? (process.stdin.isTTY ? ttyPrompt : false)
    if (prompt === false) throw new PasswordError('none given and no terminal to ask on')
    password = await prompt('Keystore password: ')
    if (opts.confirm && (await prompt('Repeat the password: ')) !== password) throw new PasswordError('the two entries differ')
  }
  if (opts.confirm && password.length === 0) throw new PasswordError('must not be empty')
  return password
}
