import { Field, Float, Int, ObjectType } from 'type-graphql';

@ObjectType({
  description:
    'One bucket of a compliance trend. For one account, figures are null when no scan fell in the bucket; for several, ' +
    'each account\'s state is carried forward, and figures are null only before the first scan of any of them.',
})
export class TrendPoint {
  @Field({ description: 'Start of the bucket.' }) at!: Date;
  @Field({ description: 'End of the bucket (exclusive).' }) endsAt!: Date;
  @Field(() => Int, { description: 'Completed or partial scans in the bucket.' }) scans!: number;
  @Field(() => Int, { description: 'Accounts the figures sum: for one account, 1 when the bucket has a scan; for several, those scanned by the bucket\'s end.' })
  accounts!: number;
  @Field(() => Int, { nullable: true, description: 'PASS findings: the state after the bucket\'s last scan (summed over the accounts).' }) pass!: number | null;
  @Field(() => Int, { nullable: true, description: 'FAIL findings after the bucket\'s last scan.' }) fail!: number | null;
  @Field(() => Int, { nullable: true, description: 'NOT_APPLICABLE findings after the bucket\'s last scan.' }) notApplicable!: number | null;
  @Field(() => Int, { nullable: true, description: 'ERROR findings after the bucket\'s last scan.' }) error!: number | null;
  @Field(() => Int, { nullable: true, description: 'Findings opened or reopened in the bucket.' }) opened!: number | null;
  @Field(() => Int, { nullable: true, description: 'Findings resolved in the bucket.' }) resolved!: number | null;
  @Field(() => Float, { nullable: true, description: 'Mean open time of the findings resolved in the bucket.' }) meanTimeToResolveSeconds!: number | null;
}
