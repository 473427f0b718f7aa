import type { EvaluatedFinding } from './finding';

/** An approved exception: the control text's "unless specifically required". */
export interface AccessExceptionRule {
  id: string;
  userName: string;
  /** Null covers every key of the user. */
  accessKeyId: string | null;
  expiresAt: Date;
  revokedAt: Date | null;
}

/**
 * Failing findings covered by an exception in force at `now` become EXCEPTED, keeping their reasons
 * and naming the exception in the evidence. Once it expires or is revoked they fail (and reopen) again.
 */
export function applyExceptions(findings: EvaluatedFinding[], exceptions: AccessExceptionRule[], now: Date): EvaluatedFinding[] {
  const inForce = exceptions.filter((e) => e.revokedAt === null && e.expiresAt.getTime() > now.getTime());
  if (inForce.length === 0) return findings;
  return findings.map((f) => {
    if (f.status !== 'FAIL') return f;
    const covering = inForce.find((e) => e.userName === f.userName && (e.accessKeyId === null || e.accessKeyId === f.accessKeyId));
    if (!covering) return f;
    return { ...f, status: 'EXCEPTED', evidence: { ...f.evidence, exceptionId: covering.id, exceptionExpiresAt: covering.expiresAt } };
  });
}
