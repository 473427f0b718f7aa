import fs from 'node:fs';
import path from 'node:path';
import { registry } from '../../src/metrics/metrics';

/**
 * Issue #13 item 8: docker-compose.yml published PostgreSQL on every interface (5432:5432) with the password
 * `keywarden` written in the file: whoever reached the port could insert an admin token's hash. There is no
 * Docker engine on the test machines, so the file itself is checked, service by service.
 */
const root = path.join(__dirname, '../..');
const compose = fs.readFileSync(path.join(root, 'docker-compose.yml'), 'utf8');

/** The lines of one service's block (two-space indented under `services:`), comments dropped. */
function service(name: string): string[] {
  const lines = compose.split('\n').filter((l) => !/^\s*#/.test(l));
  const start = lines.findIndex((l) => l === `  ${name}:`);
  expect(start).toBeGreaterThan(-1);
  const block: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() !== '' && !line.startsWith('    ')) break;
    block.push(line);
  }
  return block;
}

const PASSWORD_FROM_ENV = /\$\{KEYWARDEN_DB_PASSWORD:\?[^}]+\}/;

describe('docker-compose.yml', () => {
  it('publishes no PostgreSQL port on the host (the tests\' 5432 stays free, and nobody else reaches it)', () => {
    const postgres = service('postgres');
    expect(postgres.some((l) => /^\s+ports:/.test(l) || /^\s+expose:/.test(l))).toBe(false);
    expect(compose).not.toMatch(/["' -]5432:5432/);
  });

  it('takes the database password from the env file the user creates, and refuses to start without it', () => {
    const password = service('postgres').find((l) => l.includes('POSTGRES_PASSWORD:'))!;
    expect(password.split('POSTGRES_PASSWORD:')[1].trim()).toMatch(new RegExp(`^${PASSWORD_FROM_ENV.source}$`));
    const url = service('keywarden').find((l) => l.includes('DATABASE_URL:'))!;
    expect(url).toMatch(new RegExp(`postgresql://keywarden:${PASSWORD_FROM_ENV.source}@postgres:5432/keywarden`));
    // No password in clear anywhere in the file.
    expect(compose).not.toMatch(/POSTGRES_PASSWORD:\s*[^$\s]/);
    expect(compose).not.toMatch(/postgresql:\/\/[^:\s]+:[^$@\s][^@\s]*@/);
  });

  it('keeps the env file out of git and out of the image (the Dockerfile copies the context)', () => {
    const lines = (file: string) => fs.readFileSync(path.join(root, file), 'utf8').split('\n').map((l) => l.trim());
    expect(lines('.gitignore')).toContain('.env');
    expect(lines('.dockerignore')).toContain('.env');
  });

  it('publishes the API on the host\'s loopback only', () => {
    const ports = service('keywarden').find((l) => /^\s+ports:/.test(l))!;
    expect(ports).toMatch(/\["127\.0\.0\.1:4000:4000"\]/);
  });

  it('runs Prometheus and Grafana only with --profile monitoring, on the host\'s loopback, with no password in the file', () => {
    for (const name of ['prometheus', 'grafana']) {
      const block = service(name);
      expect(block.find((l) => /^\s+profiles:/.test(l))).toMatch(/\["monitoring"\]/);
      expect(block.find((l) => /^\s+ports:/.test(l))).toMatch(/\["127\.0\.0\.1:\d+:\d+"\]/);
    }
    // No Grafana password in the file, and no ${VAR:?} in a profile's service: compose checks it even when the profile is off.
    expect(service('grafana').some((l) => l.includes('GF_SECURITY_ADMIN_PASSWORD'))).toBe(false);
    for (const name of ['prometheus', 'grafana']) expect(service(name).join('\n')).not.toContain(':?');
    // The default `docker compose up` is unchanged: no profile on the API and the database.
    for (const name of ['postgres', 'keywarden']) expect(service(name).some((l) => /^\s+profiles:/.test(l))).toBe(false);
  });

  it('exposes the metrics port (no token) to the compose network only, and Prometheus scrapes it on the API and the workers', () => {
    for (const name of ['keywarden', 'worker']) expect(service(name).find((l) => l.includes('KEYWARDEN_METRICS_PORT:'))).toMatch(/"9464"/);
    expect(compose).not.toMatch(/9464:9464/);
    const prometheus = fs.readFileSync(path.join(root, 'deploy/prometheus/prometheus.yml'), 'utf8');
    expect(prometheus).toMatch(/targets: \["keywarden:9464"\]/);
    expect(prometheus).toMatch(/names: \["worker"\][\s\S]*port: 9464/);
    expect(service('prometheus').join('\n')).toContain('./deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro');
  });

  it('ships a Grafana dashboard whose every query uses a metric Keywarden exposes', () => {
    const dashboard = JSON.parse(fs.readFileSync(path.join(root, 'deploy/grafana/keywarden.dashboard.json'), 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] };
    const used = new Set<string>();
    for (const panel of dashboard.panels) {
      expect(panel.targets.length).toBeGreaterThan(0);
      for (const t of panel.targets) for (const m of t.expr.matchAll(/\b(keywarden_[a-z_]+)/g)) used.add(m[1]!.replace(/_(bucket|count|sum)$/, ''));
    }
    expect(used.size).toBeGreaterThanOrEqual(9);
    for (const name of used) expect({ name, exposed: registry.getSingleMetric(name) !== undefined }).toEqual({ name, exposed: true });
    expect(service('grafana').join('\n')).toContain('./deploy/grafana/keywarden.dashboard.json:');
  });
});
