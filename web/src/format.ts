// Dates and durations as a person reads them; every instant is also given in full in a title (UTC).

export function when(iso: string | null | undefined): string {
  if (!iso) return '—';
  return new Date(iso).toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
}

export function day(iso: string): string {
  return iso.slice(0, 10);
}

/** "3 d ago", "5 h ago": the age of a data source or a last use. */
export function age(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return 'never';
  const seconds = Math.max(0, (now - new Date(iso).getTime()) / 1000);
  return `${duration(seconds)} ago`;
}

export function duration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  if (seconds < 36 * 3600) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} d`;
}

export function reason(code: string): string {
  return code.toLowerCase().replace(/_/g, ' ');
}

/** An AccessKeyStatus (ACTIVE, INACTIVE, EXPIRED) as IAM and its console spell it: "Active". */
export function keyStatus(status: string | null | undefined): string {
  if (!status) return '—';
  return status.charAt(0) + status.slice(1).toLowerCase();
}
