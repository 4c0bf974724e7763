export {
  KeystoreAddressMismatchError,
  KeystoreExistsError,
  KeystoreReadError,
  WrongPasswordError,
  decryptKeystore,
  encryptKeystore,
  generateOperatorKey,
  kdfParams,
  keystoreAddress,
  readKeystoreFile,
  unlockOperatorKey,
  writeKeystoreFile,
  type KdfStrength,
  type KeystoreV3,
} from './keystore.js'
export { PASSWORD_ENV, PasswordError, resolvePassword, ttyPrompt, type PasswordPrompt, type PasswordSource } from './password.js'
