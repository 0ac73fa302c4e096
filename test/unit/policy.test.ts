import { describe, expect, it } from 'vitest';
import { PolicyError, decide, decideAction, loadPolicy, parsePolicy, type AccessRequest, type Policy, type Requester } from '../../shared/config/policy.ts';

const DEMO_POLICY = new URL('../../local/demo/policy.yaml', import.meta.url).pathname;

const EXAMPLE = `
rules:
  - name: ops-on-demo
    users: ['slack:U123', 'dingtalk:*', 'webhook:ci-bot']
    channels: ['slack:C9*', 'dingtalk:*', 'webhook:*']
    commands: [disk-check, uptime]
    targets:
      tags: { env: [demo, staging] }
    maxTargets: 200
    allowScript: false
    actions: [run, status, stop, jobs]
`;

const slack = (userId: string, channelId?: string): Requester => ({ platform: 'slack', userId, ...(channelId ? { channelId } : {}) });
const run = (command: string, tags: Record<string, string>, targetCount = 3): AccessRequest => ({ action: 'run', command, targets: { tags }, targetCount });

describe('Function: parsePolicy', () => {
  it('fills in the defaults', () => {
    const policy = parsePolicy("rules:\n  - name: r\n    users: ['slack:U1']\n    commands: ['*']\n");
    expect(policy.rules[0]).toEqual({ name: 'r', users: ['slack:U1'], commands: ['*'], allowScript: false, actions: ['run', 'status', 'stop', 'retry', 'jobs'] });
    expect(parsePolicy('rules: []\n').rules).toEqual([]);
  });

  it('reads tag values given as one value or a list', () => {
    const policy = parsePolicy("rules:\n  - name: r\n    users: ['*:*']\n    commands: ['*']\n    targets: { tags: { env: demo, tier: [1, 2] } }\n");
    expect(policy.rules[0]!.targets).toEqual({ tags: { env: ['demo'], tier: ['1', '2'] } });
  });

  const problems: [string, string, RegExp][] = [
    ['not YAML', 'rules: [\n', /^p\.yaml: not valid YAML/],
    ['empty', '', /^p\.yaml: the file is empty$/],
    ['no rules', 'rule: []\n', /^p\.yaml: rules: is required$/],
    ['a misspelt field', "rules:\n  - name: r\n    users: ['slack:U1']\n    commands: ['*']\n    allowScripts: true\n", /^p\.yaml: rule "r": Unrecognized key: "allowScripts"$/],
    ['a rule without a name', "rules:\n  - users: ['slack:U1']\n", /^p\.yaml: rule 1, name: is required$/],
    ['a user without a platform', "rules:\n  - name: r\n    users: ['U1']\n    commands: ['*']\n", /^p\.yaml: rule "r", users\.0: looks like platform:id, the platform one of slack, dingtalk, lark, webhook or \*$/],
    ['an unknown platform', "rules:\n  - name: r\n    users: ['teams:U1']\n    commands: ['*']\n", /rule "r", users\.0: looks like platform:id/],
    ['no users', "rules:\n  - name: r\n    users: []\n    commands: ['*']\n", /rule "r", users: lists nobody$/],
    ['empty channels', "rules:\n  - name: r\n    users: ['*:*']\n    channels: []\n    commands: ['*']\n", /rule "r", channels: lists no channels/],
    ['help as an action', "rules:\n  - name: r\n    users: ['*:*']\n    actions: [help]\n", /rule "r", actions\.0: an action is one of run, status, stop, retry, jobs \(help is always allowed\)$/],
    ['run with nothing to run', "rules:\n  - name: r\n    users: ['*:*']\n", /rule "r", commands: the rule allows "run" but no commands and no scripts/],
    ['empty targets', "rules:\n  - name: r\n    users: ['*:*']\n    commands: ['*']\n    targets: {}\n", /rule "r", targets: names neither tags nor instanceIds/],
    ['a bad instance pattern', "rules:\n  - name: r\n    users: ['*:*']\n    commands: ['*']\n    targets: { instanceIds: [web-1] }\n", /rule "r", targets\.instanceIds\.0: looks like i-bp1abc…/],
    ['a zero maxTargets', "rules:\n  - name: r\n    users: ['*:*']\n    commands: ['*']\n    maxTargets: 0\n", /rule "r", maxTargets: /],
    ['a name used twice', "rules:\n  - name: r\n    users: ['*:*']\n    commands: ['*']\n  - name: r\n    users: ['*:*']\n    actions: [jobs]\n", /^p\.yaml: rule "r", name: rule name "r" is used twice$/],
  ];
  for (const [what, yaml, message] of problems)
    it(`names the file, rule and field: ${what}`, () => {
      expect(() => parsePolicy(yaml, 'p.yaml')).toThrow(PolicyError);
      expect(() => parsePolicy(yaml, 'p.yaml')).toThrow(message);
    });

  it('a rule for status and jobs only needs no commands', () => {
    expect(() => parsePolicy("rules:\n  - name: r\n    users: ['*:*']\n    actions: [status, jobs]\n")).not.toThrow();
  });
});

