import type { FindingEvent } from '../../domain/lifecycle';
import type { FindingChangePage, FindingChangeView } from '../../services/finding-changes.service';
import type { FindingChange, FindingChangeConnection, FindingChangeType } from './finding-change.type';

// The change log's event names (finding.opened, ...) as the schema's enum values (OPENED, ...).
export const toFindingChangeType = (type: FindingEvent) => type.slice('finding.'.length).toUpperCase() as FindingChangeType;
export const fromFindingChangeType = (type: FindingChangeType) => `finding.${type.toLowerCase()}` as FindingEvent;

export function toFindingChange(v: FindingChangeView): FindingChange {
  return { ...v, type: toFindingChangeType(v.type) };
}

/** Like toConnection, but endCursor comes from the page: a client resumes from it after an empty page too. */
export function toFindingChangeConnection(page: FindingChangePage): FindingChangeConnection {
  const nodes = page.nodes.map(toFindingChange);
  return {
    nodes,
    get edges() {
      return nodes.map((node, i) => ({ node, cursor: page.nodes[i].cursor }));
    },
    totalCount: page.totalCount,
    pageInfo: { hasNextPage: page.hasNextPage, hasPreviousPage: false, startCursor: page.nodes[0]?.cursor ?? null, endCursor: page.endCursor },
  };
}
