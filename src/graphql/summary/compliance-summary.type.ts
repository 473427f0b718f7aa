import { Field, Int, ObjectType } from 'type-graphql';
import { Control } from '../controls/control.type';
import { Scan, StatusCounts } from '../scans/scan.type';

@ObjectType({ description: 'One account\'s standing on one control, from its latest scan.' })
export class ComplianceSummary {
  @Field() accountId!: string;
  @Field(() => Control) control!: Control;
  @Field(() => Scan, { description: 'The latest COMPLETED or PARTIAL scan.' }) scan!: Scan;
  @Field(() => StatusCounts) counts!: StatusCounts;
  @Field({ description: 'True only when nothing fails and nothing could not be read.' }) compliant!: boolean;
  @Field(() => Int, { description: 'Users with at least one FAIL finding.' }) failingUsers!: number;
}
