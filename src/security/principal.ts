// Who is on an authenticated connection: the account's name, role and
// scopes, with the checks handlers make on a request's body (a consumer's
// group, a producer's topic, a broker's name). The opcode check itself is the
// role's precomputed mask (permissions.ts).
import { AccessDeniedError } from '../common/index.js';
import { opcodeMask, type OpcodeMask } from './permissions.js';
import type { Role } from './roles.js';

export interface PrincipalScopes {
  /** Broker accounts: the broker names it may register, refresh and unregister. */
  brokerNames?: readonly string[];
  /** Consumer accounts: the groups it may act for (all when absent). */
  groups?: readonly string[];
  /** Producer accounts: the topics it may send to (all when absent). */
  topics?: readonly string[];
}

export class Principal {
  readonly name: string;
  readonly role: Role;
  /** 1 at each opcode this principal may send (shared per role; read only). */
  readonly mask: OpcodeMask;
  readonly brokerNames: ReadonlySet<string> | undefined;
  readonly groups: ReadonlySet<string> | undefined;
  readonly topics: ReadonlySet<string> | undefined;

  constructor(name: string, role: Role, scopes: PrincipalScopes = {}) {
    this.name = name;
    this.role = role;
    this.mask = opcodeMask(role);
    this.brokerNames = scopes.brokerNames === undefined ? undefined : new Set(scopes.brokerNames);
    this.groups = scopes.groups === undefined ? undefined : new Set(scopes.groups);
    this.topics = scopes.topics === undefined ? undefined : new Set(scopes.topics);
  }

  /** Whether this principal may send `opcode` at all. */
  may(opcode: number): boolean {
    return this.mask[opcode] === 1;
  }

  /** A consumer scoped to groups acts only for those. */
  checkGroup(group: string, what: string): void {
    if (this.role === 'admin' || this.groups === undefined || this.groups.has(group)) return;
    throw new AccessDeniedError(`account ${JSON.stringify(this.name)} may not ${what} for group ${JSON.stringify(group)} (its groups: ${[...this.groups].join(', ')})`);
  }

  /** A producer scoped to topics sends only to those. */
  checkTopic(topic: string): void {
    if (this.role === 'admin' || this.topics === undefined || this.topics.has(topic)) return;
    throw new AccessDeniedError(`account ${JSON.stringify(this.name)} may not send to topic ${JSON.stringify(topic)} (its topics: ${[...this.topics].join(', ')})`);
  }

  /** Only a broker account holding the name (or admin) may register, refresh or unregister it. */
  checkBrokerName(brokerName: string, what: string): void {
    if (this.role === 'admin' || (this.role === 'broker' && this.brokerNames?.has(brokerName) === true)) return;
    throw new AccessDeniedError(`account ${JSON.stringify(this.name)} may not ${what} broker name ${JSON.stringify(brokerName)}${this.brokerNames === undefined ? '' : ` (its broker names: ${[...this.brokerNames].join(', ')})`}`);
  }
}
