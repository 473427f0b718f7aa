import { CONTROLS } from '../../controls/registry';
import type { FindingQuery, FindingView } from '../../services/findings.service';
import { toGlobalId } from '../common/node';
import { toAccessKeyStatus, type ScanSource } from '../common/scalars';
import type { Finding, FindingFilter } from './finding.type';

/** Evidence is stored as the control wrote it (IAM's casing, the exception's row id); the API's shapes are made here. */
export function toFinding(v: FindingView): Finding {
  const e = v.evidence;
  const exceptionLocalId = e.exceptionId ?? null;
  return {
    ...v,
    id: toGlobalId('Finding', v.localId),
    evidence: {
      ...e,
      accessKeyStatus: toAccessKeyStatus(e.accessKeyStatus),
      dataSource: e.dataSource as ScanSource,
      exceptionId: exceptionLocalId ? toGlobalId('AccessException', exceptionLocalId) : null,
      exceptionLocalId,
    },
  };
}

/** The API's filter as the service's query: a severity is the controls that have it (metadata, not a column). */
export function findingQuery(filter: FindingFilter | undefined): FindingQuery {
  const { severity, ...rest } = filter ?? {};
  if (!severity) return rest;
  return { ...rest, controlIds: CONTROLS.filter((c) => (severity as string[]).includes(c.severity.toUpperCase())).map((c) => c.id) };
}
