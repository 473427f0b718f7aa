/**
 * The control's metadata, as data: what it is, why it matters, how to fix it, and where it sits
 * in each framework. Source text: docs/control.md.
 */

export interface FrameworkMapping {
  framework: string;
  version: string;
  requirementId: string;
  title: string;
  /** Where this mapping comes from, so an auditor can check it. */
  source: string;
}

export interface ControlMetadata {
  id: string;
  title: string;
  severity: 'low' | 'medium' | 'high' | 'critical';
  profile: string;
  description: string;
  rationale: string;
  remediation: string;
  backout: string;
  /** IAM permissions the control's audit needs (the control's own Pre-Requisite). */
  requiredPermissions: string[];
  mappings: FrameworkMapping[];
}

const CIS_SOURCE = 'CIS Amazon Web Services Foundations Benchmark, control numbering of that version';
const CONTROL_TEXT = 'Control text (Rationale) names this framework; requirement chosen by Keywarden';

function cis(version: string, requirementId: string): FrameworkMapping {
  return {
    framework: 'CIS AWS Foundations Benchmark',
    version,
    requirementId,
    title: 'Do not setup access keys during initial user setup for all IAM users that have a console password',
    source: `${CIS_SOURCE} ${version}`,
  };
}

export const NO_ACCESS_KEYS_AT_SETUP: ControlMetadata = {
  id: 'iam-no-access-keys-at-initial-setup',
  title: 'IAM users with a console password have no access keys created during initial user setup',
  severity: 'medium',
  profile: 'Level 1',
  description:
    'IAM users who have console access (a user name and password) are not provisioned with access keys ' +
    'during their initial account setup, unless specifically required.',
  rationale:
    'IAM users with both console and programmatic access are at higher risk of credential compromise, key ' +
    'leakage, or unauthorized API activity. Granting programmatic credentials only when justified mitigates ' +
    'the risks of stale, misused or leaked access keys and follows the principle of least privilege.',
  remediation:
    'For users who do not require API/CLI access: deactivate (recommended first step) or delete each access ' +
    'key created at setup. For future users, grant console access only at creation; create separate IAM ' +
    'users for console and API access, and prefer IAM roles or temporary STS credentials to long-term keys.',
  backout:
    'If an application or script fails after a key is deactivated, reactivate that key; if it was deleted, ' +
    'create a new key for that specific use case, then move it to IAM roles or temporary credentials.',
  requiredPermissions: [
    'iam:ListUsers',
    'iam:GetLoginProfile',
    'iam:ListAccessKeys',
    'iam:GetAccessKeyLastUsed',
    'iam:ListUserTags',
    'iam:GenerateCredentialReport',
    'iam:GetCredentialReport',
  ],
  mappings: [
    cis('1.2.0', '1.21'),
    cis('1.3.0', '1.11'),
    cis('1.4.0', '1.11'),
    cis('1.5.0', '1.11'),
    cis('2.0.0', '1.11'),
    cis('3.0.0', '1.11'),
    cis('4.0.0', '1.11'),
    cis('4.0.1', '1.11'),
    cis('5.0.0', '1.10'),
    cis('6.0.0', '2.10'),
    {
      framework: 'SOC 2',
      version: '2017 Trust Services Criteria (revised 2022)',
      requirementId: 'CC6.1',
      title: 'Logical access security software, infrastructure and architectures restrict access to protected information assets',
      source: CONTROL_TEXT,
    },
    {
      framework: 'SOC 2',
      version: '2017 Trust Services Criteria (revised 2022)',
      requirementId: 'CC6.2',
      title: 'Prior to issuing system credentials, the entity registers and authorizes new internal and external users',
      source: CONTROL_TEXT,
    },
    {
      framework: 'SOC 2',
      version: '2017 Trust Services Criteria (revised 2022)',
      requirementId: 'CC6.3',
      title: 'Access to data and assets is authorized, modified or removed based on roles and least privilege',
      source: CONTROL_TEXT,
    },
    {
      framework: 'ISO/IEC 27001',
      version: '2022',
      requirementId: 'A.5.18',
      title: 'Access rights: provisioned, reviewed, modified and removed per the access control policy',
      source: CONTROL_TEXT,
    },
    {
      framework: 'ISO/IEC 27001',
      version: '2022',
      requirementId: 'A.8.5',
      title: 'Secure authentication',
      source: CONTROL_TEXT,
    },
    {
      framework: 'NIST SP 800-53',
      version: 'Rev. 5',
      requirementId: 'AC-2',
      title: 'Account Management',
      source: CONTROL_TEXT,
    },
    {
      framework: 'NIST SP 800-53',
      version: 'Rev. 5',
      requirementId: 'AC-6',
      title: 'Least Privilege',
      source: CONTROL_TEXT,
    },
    {
      framework: 'NIST SP 800-53',
      version: 'Rev. 5',
      requirementId: 'IA-5',
      title: 'Authenticator Management',
      source: CONTROL_TEXT,
    },
  ],
};
