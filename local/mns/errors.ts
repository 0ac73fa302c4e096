/**
 * MNS error codes with their HTTP statuses (docs/platform-facts.md §8.1, error-code page 27501).
 * The official client turns an XML `<Error>` into a thrown `Error` named `MNS<Code>Error`, so the code
 * string is the whole contract: keep the spellings exactly, including the service's own `InvalidDegist`.
 */

/** Every error the local MNS can answer with: HTTP status and default message. */
export const MNS_ERRORS = {
  AccessDenied: [403, 'The OwnerId that your AccessKey id belongs to is forbidden for this operation.'],
  InvalidAccessKeyId: [403, 'The AccessKey id you provided does not exist.'],
  SignatureDoesNotMatch: [403, 'The request signature we calculated does not match the signature you provided.'],
  InternalError: [500, 'Internal error.'],
  InvalidAuthorizationHeader: [400, 'The Authorization header format is invalid.'],
  MissingAuthorizationHeader: [400, 'The Authorization header is required.'],
  InvalidDateHeader: [400, 'The Date header format is invalid.'],
  MissingDateHeader: [400, 'The Date header is required.'],
  TimeExpired: [408, 'The request time is more than 15 minutes away from the server time.'],
  InvalidArgument: [400, 'An argument is not valid.'],
  InvalidDegist: [400, 'The Content-MD5 you specified is invalid.'],
  InvalidRequestURL: [400, 'The request URL format is invalid.'],
  InvalidQueryString: [400, 'The request URL contains an invalid query string item.'],
  MalformedXML: [400, 'The XML you provided was not well-formed or did not match the expected schema.'],
  MissingReceiptHandle: [400, 'The ReceiptHandle parameter is required.'],
  MissingVisibilityTimeout: [400, 'The VisibilityTimeout parameter is required.'],
  ReceiptHandleError: [400, 'The receipt handle you provided is not valid.'],
  MessageNotExist: [404, 'Message not exist.'],
  QueueNotExist: [404, 'The queue name you provided does not exist.'],
  QueueAlreadyExist: [409, 'A queue with the same name already exists with different attributes.'],
  InvalidQueueName: [400, 'The queue name is invalid: use letters, digits and hyphens, starting with a letter or digit.'],
  QueueNameLengthError: [400, 'The queue name is longer than 256 characters.'],
} as const satisfies Record<string, readonly [number, string]>;

/** An MNS error code. */
export type MnsErrorCode = keyof typeof MNS_ERRORS;

/** An error answered to the client as an MNS `<Error>` document. */
export class MnsError extends Error {
  readonly code: MnsErrorCode;
  readonly status: number;

  constructor(code: MnsErrorCode, message?: string) {
    const [status, fallback] = MNS_ERRORS[code];
    super(message ?? fallback);
    this.name = 'MnsError';
    this.code = code;
    this.status = status;
  }
}

/** Narrowing helper that survives duplicate module instances (compares the shape, not the class). */
export function isMnsError(e: unknown): e is MnsError {
  return e instanceof MnsError || (e instanceof Error && e.name === 'MnsError' && typeof (e as MnsError).code === 'string');
}

/** `InvalidArgument` in the service's wording for a number outside its range. */
export function outOfRange(name: string, low: number, high: number, unit = ''): MnsError {
  return new MnsError('InvalidArgument', `The value of ${name} should be between ${low} and ${high}${unit ? ` ${unit}` : ''}.`);
}

/** `InternalError` for a disk failure, naming what could not be done and why. */
export function internalError(what: string, cause: unknown): MnsError {
  return new MnsError('InternalError', `${what}: ${cause instanceof Error ? cause.message : String(cause)}`);
}
