import { Authorized, Arg, Args, Ctx, FieldResolver, Query, Resolver, Root } from 'type-graphql';
import type { Context } from '../context';
import { BidirectionalPageArgs, pageRequest, toConnection } from '../common/pagination';
import { Scan } from '../scans/scan.type';
import { toScan } from '../scans/scan.mapper';
import { Finding, FindingConnection, FindingFilter, FindingOrder } from './finding.type';
import { findingQuery, toFinding } from './finding.mapper';
import { Control } from '../controls/control.type';
import { toControl } from '../controls/control.mapper';
import { controlById } from '../../controls/registry';
import type { ControlMetadata } from '../../controls/no-access-keys-at-setup/control.metadata';
import { findingSeverity, type FindingSeverity } from '../../domain/severity';
import { FindingSeverityEnum } from './finding-severity';

@Authorized('findings:read')
@Resolver(() => Finding)
export class FindingsResolver {
  @Query(() => FindingConnection, { description: 'Findings as the latest scan of each account left them, or as of an instant.' })
  async findings(
    @Arg('filter', () => FindingFilter, { nullable: true, description: 'Which findings; omitted: all.' }) filter: FindingFilter | undefined,
    @Args(() => BidirectionalPageArgs) page: BidirectionalPageArgs,
    @Arg('asOf', () => Date, { nullable: true, description: 'Answer as of this instant: the latest completed scan at or before it. Omitted: now.' }) asOf: Date | undefined,
    @Arg('orderBy', () => FindingOrder, { nullable: true, description: 'Default: { field: IDENTITY, direction: ASC }.' }) orderBy: FindingOrder | undefined,
    @Ctx() { services }: Context,
  ): Promise<FindingConnection> {
    const { size, from } = pageRequest(page);
    return toConnection(await services.findings.list(findingQuery(filter), size, from, { asOf, order: orderBy }), toFinding);
  }

  @FieldResolver(() => Control, { description: 'The control this finding is a result of: its title, severity, rationale, remediation, backout and framework mappings.' })
  control(@Root() finding: Finding): Control {
    return toControl(controlOf(finding));
  }

  @FieldResolver(() => FindingSeverityEnum, {
    description: "INFORMATIONAL when the finding passes or does not apply; the control's severity when it fails, cannot be read or is excepted (as exports and Security Hub carry it).",
  })
  severity(@Root() finding: Finding): FindingSeverity {
    return findingSeverity(finding.status, controlOf(finding));
  }

  @FieldResolver(() => Scan, { description: 'The scan that last observed this finding (as of the instant asked about).' })
  async scan(@Root() finding: Finding, @Ctx() { loaders }: Context): Promise<Scan> {
    return toScan((await loaders.scan.load(finding.scanId))!);
  }
}

function controlOf(finding: Finding): ControlMetadata {
  const control = controlById(finding.controlId);
  // Findings are only ever written by the controls of the registry: a miss is a defect, masked as INTERNAL_SERVER_ERROR.
  if (!control) throw new Error(`finding ${finding.id} names control ${finding.controlId}, which this build does not define`);
  return control;
}
