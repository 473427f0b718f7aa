export * from './credential-report';
export * from './errors';
export * from './faults';
export * from './fixture';
export * from './fixture-builder';
export * from './iam-sandbox.server';
export * from './sample-account';
export * from './state';
