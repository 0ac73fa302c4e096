/**
 * Types for `@alicloud/mns` 1.2.0, which ships none: just what fleetrun and its tests call. Every
 * method resolves to `{ code, headers, body }` with the XML flattened to strings (docs/platform-facts.md §8.4);
 * errors from an XML `<Error>` are thrown as `Error` named `MNS<Code>Error`, without a `.code`.
 */
declare module '@alicloud/mns' {
  namespace MNSClient {
    interface Options {
      accessKeyId?: string;
      accessKeyID?: string;
      accessKeySecret: string;
      /** Must start with http:// or https://. */
      endpoint?: string;
      region?: string;
      secure?: boolean;
      internal?: boolean;
      vpc?: boolean;
      securityToken?: string;
      readTimeout?: number;
      connectTimeout?: number;
    }
    interface Response<B = undefined> {
      code: number;
      headers: Record<string, string | undefined>;
      body: B;
    }
    /** Flattened XML: every leaf is a string. */
    type Fields = Record<string, string>;
    interface SendParams {
      MessageBody: string;
      DelaySeconds?: number;
      Priority?: number;
    }
  }

  class MNSClient {
    constructor(accountId: string, options: MNSClient.Options);
    createQueue(name: string, attributes?: Record<string, string | number | boolean>): Promise<MNSClient.Response<MNSClient.Fields | undefined>>;
    deleteQueue(name: string): Promise<MNSClient.Response<undefined>>;
    listQueue(start?: string, limit?: number, prefix?: string): Promise<MNSClient.Response<MNSClient.Fields[] | undefined>>;
    getQueueAttributes(name: string): Promise<MNSClient.Response<MNSClient.Fields>>;
    setQueueAttributes(name: string, attributes?: Record<string, string | number | boolean>): Promise<MNSClient.Response<undefined>>;
    sendMessage(queue: string, params: MNSClient.SendParams): Promise<MNSClient.Response<MNSClient.Fields>>;
    batchSendMessage(queue: string, params: MNSClient.SendParams[]): Promise<MNSClient.Response<MNSClient.Fields[]>>;
    receiveMessage(queue: string, waitSeconds?: number): Promise<MNSClient.Response<MNSClient.Fields>>;
    batchReceiveMessage(queue: string, numOfMessages: number, waitSeconds?: number): Promise<MNSClient.Response<MNSClient.Fields[]>>;
    peekMessage(queue: string): Promise<MNSClient.Response<MNSClient.Fields>>;
    batchPeekMessage(queue: string, numOfMessages: number): Promise<MNSClient.Response<MNSClient.Fields[]>>;
    deleteMessage(queue: string, receiptHandle: string): Promise<MNSClient.Response<undefined>>;
    batchDeleteMessage(queue: string, receiptHandles: string[]): Promise<MNSClient.Response<MNSClient.Fields[] | undefined>>;
    changeMessageVisibility(queue: string, receiptHandle: string, visibilityTimeout: number): Promise<MNSClient.Response<MNSClient.Fields>>;
  }

  export = MNSClient;
}
