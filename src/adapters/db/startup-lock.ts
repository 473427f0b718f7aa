import crypto from 'node:crypto';
import fs from 'node:fs';

/*
 * A lock file held while a process starts or stops the embedded PostgreSQL. Without it two processes
 * starting at once would both run initdb on the same empty folder, and a process starting while the
 * owner stops would attach to a server about to go away. Waiters poll; nothing is refused unless the
 * holder keeps it past the timeout.
 *
 * The file holds the holder's pid and is written aside, then hard-linked into place: link() fails with
 * EEXIST while someone holds it, and nobody ever reads a half-written lock. A lock whose process is
 * dead is taken over. Two processes taking over the same stale lock at the same instant could both
 * get it; that needs a crash during start-up followed by two simultaneous starts, and PostgreSQL's
 * own postmaster.pid still keeps a second server off the data directory.
 */

/** Locks this process holds: a lock file naming our pid that is not in here was left by a dead process with our pid. */
const heldHere = new Set<string>();

export async function acquireStartupLock(lockPath: string, timeoutMs: number): Promise<() => void> {
  const deadline = Date.now() + timeoutMs;
  const tmpPath = `${lockPath}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  fs.writeFileSync(tmpPath, `${process.pid}\n`, { mode: 0o600 });
  try {
    let holder: number | undefined;
    for (;;) {
      if (!heldHere.has(lockPath)) {
        try {
          fs.linkSync(tmpPath, lockPath);
          heldHere.add(lockPath);
          return releaser(lockPath);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        }
        const read = readHolder(lockPath);
        if (read === 'missing') continue; // released between our link and our read
        if (read === 'garbage' || read === process.pid || !isAlive(read)) {
          fs.rmSync(lockPath, { force: true });
          continue;
        }
        holder = read;
      }
      if (Date.now() >= deadline) {
        const who = holder === undefined || heldHere.has(lockPath) ? 'this process' : `process ${holder}`;
        throw new Error(
          `${who} has been starting or stopping the embedded PostgreSQL for ${Math.round(timeoutMs / 1000)} s (lock file ${lockPath}); if it is stuck, stop it`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    fs.rmSync(tmpPath, { force: true });
  }
}

function releaser(lockPath: string): () => void {
  let released = false;
  return () => {
    if (released) return;
    released = true;
    heldHere.delete(lockPath);
    if (readHolder(lockPath) === process.pid) fs.rmSync(lockPath, { force: true });
  };
}

function readHolder(lockPath: string): number | 'missing' | 'garbage' {
  let text: string;
  try {
    text = fs.readFileSync(lockPath, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw err;
  }
  const pid = Number.parseInt(text.trim(), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : 'garbage';
}

/** Whether a process with this pid runs (EPERM: it does, as another user). A zombie, killed but not yet reaped, does not. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // Linux: "<pid> (<comm>) <state> ..."; elsewhere there is no /proc and kill(0) has to do.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch (err) {
    return !((err as NodeJS.ErrnoException).code === 'ENOENT' && fs.existsSync('/proc/self'));
  }
}
