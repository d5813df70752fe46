// The roles an account may have (docs/SECURITY.md "Credentials and roles").
// The list lives in protocol/ because the handshake's reply carries the role.
import { AUTH_ROLES, type AuthRole } from '../protocol/index.js';

export type Role = AuthRole;
export const ROLES: readonly Role[] = AUTH_ROLES;

export function isRole(v: unknown): v is Role {
  return typeof v === 'string' && (ROLES as readonly string[]).includes(v);
}
