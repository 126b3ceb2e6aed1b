/** The credential inputs (private-key, passphrase, password, the agent), read and checked once, before any host is contacted. */
import { existsSync } from 'node:fs'
import type { ParsedKey } from 'ssh2'
import { parseKey } from '../engine/ssh/ssh2.js'
import { isPuttyKey, PuttyKeyError, puttyToOpenSSH } from '../engine/ssh/ppk.js'
import type { Credentials } from '../engine/model.js'
import { InputError, type InputReader } from './input-error.js'

/** The run's credentials; `required` false when every host brings its own (an inventory's). */
export function readCredentials(read: InputReader, env: NodeJS.ProcessEnv, required = true): Credentials {
  const privateKey = read('private-key').trim()
  const passphrase = read('passphrase')
  const password = read('password')
  const agent = env.SSH_AUTH_SOCK && existsSync(env.SSH_AUTH_SOCK) ? env.SSH_AUTH_SOCK : undefined
  const credentials: Credentials = {}
  if (privateKey !== '' && isPuttyKey(privateKey)) {
    // ssh2 reads only PuTTY v2 RSA/DSA keys: convert every .ppk to an (unencrypted, in memory) OpenSSH key.
    credentials.privateKey = readPrivateKey(convertPuttyKey(privateKey, passphrase), '')
  } else if (privateKey !== '') {
    // Decrypted once here: every host's authentication reuses the parsed key (an encrypted
    // key's bcrypt KDF costs about 0.3 s of CPU; once per host it would dominate a big run).
    credentials.privateKey = readPrivateKey(`${privateKey}\n`, passphrase)
  } else if (passphrase !== '') {
    throw new InputError('passphrase', 'is set but private-key is empty; give the encrypted private key in private-key')
  }
  if (agent) credentials.agent = agent
  if (password !== '') credentials.password = password
  if (required && !credentials.privateKey && !credentials.agent && !credentials.password) {
    throw new InputError('private-key', 'no credentials: set private-key (recommended, from a secret), or password, or run with an SSH agent (SSH_AUTH_SOCK)')
  }
  return credentials
}

function convertPuttyKey(text: string, passphrase: string): string {
  try {
    return puttyToOpenSSH(text, passphrase === '' ? undefined : passphrase)
  } catch (err) {
    if (!(err instanceof PuttyKeyError)) throw err
    throw new InputError(err.reason === 'passphrase' ? 'passphrase' : 'private-key', err.message)
  }
}

/** Parses (and decrypts) the key once, up front, so a bad key or passphrase fails before any host is contacted. */
export function readPrivateKey(text: string, passphrase: string, input = 'private-key'): ParsedKey {
  const parsed = parseKey(text, passphrase === '' ? undefined : passphrase)
  const error = parsed instanceof Error ? parsed : null
  if (error) {
    if (/passphrase|decrypt|bad decrypt|integrity/i.test(error.message)) {
      const what = passphrase === '' ? 'the key is encrypted and passphrase is empty' : 'passphrase does not decrypt the key'
      throw new InputError('passphrase', `${what}; set passphrase to the key's passphrase (from a secret)`)
    }
    throw new InputError(
      input,
      `could not be read (${error.message}). Give the whole private key text, BEGIN and END lines included: OpenSSH, PEM or PuTTY (.ppk) format; RSA, ECDSA or Ed25519`,
    )
  }
  const key: ParsedKey | undefined = Array.isArray(parsed) ? (parsed as ParsedKey[])[0] : (parsed as ParsedKey)
  if (!key || key.isPrivateKey() !== true) {
    throw new InputError(input, 'holds a public key, not a private key. Give the private key text (the file without .pub)')
  }
  return key
}
