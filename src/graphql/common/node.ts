import { Field, ID, InterfaceType } from 'type-graphql';
import { isStorableText } from '../../services/page';
import { BadUserInputError } from './errors';

export type NodeType = 'Finding' | 'IamUser' | 'Scan' | 'RemediationAction' | 'AccessException' | 'Account' | 'Control';
const NODE_TYPES: NodeType[] = ['Finding', 'IamUser', 'Scan', 'RemediationAction', 'AccessException', 'Account', 'Control'];
// Ids whose local part is not a row's UUID: an IAM user (account/name), an account (12 digits), a control (its readable id).
const TEXT_IDS: NodeType[] = ['IamUser', 'Account', 'Control'];

/** nodes(ids): as many as a page holds; each id is one loader key, so a batch costs one query per type. */
export const MAX_NODE_IDS = 100;

// Resolvers return plain objects, so the concrete type is told by the global id's prefix.
@InterfaceType({
  description: 'An object with a global id (Relay).',
  resolveType: (value: { id: string }) => fromGlobalId(value.id).type,
})
export abstract class Node {
  @Field(() => ID, { description: 'Its global id: opaque, stable, and accepted by node(id) and nodes(ids).' })
  id!: string;
}

export function toGlobalId(type: NodeType, localId: string): string {
  return Buffer.from(`${type}:${localId}`).toString('base64url');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function fromGlobalId(globalId: string): { type: NodeType; localId: string } {
  const decoded = Buffer.from(globalId, 'base64url').toString('utf8');
  const colon = decoded.indexOf(':');
  const type = decoded.slice(0, colon) as NodeType;
  const localId = decoded.slice(colon + 1);
  if (colon < 1 || !NODE_TYPES.includes(type)) throw new BadUserInputError(`not a Keywarden id: ${globalId}`, 'id');
  // Every type but IamUser (account/user) and Account (its 12-digit id) has a UUID row id; anything else used to
  // reach PostgreSQL's uuid cast and fail there as an INTERNAL_SERVER_ERROR.
  const valid =
    type === 'IamUser' ? isStorableText(localId) : type === 'Account' ? /^\d{12}$/.test(localId) : type === 'Control' ? /^[a-z0-9.-]{1,100}$/.test(localId) : UUID.test(localId);
  if (!valid) throw new BadUserInputError(`not a Keywarden id: ${globalId}`, 'id');
  // One spelling per row: a UUID in capitals is the same row (and the same idempotency key, the same loader key).
  return { type, localId: TEXT_IDS.includes(type) ? localId : localId.toLowerCase() };
}

/** The local id of a global id of the given type, or null when it is not one (for ids given in bulk). */
export function tryLocalIdOf(type: NodeType, id: string): string | null {
  try {
    return localIdOf(type, id);
  } catch {
    return null;
  }
}

/**
 * Accepts a global id of the expected type; raw UUIDs are accepted too, for CLI users pasting scan ids. A UUID
 * comes back lower-case however it was spelt, so equal local ids mean the same row.
 */
export function localIdOf(type: NodeType, id: string): string {
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return id.toLowerCase();
  const parsed = fromGlobalId(id);
  if (parsed.type !== type) throw new BadUserInputError(`expected a ${type} id, got a ${parsed.type} id`, 'id');
  return parsed.localId;
}