describe('Policy: approval', () => {
  it('a rule with approval: required says so in the decision it allows, with its approvers', () => {
    const policy = parsePolicy("rules:\n  - name: gated\n    users: ['slack:U1']\n    commands: [reboot]\n    approval: required\n    approvers: ['slack:U2', 'lark:*']\n  - name: open\n    users: ['slack:U1']\n    commands: ['*']\n");
    expect(decide(policy, { platform: 'slack', userId: 'U1' }, { action: 'run', command: 'reboot' })).toEqual({ allow: true, rule: 'gated', reason: 'allowed by rule "gated"', approval: { approvers: ['slack:U2', 'lark:*'] } });
    expect(decide(policy, { platform: 'slack', userId: 'U1' }, { action: 'run', command: 'uptime' })).toEqual({ allow: true, rule: 'open', reason: 'allowed by rule "open"' });
  });

  it('refuses an approval other than "required" and approvers that are not platform:id', () => {
    expect(() => parsePolicy("rules:\n  - name: r\n    users: ['slack:U1']\n    commands: ['*']\n    approval: maybe\n")).toThrow(/approval is "required"/);
    expect(() => parsePolicy("rules:\n  - name: r\n    users: ['slack:U1']\n    commands: ['*']\n    approval: required\n    approvers: [bob]\n")).toThrow(/looks like platform:id/);
    expect(() => parsePolicy("rules:\n  - name: r\n    users: ['slack:U1']\n    commands: ['*']\n    approval: required\n    approvers: []\n")).toThrow(/lists nobody/);
  });
});

