import net from 'node:net';

export class PortInUseError extends Error {
  override name = 'PortInUseError';
}

/**
 * Fails before anything else starts when host:port cannot be listened on, so `start` does not migrate,
 * scan and make a token only to die on EADDRINUSE. A listener can still appear between this check and
 * the real listen; that rare case fails there with the same message (see listenError).
 */
export async function assertPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', (err) => reject(listenError(err, host, port)));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

/** EADDRINUSE / EACCES as a message a user can act on; other errors unchanged. */
export function listenError(err: unknown, host: string, port: number): Error {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') {
    return new PortInUseError(`port ${port} on ${host} is already in use (another Keywarden?): stop what listens there, or set another port: PORT=${port + 1} (or --port ${port + 1})`);
  }
  if (code === 'EACCES') return new PortInUseError(`not allowed to listen on port ${port} on ${host}: set PORT to a port above 1023 (or --port)`);
  return err as Error;
}
