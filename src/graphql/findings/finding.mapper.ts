import type { FindingView } from '../../services/findings.service';
import { toGlobalId } from '../common/node';
import type { Finding } from './finding.type';

export function toFinding(v: FindingView): Finding {
  return { ...v, id: toGlobalId('Finding', v.localId) };
}