describe('Function: decide', () => {
  const policy = parsePolicy(EXAMPLE);

  it('denies by default', () => {
    const empty: Policy = { rules: [] };
    expect(decide(empty, slack('U123', 'C900'), run('uptime', { env: 'demo' }))).toEqual({ allow: false, reason: 'no rule lets slack:U123 use fleetrun (denied by default)' });
    expect(decide(policy, slack('U999', 'C900'), run('uptime', { env: 'demo' }))).toEqual({ allow: false, reason: 'no rule lets slack:U999 use fleetrun (denied by default)' });
    expect(decide(policy, { platform: 'lark', userId: 'U123' }, { action: 'jobs' }).allow).toBe(false);
  });

  it('always allows help', () => {
    expect(decide({ rules: [] }, slack('anyone'), { action: 'help' })).toEqual({ allow: true, reason: 'help is always allowed' });
  });

  it('allows what a rule allows, and says which rule', () => {
    expect(decide(policy, slack('U123', 'C900'), run('disk-check', { env: 'demo' }))).toEqual({ allow: true, rule: 'ops-on-demo', reason: 'allowed by rule "ops-on-demo"' });
    expect(decide(policy, slack('U123', 'C900'), { action: 'status', command: 'uptime', targets: { tags: { env: 'demo' } } }).allow).toBe(true);
    expect(decide(policy, slack('U123', 'C900'), { action: 'stop', command: 'uptime', targets: { tags: { env: 'demo' } } }).allow).toBe(true);
    expect(decide(policy, slack('U123', 'C900'), { action: 'jobs' }).allow).toBe(true);
  });

  it('matches users with * wildcards; the platform ignores case, the id does not', () => {
    expect(decide(policy, { platform: 'dingtalk', userId: 'anyone-at-all', channelId: 'g1' }, run('uptime', { env: 'staging' })).allow).toBe(true);
    expect(decide(policy, { platform: 'DingTalk', userId: 'x', channelId: 'g1' }, run('uptime', { env: 'staging' })).allow).toBe(true);
    expect(decide(policy, { platform: 'webhook', userId: 'ci-bot', channelId: 'x' }, run('uptime', { env: 'demo' })).allow).toBe(true);
    expect(decide(policy, { platform: 'webhook', userId: 'ci-bot-2', channelId: 'x' }, run('uptime', { env: 'demo' })).allow).toBe(false);
    expect(decide(policy, slack('u123', 'C900'), run('uptime', { env: 'demo' })).allow).toBe(false);
    const prefix = parsePolicy("rules:\n  - name: r\n    users: ['slack:U0OPS*', '*:admin']\n    actions: [jobs]\n");
    expect(decide(prefix, slack('U0OPS42'), { action: 'jobs' }).allow).toBe(true);
    expect(decide(prefix, slack('U0DEV42'), { action: 'jobs' }).allow).toBe(false);
    expect(decide(prefix, { platform: 'lark', userId: 'admin' }, { action: 'jobs' }).allow).toBe(true);
    // Only * is special: a dot in a pattern is a dot.
    const dots = parsePolicy("rules:\n  - name: r\n    users: ['lark:a.b']\n    actions: [jobs]\n");
    expect(decide(dots, { platform: 'lark', userId: 'axb' }, { action: 'jobs' }).allow).toBe(false);
  });

  it('limits a rule to its channels; no channel does not match', () => {
    expect(decide(policy, slack('U123', 'C8'), run('uptime', { env: 'demo' }))).toEqual({ allow: false, reason: 'denied: rule "ops-on-demo" applies only in certain channels' });
    expect(decide(policy, slack('U123'), run('uptime', { env: 'demo' })).allow).toBe(false);
    expect(decide(policy, slack('U123', 'C9123'), run('uptime', { env: 'demo' })).allow).toBe(true);
  });

  it('allows only listed commands, or any with *', () => {
    expect(decide(policy, slack('U123', 'C900'), run('reboot', { env: 'demo' }))).toEqual({ allow: false, reason: 'denied: rule "ops-on-demo" does not allow command "reboot"' });
    expect(decide(policy, slack('U123', 'C900'), { action: 'run', targets: { tags: { env: 'demo' } }, targetCount: 1 }).reason).toBe('denied: rule "ops-on-demo": the run names no command');
    const any = parsePolicy("rules:\n  - name: r\n    users: ['*:*']\n    commands: ['*']\n");
    expect(decide(any, slack('x'), run('reboot', { env: 'prod' })).allow).toBe(true);
    const globbed = parsePolicy("rules:\n  - name: r\n    users: ['*:*']\n    commands: ['disk-*']\n");
    expect(decide(globbed, slack('x'), run('disk-check', {})).allow).toBe(true);
    expect(decide(globbed, slack('x'), run('uptime', {})).allow).toBe(false);
  });

  it('allows a run only when it is limited to allowed tag values', () => {
    const who = slack('U123', 'C900');
    expect(decide(policy, who, run('uptime', { env: 'staging' })).allow).toBe(true);
    expect(decide(policy, who, run('uptime', { env: 'prod' }))).toEqual({ allow: false, reason: 'denied: rule "ops-on-demo" does not allow tag env=prod (env may be demo, staging)' });
    // Extra tags only narrow an ANDed filter.
    expect(decide(policy, who, run('uptime', { env: 'demo', role: 'web' })).allow).toBe(true);
    // Leaving the rule's tag out would reach every env.
    expect(decide(policy, who, run('uptime', { role: 'web' }))).toEqual({
      allow: false,
      reason: 'denied: rule "ops-on-demo" needs the run limited to tag env (demo, staging): add env=… to "on"',
    });
    expect(decide(policy, who, run('uptime', { Env: 'demo' })).allow).toBe(false);
    // A run by instance id cannot be checked against tags before it starts.
    expect(decide(policy, who, { action: 'run', command: 'uptime', targets: { instanceIds: ['i-abc1'] } }).reason).toBe(
      'denied: rule "ops-on-demo" allows only targets chosen by tag',
    );
    expect(decide(policy, who, { action: 'run', command: 'uptime', targetCount: 1 }).reason).toBe('denied: rule "ops-on-demo" limits targets, and the run names none');
  });

  it('matches tag values and instance ids with wildcards', () => {
    const p = parsePolicy("rules:\n  - name: r\n    users: ['*:*']\n    commands: ['*']\n    targets: { tags: { env: ['stag*'], team: '*' }, instanceIds: ['i-bp1demo*'] }\n");
    expect(decide(p, slack('x'), run('u', { env: 'staging-2', team: 'a' })).allow).toBe(true);
    expect(decide(p, slack('x'), run('u', { env: 'staging-2' })).allow).toBe(false);
    expect(decide(p, slack('x'), { action: 'run', command: 'u', targets: { instanceIds: ['i-bp1demo01', 'i-bp1demo02'] } }).allow).toBe(true);
    expect(decide(p, slack('x'), { action: 'run', command: 'u', targets: { instanceIds: ['i-bp1demo01', 'i-bp1prod01'] } }).reason).toBe(
      'denied: rule "r" does not allow instance i-bp1prod01',
    );
    const idsOnly = parsePolicy("rules:\n  - name: r\n    users: ['*:*']\n    commands: ['*']\n    targets: { instanceIds: ['i-*'] }\n");
    expect(decide(idsOnly, slack('x'), run('u', { env: 'demo' })).reason).toBe('denied: rule "r" allows only targets chosen by instance id');
  });

  it('limits the number of targets, and fails closed when it is not known', () => {
    const who = slack('U123', 'C900');
    expect(decide(policy, who, run('uptime', { env: 'demo' }, 200)).allow).toBe(true);
    expect(decide(policy, who, run('uptime', { env: 'demo' }, 201)).reason).toBe('denied: rule "ops-on-demo" allows at most 200 targets; this run has 201');
    expect(decide(policy, who, { action: 'run', command: 'uptime', targets: { tags: { env: 'demo' } } }).reason).toBe(
      'denied: rule "ops-on-demo" allows at most 200 targets, and the number of targets is not known yet',
    );
    const ids = parsePolicy("rules:\n  - name: r\n    users: ['*:*']\n    commands: ['*']\n    maxTargets: 2\n");
    expect(decide(ids, slack('x'), { action: 'run', command: 'u', targets: { instanceIds: ['i-a1', 'i-a2', 'i-a1'] } }).allow).toBe(true);
    expect(decide(ids, slack('x'), { action: 'run', command: 'u', targets: { instanceIds: ['i-a1', 'i-a2', 'i-a3'] } }).allow).toBe(false);
  });

  it('allows free-form scripts only where allowScript is set', () => {
    const script: AccessRequest = { action: 'run', script: true, targets: { tags: { env: 'demo' } }, targetCount: 1 };
    expect(decide(policy, slack('U123', 'C900'), script).reason).toBe('denied: rule "ops-on-demo" does not allow free-form scripts');
    const p = parsePolicy("rules:\n  - name: r\n    users: ['*:*']\n    allowScript: true\n");
    expect(decide(p, slack('x'), script).allow).toBe(true);
    // allowScript alone does not allow catalog commands.
    expect(decide(p, slack('x'), run('uptime', {})).allow).toBe(false);
  });

  it('allows only the listed actions', () => {
    const p = parsePolicy("rules:\n  - name: viewers\n    users: ['slack:*']\n    actions: [status, jobs]\n");
    expect(decide(p, slack('x'), { action: 'status' }).allow).toBe(true);
    expect(decide(p, slack('x'), { action: 'jobs' }).allow).toBe(true);
    expect(decide(p, slack('x'), { action: 'stop' }).reason).toBe('denied: rule "viewers" does not allow "stop"');
    expect(decide(p, slack('x'), run('uptime', {})).reason).toBe('denied: rule "viewers" does not allow "run"');
  });

  it('takes the first rule that allows, and says why the others did not', () => {
    const p = parsePolicy(`
rules:
  - name: viewers
    users: ['slack:*']
    actions: [status]
  - name: first
    users: ['slack:U1']
    commands: ['*']
  - name: second
    users: ['slack:*']
    commands: ['*']
`);
    expect(decide(p, slack('U1'), run('uptime', {})).rule).toBe('first');
    expect(decide(p, slack('U2'), run('uptime', {})).rule).toBe('second');
    expect(decide(p, slack('U1'), { action: 'status' }).rule).toBe('viewers');
    const none = parsePolicy(`
rules:
${['a', 'b', 'c', 'd', 'e'].map((n) => `  - name: ${n}\n    users: ['slack:*']\n    commands: [other]\n`).join('')}
`);
    expect(decide(none, slack('U1'), run('uptime', {})).reason).toBe(
      'denied: rule "a" does not allow command "uptime"; rule "b" does not allow command "uptime"; rule "c" does not allow command "uptime"; and 2 more',
    );
  });
});

