import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';

/** Forks one of the compiled bench/*.process.js files with the bench's environment plus `env`. */
export function child(file: string, env: NodeJS.ProcessEnv = {}): ChildProcess {
  return fork(path.join(__dirname, file), [], { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

export function nextMessage<T>(proc: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    proc.once('message', (m) => resolve(m as T));
    proc.once('exit', (code) => reject(new Error(`${proc.spawnfile} exited with ${code} before answering`)));
  });
}
