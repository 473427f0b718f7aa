import { Field, ObjectType } from 'type-graphql';
import { Node } from '../common/node';
import { SeverityEnum, type Severity } from '../common/scalars';

@ObjectType({ description: 'Where a control sits in a compliance framework.' })
export class FrameworkMapping {
  @Field({ description: 'The framework (CIS AWS Foundations Benchmark, SOC 2, ISO/IEC 27001, NIST SP 800-53).' }) framework!: string;
  @Field({ description: 'The framework\'s version.' }) version!: string;
  @Field({ description: 'The requirement\'s id in that version (1.11, CC6.1, A.5.18, AC-2).' }) requirementId!: string;
  @Field({ description: 'The requirement\'s title.' }) title!: string;
  @Field({ description: 'Where this mapping comes from.' }) source!: string;
}

@ObjectType({ implements: Node, description: 'A compliance control Keywarden evaluates, with its metadata.' })
export class Control extends Node {
  @Field({ description: 'The control\'s readable id, as findings carry it (Finding.controlId).' }) controlId!: string;
  @Field({ description: 'What it checks, in one line.' }) title!: string;
  @Field(() => SeverityEnum, { description: 'How serious a failure is.' }) severity!: Severity;
  @Field({ description: 'The benchmark profile it belongs to (Level 1, Level 2).' }) profile!: string;
  @Field({ description: 'What it requires.' }) description!: string;
  @Field({ description: 'Why it matters.' }) rationale!: string;
  @Field({ description: 'How to fix a failure.' }) remediation!: string;
  @Field({ description: 'How to undo the remediation when something breaks.' }) backout!: string;
  @Field(() => [String], { description: 'IAM permissions the audit needs.' }) requiredPermissions!: string[];
  @Field(() => [FrameworkMapping], { description: 'Where it sits in each framework.' }) mappings!: FrameworkMapping[];
}