describe('Function: decide, for status and stop: a decision on the run they name', () => {
  const policy = parsePolicy(EXAMPLE);
  const who = slack('U123', 'C900');
  const on = (action: 'status' | 'stop', command: string, tags: Record<string, string>): AccessRequest => ({ action, command, targets: { tags } });

  it('a rule that allows run of a command on some targets allows status and stop of such runs, whoever started them', () => {
    for (const action of ['status', 'stop'] as const) {
      expect(decide(policy, who, on(action, 'uptime', { env: 'staging' })), action).toEqual({ allow: true, rule: 'ops-on-demo', reason: 'allowed by rule "ops-on-demo"' });
      expect(decide(policy, who, on(action, 'disk-check', { env: 'demo', role: 'web' })).allow, action).toBe(true);
    }
  });

  it('and nothing outside them: other targets, other commands, runs not limited to its tags, scripts', () => {
    for (const action of ['status', 'stop'] as const) {
      expect(decide(policy, who, on(action, 'uptime', { env: 'prod' })).reason, action).toBe('denied: rule "ops-on-demo" does not allow tag env=prod (env may be demo, staging)');
      expect(decide(policy, who, on(action, 'reboot', { env: 'demo' })).reason, action).toBe('denied: rule "ops-on-demo" does not allow command "reboot"');
      expect(decide(policy, who, on(action, 'uptime', { role: 'web' })).reason, action).toBe(
        'denied: rule "ops-on-demo" covers only runs limited to tag env (demo, staging), and this run is not',
      );
      expect(decide(policy, who, { action, script: true, targets: { tags: { env: 'demo' } } }).reason, action).toBe('denied: rule "ops-on-demo" does not allow free-form scripts');
      // A run known only by its instance ids cannot be shown to be within a tag rule.
      expect(decide(policy, who, { action, command: 'uptime', targets: { instanceIds: ['i-abc1'] } }).reason, action).toBe('denied: rule "ops-on-demo" allows only targets chosen by tag');
    }
  });

  it('fails closed: a request that does not say what the run is about is not allowed by a rule with limits', () => {
    expect(decide(policy, who, { action: 'status' }).reason).toBe('denied: rule "ops-on-demo": the run names no command');
    expect(decide(policy, who, { action: 'stop', command: 'uptime' }).reason).toBe('denied: rule "ops-on-demo" limits targets, and the run names none');
  });

  it('maxTargets bounds only run', () => {
    expect(decide(policy, who, { ...on('stop', 'uptime', { env: 'demo' }), targetCount: 10_000 }).allow).toBe(true);
    expect(decide(policy, who, { action: 'status', command: 'uptime', targets: { tags: { env: 'demo' } } }).allow).toBe(true);
  });

  it('a rule that can run nothing covers every command and script on its targets', () => {
    const p = parsePolicy("rules:\n  - name: demo-viewers\n    users: ['slack:*']\n    targets: { tags: { env: [demo] } }\n    actions: [status]\n");
    expect(decide(p, slack('x'), on('status', 'reboot', { env: 'demo' })).allow).toBe(true);
    expect(decide(p, slack('x'), { action: 'status', script: true, targets: { tags: { env: 'demo' } } }).allow).toBe(true);
    expect(decide(p, slack('x'), on('status', 'uptime', { env: 'prod' })).allow).toBe(false);
    expect(decide(p, slack('x'), on('stop', 'uptime', { env: 'demo' })).reason).toBe('denied: rule "demo-viewers" does not allow "stop"');
  });

  it('a rule for scripts only covers scripts', () => {
    const p = parsePolicy("rules:\n  - name: scripters\n    users: ['slack:*']\n    allowScript: true\n");
    expect(decide(p, slack('x'), { action: 'stop', script: true, targets: { instanceIds: ['i-a1'] } }).allow).toBe(true);
    expect(decide(p, slack('x'), { action: 'stop', command: 'uptime', targets: { instanceIds: ['i-a1'] } }).reason).toBe('denied: rule "scripters" does not allow command "uptime"');
  });
});

