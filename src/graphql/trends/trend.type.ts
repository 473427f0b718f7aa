import { Field, Float, Int, ObjectType } from 'type-graphql';

@ObjectType({ description: 'One bucket of a compliance trend. Figures are null when no scan fell in the bucket.' })
export class TrendPoint {
  @Field({ description: 'Start of the bucket.' }) at!: Date;
  @Field({ description: 'End of the bucket (exclusive).' }) endsAt!: Date;
  @Field(() => Int, { description: 'Completed or partial scans in the bucket.' }) scans!: number;
  @Field(() => Int, { nullable: true, description: 'State after the bucket\'s last scan.' }) pass!: number | null;
  @Field(() => Int, { nullable: true }) fail!: number | null;
  @Field(() => Int, { nullable: true }) notApplicable!: number | null;
  @Field(() => Int, { nullable: true }) error!: number | null;
  @Field(() => Int, { nullable: true, description: 'Findings opened or reopened in the bucket.' }) opened!: number | null;
  @Field(() => Int, { nullable: true, description: 'Findings resolved in the bucket.' }) resolved!: number | null;
  @Field(() => Float, { nullable: true, description: 'Mean open time of the findings resolved in the bucket.' }) meanTimeToResolveSeconds!: number | null;
}
