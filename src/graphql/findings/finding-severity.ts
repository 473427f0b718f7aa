import { registerEnumType } from 'type-graphql';
import { FINDING_SEVERITIES, type FindingSeverity } from '../../domain/severity';

export const FindingSeverityEnum = Object.fromEntries(FINDING_SEVERITIES.map((v) => [v, v])) as { [K in FindingSeverity]: K };
registerEnumType(FindingSeverityEnum, {
  name: 'FindingSeverity',
  description: "A finding's severity, on the scale Security Hub's Severity.Label and OCSF's severity_id share.",
  valuesConfig: {
    INFORMATIONAL: { description: 'Nothing to do: the finding passes or the control does not apply.' },
    LOW: { description: 'A failing, unreadable or excepted finding of a low-severity control.' },
    MEDIUM: { description: 'A failing, unreadable or excepted finding of a medium-severity control.' },
    HIGH: { description: 'A failing, unreadable or excepted finding of a high-severity control.' },
    CRITICAL: { description: 'A failing, unreadable or excepted finding of a critical-severity control.' },
  },
});
