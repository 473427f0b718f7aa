import { Field, ObjectType } from 'type-graphql';

@ObjectType({ description: 'Where a control sits in a compliance framework.' })
export class FrameworkMapping {
  @Field() framework!: string;
  @Field() version!: string;
  @Field() requirementId!: string;
  @Field() title!: string;
  @Field({ description: 'Where this mapping comes from.' }) source!: string;
}

@ObjectType({ description: 'A compliance control Keywarden evaluates, with its metadata.' })
export class Control {
  @Field() id!: string;
  @Field() title!: string;
  @Field() severity!: string;
  @Field() profile!: string;
  @Field() description!: string;
  @Field() rationale!: string;
  @Field() remediation!: string;
  @Field() backout!: string;
  @Field(() => [String], { description: 'IAM permissions the audit needs.' }) requiredPermissions!: string[];
  @Field(() => [FrameworkMapping]) mappings!: FrameworkMapping[];
}
