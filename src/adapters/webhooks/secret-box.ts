import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const VERSION = 'v1';

/**
 * Encrypts secrets Keywarden must read back (a webhook's whsec_ signing secret) with AES-256-GCM. The
 * associated data binds a ciphertext to its row (the endpoint id): a ciphertext copied to another row
 * does not decrypt.
 */
export class SecretBox {
  private derived: Buffer | null = null;

  /** `keyMaterial` may be a function: the key is then read when first needed (a server with no webhook never reads it). */
  constructor(private readonly keyMaterial: string | Buffer | (() => string | Buffer)) {}

  private get key(): Buffer {
    if (!this.derived) {
      const material = typeof this.keyMaterial === 'function' ? this.keyMaterial() : this.keyMaterial;
      // HKDF: any 32+ character string (a passphrase or base64 bytes) becomes a uniform 256-bit key.
      this.derived = Buffer.from(crypto.hkdfSync('sha256', material, 'keywarden', 'stored-secrets/v1', 32));
    }
    return this.derived;
  }

  seal(plaintext: string, boundTo: string): string {
    const iv = crypto.randomBytes(12);
    const cipher = crypto.createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(boundTo));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join(':');
  }

  /** Throws when the key differs from the one that sealed it (or the value was altered or moved). */
  open(sealed: string, boundTo: string): string {
    const [version, iv, tag, body] = sealed.split(':');
    if (version !== VERSION || !iv || !tag || body === undefined) throw new Error('not a sealed secret');
    const decipher = crypto.createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(boundTo));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    try {
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new Error('the stored secret does not decrypt with this KEYWARDEN_SECRET_KEY');
    }
  }
}

/**
 * KEYWARDEN_SECRET_KEY when set; else a random key in `<dataDir>/secret.key`, created (mode 0600) on first
 * use, the way the embedded PostgreSQL keeps its data there.
 */
export function loadSecretBox(config: { secretKey?: string; dataDir: string }): SecretBox {
  if (config.secretKey) return new SecretBox(config.secretKey);
  return new SecretBox(() => keyFile(config.dataDir));
}

function keyFile(dataDir: string): string {
  const file = path.join(dataDir, 'secret.key');
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const generated = crypto.randomBytes(32).toString('base64');
  try {
    fs.writeFileSync(file, `${generated}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    // Another process created it first: use theirs.
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return fs.readFileSync(file, 'utf8').trim();
}
