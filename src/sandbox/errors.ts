/**
 * IAM error codes the sandbox can answer with, and their wire shape.
 * Status codes are the ones real IAM uses (they match the `awsQueryError` traits in @aws-sdk/client-iam).
 */

export const IAM_ERROR_CODES = [
  'AccessDenied',
  'NoSuchEntity',
  'ServiceFailure',
  'ServiceUnavailable',
  'LimitExceeded',
  'Throttling',
  'InvalidInput',
  'ValidationError',
  'ReportNotPresent',
  'ReportExpired',
  'ReportInProgress',
  'InvalidAction',
  'MissingAuthenticationToken',
  'InvalidClientTokenId',
  'ExpiredToken',
] as const;

export type IamErrorCode = (typeof IAM_ERROR_CODES)[number];

interface IamErrorSpec {
  status: number;
  type: 'Sender' | 'Receiver';
  defaultMessage: string;
}

export const IAM_ERRORS: Readonly<Record<IamErrorCode, IamErrorSpec>> = {
  AccessDenied: { status: 403, type: 'Sender', defaultMessage: 'User is not authorized to perform this action.' },
  NoSuchEntity: { status: 404, type: 'Sender', defaultMessage: 'The requested entity cannot be found.' },
  ServiceFailure: {
    status: 500,
    type: 'Receiver',
    defaultMessage: 'The request processing has failed because of an unknown error, exception or failure.',
  },
  ServiceUnavailable: { status: 503, type: 'Receiver', defaultMessage: 'Service is unavailable.' },
  LimitExceeded: { status: 409, type: 'Sender', defaultMessage: 'Request limit exceeded.' },
  Throttling: { status: 400, type: 'Sender', defaultMessage: 'Rate exceeded' },
  InvalidInput: { status: 400, type: 'Sender', defaultMessage: 'Invalid input.' },
  ValidationError: { status: 400, type: 'Sender', defaultMessage: 'Validation error.' },
  ReportNotPresent: {
    status: 410,
    type: 'Sender',
    defaultMessage: 'Credential report does not exist. Use GenerateCredentialReport to generate a report.',
  },
  ReportExpired: {
    status: 410,
    type: 'Sender',
    defaultMessage: 'Credential report has expired. Use GenerateCredentialReport to generate a new report.',
  },
  ReportInProgress: { status: 404, type: 'Sender', defaultMessage: 'Credential report is being generated.' },
  InvalidAction: { status: 400, type: 'Sender', defaultMessage: 'The action is not valid for this endpoint.' },
  MissingAuthenticationToken: { status: 403, type: 'Sender', defaultMessage: 'Request is missing Authentication Token' },
  InvalidClientTokenId: { status: 403, type: 'Sender', defaultMessage: 'The security token included in the request is invalid.' },
  ExpiredToken: { status: 403, type: 'Sender', defaultMessage: 'The security token included in the request is expired' },
};

/** An IAM error answer; thrown by handlers and turned into an `<ErrorResponse>`. */
export class IamError extends Error {
  override readonly name = 'IamError';
  readonly status: number;
  readonly type: 'Sender' | 'Receiver';

  constructor(
    readonly code: IamErrorCode,
    message?: string,
  ) {
    super(message ?? IAM_ERRORS[code].defaultMessage);
    this.status = IAM_ERRORS[code].status;
    this.type = IAM_ERRORS[code].type;
  }
}

// Messages below are worded as real IAM words them: clients sometimes match on them.
export const noSuchUser = (userName: string): IamError =>
  new IamError('NoSuchEntity', `The user with name ${userName} cannot be found.`);

export const noSuchLoginProfile = (userName: string): IamError =>
  new IamError('NoSuchEntity', `Login Profile for User ${userName} cannot be found.`);

export const noSuchAccessKey = (accessKeyId: string): IamError =>
  new IamError('NoSuchEntity', `The Access Key with id ${accessKeyId} cannot be found.`);

/** IAM/Coral style: "2 validation errors detected: Value null at 'userName' failed to satisfy constraint: ...; ...". */
export const validationError = (problems: readonly string[]): IamError =>
  new IamError(
    'ValidationError',
    `${problems.length} validation error${problems.length === 1 ? '' : 's'} detected: ${problems.join('; ')}`,
  );
