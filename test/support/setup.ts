// Installs the filter for the AWS SDK's Node 20 support warning in every test file's module registry.
import '../../src/adapters/iam/iam-client';
