// @alicloud/mns 1.2.0 ships no type definitions; these describe the part fleetrun and its tests use.
// Shapes from sdk-wire.md §3.4: every method resolves { code, headers, body } with XML values as strings.
declare module '@alicloud/mns' {
  export interface MnsClientOptions {
    accessKeyId?: string;
    accessKeyID?: string;
    accessKeySecret: string;
    securityToken?: string;
    region?: string;
    endpoint?: string;
    secure?: boolean;
    internal?: boolean;
    vpc?: boolean;
    readTimeout?: number;
    connectTimeout?: number;
  }
  export interface MnsResponse<B = unknown> {
    code: number;
    headers: Record<string, string>;
    body?: B;
  }
  export interface MnsMessageToSend {
    MessageBody: string;
    DelaySeconds?: number;
    Priority?: number;
  }
  export interface MnsSentMessage {
    MessageId: string;
    MessageBodyMD5: string;
  }
  export interface MnsReceivedMessage {
    MessageId: string;
    ReceiptHandle: string;
    MessageBodyMD5: string;
    MessageBody: string;
    EnqueueTime: string;
    NextVisibleTime: string;
    FirstDequeueTime: string;
    DequeueCount: string;
    Priority: string;
  }
  export default class MNSClient {
    constructor(accountId: string, options: MnsClientOptions);
    createQueue(name: string, attributes?: Record<string, unknown>): Promise<MnsResponse>;
    deleteQueue(name: string): Promise<MnsResponse>;
    listQueue(start?: string, limit?: number, prefix?: string): Promise<MnsResponse<{ Queue?: unknown; NextMarker?: string }>>;
    getQueueAttributes(name: string): Promise<MnsResponse<Record<string, string>>>;
    setQueueAttributes(name: string, attributes: Record<string, unknown>): Promise<MnsResponse>;
    sendMessage(queue: string, message: MnsMessageToSend): Promise<MnsResponse<MnsSentMessage>>;
    batchSendMessage(queue: string, messages: MnsMessageToSend[]): Promise<MnsResponse<MnsSentMessage[] | MnsSentMessage>>;
    receiveMessage(queue: string, waitSeconds?: number): Promise<MnsResponse<MnsReceivedMessage>>;
    batchReceiveMessage(queue: string, numOfMessages: number, waitSeconds?: number): Promise<MnsResponse<MnsReceivedMessage[] | MnsReceivedMessage>>;
    peekMessage(queue: string): Promise<MnsResponse<MnsReceivedMessage>>;
    batchPeekMessage(queue: string, numOfMessages: number): Promise<MnsResponse<MnsReceivedMessage[] | MnsReceivedMessage>>;
    deleteMessage(queue: string, receiptHandle: string): Promise<MnsResponse>;
    batchDeleteMessage(queue: string, receiptHandles: string[]): Promise<MnsResponse<unknown>>;
    changeMessageVisibility(queue: string, receiptHandle: string, visibilityTimeout: number): Promise<MnsResponse<{ ReceiptHandle: string; NextVisibleTime: string }>>;
  }
}
