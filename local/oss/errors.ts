/**
 * OSS service errors: code, HTTP status, default message and EC, and the XML body the service sends.
 * ali-oss turns `<Error><Code>X</Code>…` into an `Error` named `XError` with `code`, `status`,
 * `requestId`, `hostId` and `ecCode` (docs/platform-facts.md §9.5).
 */
import { renderXml, type XmlElement } from './xml.ts';

/**
 * [status, default message, EC]. The EC values marked as confirmed were seen in real OSS answers;
 * `0000-00000000` marks the ones the emulator does not know — never build logic on an EC. A thrown
 * error may carry a more precise EC where an OSS troubleshooting page documents one (lifecycle.ts).
 */
const CATALOG = {
  AccessDenied: [403, 'You have no right to access this resource.', '0000-00000000'],
  BucketAlreadyExists: [409, 'The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.', '0000-00000000'],
  BucketNotEmpty: [409, 'The bucket you tried to delete is not empty.', '0000-00000000'],
  EntityTooLarge: [400, 'Your proposed upload exceeds the maximum allowed size.', '0000-00000000'],
  FileAlreadyExists: [409, 'The object you specified already exists and can not be overwritten.', '0000-00000000'],
  InternalError: [500, 'We encountered an internal error. Please try again.', '0000-00000000'],
  InvalidArgument: [400, 'An argument is not valid.', '0000-00000000'],
  InvalidBucketName: [400, 'The specified bucket is not valid.', '0000-00000000'],
  InvalidDigest: [400, 'The Content-MD5 you specified is not valid.', '0000-00000000'],
  InvalidObjectName: [400, 'The specified object is not valid.', '0000-00000000'],
  InvalidAccessKeyId: [403, 'The OSS Access Key Id you provided does not exist in our records.', '0000-00000000'],
  InvalidRange: [416, 'The requested range cannot be satisfied.', '0000-00000000'],
  InvalidURI: [400, "Couldn't parse the specified URI.", '0000-00000000'],
  MalformedXML: [400, 'The XML you provided was not well-formed or did not validate against our published schema.', '0000-00000000'],
  MethodNotAllowed: [405, 'The specified method is not allowed against this resource.', '0000-00000000'],
  NoSuchBucket: [404, 'The specified bucket does not exist.', '0015-00000101'], // confirmed
  NoSuchKey: [404, 'The specified key does not exist.', '0026-00000001'], // confirmed
  // Message as in the GetBucketLifecycle page's example answer.
  NoSuchLifecycle: [404, 'No Row found in Lifecycle Table.', '0000-00000000'],
  NotImplemented: [501, 'A header or operation you provided implies functionality that is not implemented.', '0000-00000000'],
  PreconditionFailed: [412, 'At least one of the pre-conditions you specified did not hold.', '0000-00000000'],
  RequestTimeout: [400, 'Your socket connection to the server was not read from or written to within the timeout period.', '0000-00000000'],
  RequestTimeTooSkewed: [403, 'The difference between the request time and the current time is too large.', '0000-00000000'],
  SignatureDoesNotMatch: [403, 'The request signature we calculated does not match the signature you provided. Check your key and signing method.', '0002-00000040'], // confirmed
} as const satisfies Record<string, readonly [number, string, string]>;

/** Every error code the local OSS service can answer with. */
export type OssErrorCode = keyof typeof CATALOG;

/** A request that fails with an OSS error; thrown anywhere below the server and rendered by it. */
export class OssError extends Error {
  readonly code: OssErrorCode;
  readonly status: number;
  readonly ec: string;
  /** Extra elements after `HostId`, e.g. `Key`, `BucketName`, `StringToSign`, in document order. */
  readonly details: Readonly<Record<string, string>>;
  /** Response headers the error adds, e.g. `Content-Range` on a 416. */
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    code: OssErrorCode,
    message?: string,
    options: { details?: Record<string, string>; headers?: Record<string, string>; ec?: string } = {},
  ) {
    const [status, defaultMessage, ec] = CATALOG[code];
    super(message ?? defaultMessage);
    this.name = `${code}Error`;
    this.code = code;
    this.status = status;
    this.ec = options.ec ?? ec;
    this.details = options.details ?? {};
    this.headers = options.headers ?? {};
  }
}

/** The `<Error>` document for an error, element order as the service writes it. */
export function errorXml(error: OssError, requestId: string, hostId: string): string {
  const body: XmlElement = { Code: error.code, Message: error.message, RequestId: requestId, HostId: hostId };
  for (const [k, v] of Object.entries(error.details)) body[k] = v;
  body.EC = error.ec;
  body.RecommendDoc = `https://api.aliyun.com/troubleshoot?q=${error.ec}`;
  return renderXml('Error', body);
}
