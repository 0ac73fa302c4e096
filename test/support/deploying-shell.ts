/**
 * What a deploying shell gives `s deploy`: every chat platform configured, so each variable s.yaml
 * takes from the shell has a value to follow to the functions that need it. Sample values only.
 */
export const DEPLOYING_SHELL: Readonly<Record<string, string>> = {
  FLEETRUN_SEAL_KEY: 'sample-seal-key-0123456789abcdef',
  FLEETRUN_SLACK_SIGNING_SECRET: 'sample-slack-signing-secret',
  FLEETRUN_DINGTALK_APP_SECRET: 'sample-dingtalk-app-secret',
  FLEETRUN_LARK_VERIFICATION_TOKEN: 'sample-lark-verification-token',
  FLEETRUN_LARK_ENCRYPT_KEY: 'sample-lark-encrypt-key',
  FLEETRUN_LARK_APP_ID: 'cli_sample_app',
  FLEETRUN_LARK_APP_SECRET: 'sample-lark-app-secret',
  FLEETRUN_WEBHOOK_SECRET: 'sample-webhook-secret',
  FLEETRUN_WEBHOOK_CALLBACK_ORIGINS: 'https://ci.example.com,https://chat-relay.example.com:8443',
  FLEETRUN_PUBLIC_URL: 'https://fleetrun-chatops-abcdef.cn-hangzhou.fcapp.run',
  FLEETRUN_REPORT_LINK_DAYS: '3',
  FLEETRUN_CHAT_MAX_BODY_BYTES: '65536',
  FLEETRUN_NODE_OPTIONS: '',
  FLEETRUN_RUN_RETENTION_DAYS: '14',
  FLEETRUN_APPROVAL_TTL_SECONDS: '1800',
};