describe('Function: decide, for retry: on the run it names, as status and stop', () => {
  const who = slack('U123', 'C900');
  const retry = (command: string, tags: Record<string, string>): AccessRequest => ({ action: 'retry', command, targets: { tags } });

  it('is an action of its own: a rule listing actions without it does not allow it; one with the default actions does', () => {
    expect(decide(parsePolicy(EXAMPLE), who, retry('uptime', { env: 'demo' })).reason).toBe('denied: rule "ops-on-demo" does not allow "retry"');
    expect(decideAction(parsePolicy(EXAMPLE), who, 'retry').allow).toBe(false);
    const all = parsePolicy(EXAMPLE.replace('    actions: [run, status, stop, jobs]\n', ''));
    expect(decide(all, who, retry('uptime', { env: 'staging' }))).toEqual({ allow: true, rule: 'ops-on-demo', reason: 'allowed by rule "ops-on-demo"' });
    expect(decideAction(all, who, 'retry').allow).toBe(true);
  });

  it('covers only runs within the rule: other targets, other commands, runs not limited to its tags are refused', () => {
    const all = parsePolicy(EXAMPLE.replace('    actions: [run, status, stop, jobs]\n', ''));
    expect(decide(all, who, retry('uptime', { env: 'prod' })).reason).toBe('denied: rule "ops-on-demo" does not allow tag env=prod (env may be demo, staging)');
    expect(decide(all, who, retry('reboot', { env: 'demo' })).reason).toBe('denied: rule "ops-on-demo" does not allow command "reboot"');
    expect(decide(all, who, retry('uptime', { role: 'web' })).reason).toBe('denied: rule "ops-on-demo" covers only runs limited to tag env (demo, staging), and this run is not');
    expect(decide(all, slack('U999', 'C900'), retry('uptime', { env: 'demo' })).reason).toBe('no rule lets slack:U999 use fleetrun (denied by default)');
  });
});

