import { Field, Int, ObjectType } from 'type-graphql';
import type { ScanView } from '../../services/scans.service';
import { Control } from '../controls/control.type';
import { StatusCounts } from '../scans/scan.type';

@ObjectType({ description: 'When the accounts of a summary were last scanned: the oldest and newest of their latest scans (observedAt).' })
export class ScannedAtRange {
  @Field({ description: 'The oldest of the accounts\' latest scans.' }) oldest!: Date;
  @Field({ description: 'The newest of the accounts\' latest scans.' }) newest!: Date;
}

/**
 * One account's standing on one control (from its latest scan), or several accounts' summed (each from its
 * latest scan). The per-account form is what an Account's compliance summary will be.
 */
@ObjectType({ description: 'Standing on one control: of one account from its latest scan, or summed over several accounts, each from its latest scan.' })
export class ComplianceSummary {
  @Field(() => String, { nullable: true, description: 'The account; null when the summary sums several.' }) accountId!: string | null;
  @Field(() => Control, { description: 'The control it stands on.' }) control!: Control;
  @Field(() => StatusCounts, { description: 'Summed over the accounts.' }) counts!: StatusCounts;
  @Field({ description: 'True only when nothing fails and nothing could not be read, in any of the accounts.' }) compliant!: boolean;
  @Field(() => Int, { description: 'Users with at least one FAIL finding (users of different accounts are different users).' }) failingUsers!: number;
  @Field(() => Int, { description: 'Accounts summed: 1 for one account.' }) accounts!: number;
  @Field(() => ScannedAtRange, { description: 'When the accounts were last scanned.' }) scannedAt!: ScannedAtRange;
  /** Internal: resolved into `scan` (null when several accounts are summed); `scanRow` when already read. */
  scanId!: string | null;
  scanRow?: ScanView;
}
