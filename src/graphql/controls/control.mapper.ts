import type { ControlMetadata } from '../../controls/no-access-keys-at-setup/control.metadata';
import { toGlobalId } from '../common/node';
import type { Severity } from '../common/scalars';
import type { Control } from './control.type';

/** The metadata as written (severity `medium`, a readable id) in the API's shapes: a global id, an enum. */
export function toControl(c: ControlMetadata): Control {
  return { ...c, id: toGlobalId('Control', c.id), controlId: c.id, severity: c.severity.toUpperCase() as Severity };
}
