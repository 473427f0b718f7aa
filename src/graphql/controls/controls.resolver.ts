import { Authorized, Arg, ID, Query, Resolver } from 'type-graphql';
import { CONTROLS, controlById } from '../../controls/registry';
import { fromGlobalId } from '../common/node';
import { Control } from './control.type';
import { toControl } from './control.mapper';

@Authorized('findings:read')
@Resolver(() => Control)
export class ControlsResolver {
  @Query(() => [Control], { description: 'Every control Keywarden evaluates.' })
  controls(): Control[] {
    return CONTROLS.map(toControl);
  }

  @Query(() => Control, { nullable: true, description: 'One control, by its global id or its readable controlId; null when there is none.' })
  control(@Arg('id', () => ID, { description: 'The control\'s global id (Control.id) or its controlId.' }) id: string): Control | null {
    const found = controlById(id) ?? controlById(controlIdOf(id));
    return found ? toControl(found) : null;
  }
}

function controlIdOf(id: string): string {
  try {
    const parsed = fromGlobalId(id);
    return parsed.type === 'Control' ? parsed.localId : '';
  } catch {
    return '';
  }
}
