/**
 * GraphQL operations keywarden_graphql_request_duration_seconds labels by name out of the box: those the posture page
 * sends (web/src/queries.ts) and the README's examples. KEYWARDEN_METRICS_OPERATIONS adds an operator's own clients'.
 * test/metrics/operation-names.test.ts keeps this list equal to the names in those two files.
 */
export const KNOWN_OPERATIONS: readonly string[] = [
  // web/src/queries.ts
  'SignInCheck', 'Trend', 'AccountsRanked', 'FailingFindings', 'FindingDetail', 'AccountScans', 'FindingHistory', 'Scans',
  'StartScanAll', 'DeactivateKey',
  // README: the findingChanges sync loop
  'Sync',
];
