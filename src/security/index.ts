// Public door of security/: accounts and roles, credentials, the
// challenge-response handshake (both sides), the opcode-to-role table and
// the safe-default check (docs/SECURITY.md).
export { ROLES, isRole, type Role } from './roles.js';
export { PERMISSIONS, opcodeMask, roleMay, type OpcodeMask } from './permissions.js';
export { Principal, type PrincipalScopes } from './principal.js';
export { Accounts, parseAccounts, loadAccountsFile, CREDENTIALS_FILE_ENV, ACCOUNT_NAME_PATTERN, MIN_SECRET_LENGTH, type Account } from './accounts.js';
export {
  checkCredential,
  parseCredential,
  loadCredentialFile,
  resolveCredential,
  CREDENTIAL_ENV,
  CREDENTIAL_FILE_ENV,
  REPLICA_CREDENTIAL_ENV,
  REPLICA_CREDENTIAL_FILE_ENV,
  type Credential,
} from './credential.js';
export { checkSecretFileMode } from './file-mode.js';
export { Authenticator, type AuthenticatorOptions, type PendingAuth } from './authenticator.js';
export { authenticate, type CallFn } from './client-handshake.js';
export { checkSafeBinding, isLoopbackHost } from './safe-binding.js';
export { writeRunCredentials, RUN_CREDENTIALS_FILE, type RunCredentials } from './run-credentials.js';
