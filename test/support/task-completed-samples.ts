/**
 * TaskCompleted events as EventBridge delivers them, for the tests of their schema
 * (shared/events/task-completed.ts) and of the envelope that carries them.
 */

/** The documented sample (reference §1.2–1.3): one CloudEvent from the default bus, with its six data fields. */
export const documentedTaskCompleted = {
  id: '45ef4dewdwe1-7c35-447a-bd93-fab0000',
  source: 'acs.ecs',
  specversion: '1.0',
  subject: 'acs.ecs:cn-hangzhou:1234567890980000:215672',
  time: '2020-11-19T21:04:41+08:00',
  type: 'ecs:CloudAssistant:TaskCompleted',
  aliyunaccountid: '1234567890980000',
  aliyunpublishtime: '2020-11-19T21:04:42Z',
  aliyuneventbusname: 'default',
  aliyunregionid: 'cn-hangzhou',
  aliyunpublishaddr: '172.25.0.0',
  data: { commandId: 'c-hz045xxxxxxxxxx', commandName: 'hello-linux.sh', exitCode: '0', finishTime: '2023-12-14T07:39:48Z', instanceId: 'i-bp114xxxxxxxxxxxxxxx', invocationStatus: 'Success' },
};