describe('Function: decideAction', () => {
  it('allows when some rule of the requester has the action, before the run is known', () => {
    const policy = parsePolicy(EXAMPLE);
    expect(decideAction(policy, slack('U123', 'C900'), 'status')).toEqual({ allow: true, rule: 'ops-on-demo', reason: 'allowed by rule "ops-on-demo"' });
    expect(decideAction(policy, slack('U123', 'C8'), 'stop')).toEqual({ allow: false, reason: 'denied: rule "ops-on-demo" applies only in certain channels' });
    expect(decideAction(policy, slack('U999', 'C900'), 'stop')).toEqual({ allow: false, reason: 'no rule lets slack:U999 use fleetrun (denied by default)' });
    const viewers = parsePolicy("rules:\n  - name: viewers\n    users: ['slack:*']\n    actions: [status]\n");
    expect(decideAction(viewers, slack('x'), 'stop')).toEqual({ allow: false, reason: 'denied: rule "viewers" does not allow "stop"' });
    expect(decideAction({ rules: [] }, slack('x'), 'help').allow).toBe(true);
  });
});

describe('The demo policy', () => {
  it('allows a demo user on each platform on env=demo, and nobody else', async () => {
    const policy = await loadPolicy(DEMO_POLICY);
    const users: Requester[] = [
      { platform: 'slack', userId: 'U0DEMOUSER', channelId: 'C0ANY' },
      { platform: 'dingtalk', userId: 'demo-user', channelId: 'cid-demo' },
      { platform: 'lark', userId: 'ou_demo_user', channelId: 'oc_demo' },
      { platform: 'webhook', userId: 'demo-ci' },
    ];
    for (const who of users) {
      expect(decide(policy, who, run('disk-check', { env: 'demo' })), who.platform).toMatchObject({ allow: true, rule: 'demo-operators' });
      expect(decide(policy, who, run('disk-check', { env: 'prod' })).allow, who.platform).toBe(false);
      expect(decide(policy, who, { action: 'run', script: true, targets: { tags: { env: 'demo' } }, targetCount: 1 }).allow, who.platform).toBe(false);
    }
    const guest = { platform: 'slack', userId: 'U0DEMOGUEST', channelId: 'C0DEMO' };
    expect(decide(policy, guest, run('uptime', { env: 'demo' }))).toEqual({ allow: false, reason: 'no rule lets slack:U0DEMOGUEST use fleetrun (denied by default)' });
    expect(decide(policy, guest, { action: 'jobs' }).allow).toBe(false);
    expect(decide(policy, guest, { action: 'help' }).allow).toBe(true);
  });

  it('allows the demo admin free-form scripts only from the demo channel', async () => {
    const policy = await loadPolicy(DEMO_POLICY);
    const script: AccessRequest = { action: 'run', script: true, targets: { tags: { env: 'demo' } }, targetCount: 4 };
    expect(decide(policy, slack('U0DEMOADMIN', 'C0DEMO1'), script)).toMatchObject({ allow: true, rule: 'demo-admin-scripts' });
    expect(decide(policy, slack('U0DEMOADMIN', 'C0OTHER'), script).allow).toBe(false);
    expect(decide(policy, slack('U0DEMOADMIN', 'C0DEMO1'), { ...script, targets: { tags: { env: 'prod' } } }).allow).toBe(false);
  });

  it('lets webhook:demo-web run, see and stop runs on the demo web servers only, and demo-ci see and stop those too', async () => {
    const policy = await loadPolicy(DEMO_POLICY);
    const web = { platform: 'webhook', userId: 'demo-web' };
    const ci = { platform: 'webhook', userId: 'demo-ci' };
    const webRun = { command: 'web-healthcheck', targets: { tags: { env: 'demo', role: 'web' } } };
    const fleetRun = { command: 'disk-check', targets: { tags: { env: 'demo' } } };
    expect(decide(policy, web, { action: 'run', ...webRun, targetCount: 3 })).toMatchObject({ allow: true, rule: 'demo-web-team' });
    for (const action of ['status', 'stop'] as const) {
      expect(decide(policy, web, { action, ...webRun }), action).toMatchObject({ allow: true, rule: 'demo-web-team' });
      expect(decide(policy, ci, { action, ...webRun }), action).toMatchObject({ allow: true, rule: 'demo-operators' });
      expect(decide(policy, web, { action, ...fleetRun }), action).toEqual({
        allow: false,
        reason: 'denied: rule "demo-web-team" covers only runs limited to tag role (web), and this run is not',
      });
    }
    expect(decide(policy, web, { action: 'run', ...fleetRun, targetCount: 3 }).allow).toBe(false);
  });
});
