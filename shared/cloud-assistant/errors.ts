/**
 * Errors of the Cloud Assistant area. `ApiError` carries an error code exactly as the ECS API
 * returns it (seeds 000, 001, 004), so the library's own validation and the service answer alike.
 */

/** Every API error the library or the local emulator can raise, with its HTTP status and the API's message. */
export const API_ERRORS = {
  // request validation (seed 000 InvokeCommand, 001 RunCommand, 004 DescribeInvocations)
  'MissingParameter': [400, 'The input parameter that is mandatory for processing this request is not supplied.'],
  'MissingParameter.RegionId': [400, 'The input parameter "RegionId" that is mandatory for processing this request is not supplied.'],
  'MissingParameter.CommandId': [400, 'The input parameter "CommandId" that is mandatory for processing this request is not supplied.'],
  'InvalidParameter': [400, 'The specified parameter is not valid.'],
  'RegionId.ApiNotSupported': [400, 'The api is not supported in this region.'],
  'MissingParam.InstanceId': [400, 'The parameter instanceId is missing or empty.'],
  'NumberExceed.Tags': [400, 'Ensure the number of tag parameters is not greater than 20.'],
  'InvalidTagValue.Malformed': [400, 'The specified Tag.n.Value is not valid.'],
  'Duplicate.TagKey': [400, 'The Tag.N.Key contain duplicate key.'],
  'InvalidTagKey.Malformed': [400, 'The specified Tag.n.Key is not valid.'],
  'MissingParameter.TagKey': [400, 'You must specify Tag.N.Key.'],
  'InvalidContainerId.Malformed': [400, 'The specified parameter ContainerId is not valid.'],
  'InvalidContainerName.Malformed': [400, 'The specified parameter ContainerName is not valid.'],
  'InvalidClientToken.Malformed': [400, 'The specified parameter clientToken is not valid.'],
  'CmdParam.EmptyKey': [400, 'Command parameters can not be empty.'],
  'CmdParam.InvalidParamName': [400, 'A command parameter name is invalid.'],
  'CmdContent.DecodeError': [400, 'The CommandContent can not be base64 decoded.'],
  'InvalidInstance.NotMatch': [400, 'The specified instance type does not match the command.'],
  'MissingParam.Frequency': [400, 'The frequency must be specified when you create a timed task.'],
  'InvalidParam.Frequency': [400, 'The specified frequency is invalid.'],
  'ParameterKey.Duplicate': [400, 'The parameter may not contain duplicate keys.'],
  'Parameter.NotMatched': [400, 'The parameters of creation do not match those of invocation.'],
  'Parameter.MissingValue': [400, 'The parameter value of this command is required.'],
  'WindowsPasswordName.Missed': [400, 'WindowsPasswordName must be specified when you create a Windows task.'],
  'Parameter.Disabled': [400, 'Parameters should not be passed when CreateCommand.EnableParameter is false.'],
  'InvalidParameter.Parameters': [400, 'The specified parameter Parameters is not valid.'],
  'InvalidParameter.WorkingDir': [400, 'The specified parameter WorkingDir is not valid.'],
  'NumberExceed.ResourceTags': [400, 'The maximum number of ResourceTags is exceeded.'],
  'MissingParameter.ResourceTagKey': [400, 'You must specify ResourceTag.N.Key.'],
  'InvalidResourceTagKey.Malformed': [400, 'The specified ResourceTag key is not valid.'],
  'InvalidResourceTagValue.Malformed': [400, 'The specified ResourceTag value is not valid.'],
  'Duplicate.ResourceTagKey': [400, 'The ResourceTag contains duplicate keys.'],
  'InvalidResourceTag.InstanceNotFound': [400, 'InstanceIds are not found by the specified ResourceTag.'],
  'InvalidResourceTag.ConflictWithInstanceIds': [400, 'The specified param ResourceTag conflicts with InstanceId.'],
  'InvalidParameter.OssOutputDelivery': [400, 'The specified parameter OssOutputDelivery is not valid.'],
  'InvalidOssOutputDelivery.KeyPrefixMalformed': [400, 'The prefix of the OSS key specified in the parameter OssOutputDelivery is not valid.'],
  'InvalidParam.PageNumber': [400, 'The specified parameter is invalid.'],
  'InvalidParam.PageSize': [400, 'The specified parameter is invalid.'],
  'InvalidParameter.NextToken': [400, 'The specified parameter NextToken is not valid.'],
  'InvalidParameter.MaxResults': [400, 'The specified parameter MaxResults is not valid.'],
  'CmdContent.ExceedLimit': [403, 'The length of the command content exceeds the upper limit.'],
  'CmdName.ExceedLimit': [403, 'The length of the command name exceeds the upper limit.'],
  'CmdDesc.ExceedLimit': [403, 'The length of the command description exceeds the upper limit.'],
  'CmdCount.ExceedQuota': [403, 'The total number of commands in the current region exceeds the quota.'],
  'CmdParamCount.ExceedLimit': [403, "You've reached the limit on the count of command parameters."],
  'CmdParamName.ExceedLimit': [403, 'The length of the command parameter name exceeds the limit.'],
  'InstanceIds.ExceedLimit': [403, 'The number of instance IDs exceeds the upper limit.'],
  'Invocation.ExceedQuota': [403, 'The invocation quota in the current region has been reached for today.'],
  'ParameterCount.ExceedLimit': [403, 'The number of command parameters exceeds the maximum number that can be set.'],
  'ParameterKey.ExceedLimit': [403, 'The length of the specified parameter key exceeds the maximum length that can be set.'],
  'ParameterType.NotSupported': [403, 'The type of parameter value is not supported.'],
  'Username.ExceedLimit': [403, 'The length of the username exceeds the upper limit.'],
  'WindowsPasswordName.ExceedLimit': [403, 'The length of the WindowsPasswordName exceeds the upper limit.'],
  'Operation.Forbidden': [403, 'The operation is not permitted.'],
  'IdempotentParameterMismatch': [403, 'The specified parameter has changed while using an already used clientToken.'],
  'IdempotentProcessing': [403, 'The previous idempotent request(s) is still processing.'],
  'InvalidParameterCharacter.CommandName': [403, 'The command Name contains illegal characters.'],
  'InvalidParameterCharacter.CommandDescription': [403, 'The command Description contains illegal characters.'],
  'InvalidParameterCharacter.CommandWorkingDir': [403, 'The command WorkingDir contains illegal characters.'],
  'InvalidLauncher.LengthLimitExceeded': [403, 'The length of the parameter Launcher exceeds the limit of 1 KB characters.'],
  'InvalidParameterCharset.Parameters': [403, 'The parameter Parameters contains illegal charset.'],
  'InvalidTimeout.ExceedLimit': [403, 'The specified parameter Timeout exceeds the upper limit.'],
  'InvalidCmdType.NotFound': [404, 'The specified command type does not exist.'],
  'InvalidRepeatMode.NotFound': [404, 'The specified repeat mode does not exist.'],
  'InvalidRegionId.NotFound': [404, 'The RegionId provided does not exist in our records.'],
  'InvalidInstance.NotFound': [404, 'The specified instance does not exist.'],
  'InvalidCmdId.NotFound': [404, 'The specified command ID does not exist.'],
  'InvalidInvokeId.NotFound': [404, 'The specified invoke ID does not exist.'],
  'InvalidResourceGroup.NotFound': [404, 'The ResourceGroup provided does not exist in our records.'],
  'InvalidTerminationMode.NotFound': [404, 'The specified parameter TerminationMode does not exist.'],
  'InvalidOssOutputDelivery.BucketNotFound': [404, 'The OSS bucket specified in the parameter OssOutputDelivery does not exist.'],
  'InternalError.Dispatch': [500, 'An error occurred when you dispatched the request.'],
  // common POP errors (reference §4.5)
  'SignatureDoesNotMatch': [400, 'Specified signature is not matched with our calculation.'],
  'IncompleteSignature': [400, 'The request signature does not conform to Aliyun standards.'],
  'SignatureNonceUsed': [400, 'Specified signature nonce was used already.'],
  'InvalidTimeStamp.Expired': [400, 'Specified time stamp or date value is expired.'],
  'InvalidAccessKeyId.NotFound': [404, 'Specified access key is not found.'],
  'InvalidAction.NotFound': [404, 'Specified api is not found, please check your url and method.'],
  'Throttling.User': [400, 'Request was denied due to user flow control.'],
  'ServiceUnavailable': [503, 'The request has failed due to a temporary failure of the server.'],
} as const satisfies Record<string, readonly [number, string]>;

