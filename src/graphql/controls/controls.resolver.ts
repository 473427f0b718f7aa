import { Authorized, Arg, Query, Resolver } from 'type-graphql';
import { CONTROLS, controlById } from '../../controls/registry';
import { Control } from './control.type';

@Authorized('findings:read')
@Resolver(() => Control)
export class ControlsResolver {
  @Query(() => [Control], { description: 'Every control Keywarden evaluates.' })
  controls(): Control[] {
    return CONTROLS;
  }

  @Query(() => Control, { nullable: true })
  control(@Arg('id') id: string): Control | null {
    return controlById(id);
  }
}