export type ApiErrorCode = keyof typeof API_ERRORS;

/**
 * Codes whose HTTP status depends on the operation. `API_ERRORS` holds RunCommand's status (seed 001);
 * InvokeCommand's current edition (seed 000) answers these with 403 instead of 400.
 */
export const OPERATION_HTTP_STATUS = {
  InvokeCommand: {
    'ParameterKey.Duplicate': 403,
    'Parameter.NotMatched': 403,
    'WindowsPasswordName.Missed': 403,
  },
} as const satisfies Record<string, Partial<Record<ApiErrorCode, number>>>;

/** An error the ECS API would answer with: its code, HTTP status and a message a person understands. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly code: ApiErrorCode;
  readonly httpStatus: number;
  /** What exactly was wrong, without the API's own message in front. */
  readonly detail: string | undefined;

  /**
   * @param detail what exactly was wrong, appended to the API's own message
   * @param options.httpStatus the status when the operation answers this code differently (see `OPERATION_HTTP_STATUS`)
   */
  constructor(code: ApiErrorCode, detail?: string, options?: { cause?: unknown; httpStatus?: number | undefined }) {
    const [status, apiMessage] = API_ERRORS[code];
    super(detail ? `${apiMessage} ${detail}` : apiMessage, options && 'cause' in options ? { cause: options.cause } : undefined);
    this.code = code;
    this.httpStatus = options?.httpStatus ?? status;
    this.detail = detail || undefined;
  }
}

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError;
}

/**
 * A call to the ECS API failed: the service's answer (code, status, request id) or a transport
 * failure, translated from the SDK's own error classes so nothing above the port depends on them.
 */
export class ServiceCallError extends Error {
  override readonly name = 'ServiceCallError';
  readonly action: string;
  readonly code: string;
  readonly httpStatus: number | undefined;
  readonly requestId: string | undefined;
  /** The service's `x-acs-retry-after` hint, as sent (its unit is unconfirmed; see RetryPolicy). */
  readonly retryAfter: number | undefined;

  constructor(
    action: string,
    fields: { code: string; message: string; httpStatus?: number | undefined; requestId?: string | undefined; retryAfter?: number | undefined },
    options?: { cause?: unknown },
  ) {
    super(`${action} failed: ${fields.code}: ${fields.message}`, options);
    this.action = action;
    this.code = fields.code;
    this.httpStatus = fields.httpStatus;
    this.requestId = fields.requestId;
    this.retryAfter = fields.retryAfter;
  }
}

/** Turns whatever the SDK threw into a ServiceCallError (its errors carry code/statusCode/requestId). */
export function toServiceCallError(action: string, error: unknown): ServiceCallError {
  if (error instanceof ServiceCallError) return error;
  const e = (error ?? {}) as { code?: unknown; statusCode?: unknown; requestId?: unknown; retryAfter?: unknown; message?: unknown; data?: { Message?: unknown } };
  const code = typeof e.code === 'string' && e.code ? e.code : 'NetworkError';
  const message = typeof e.data?.Message === 'string' ? e.data.Message : typeof e.message === 'string' ? e.message : String(error);
  return new ServiceCallError(
    action,
    {
      code,
      message,
      httpStatus: typeof e.statusCode === 'number' ? e.statusCode : undefined,
      requestId: typeof e.requestId === 'string' ? e.requestId : undefined,
      retryAfter: typeof e.retryAfter === 'number' && Number.isFinite(e.retryAfter) ? e.retryAfter : undefined,
    },
    { cause: error },
  );
}
