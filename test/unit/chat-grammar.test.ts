import { describe, expect, it } from 'vitest';
import { CHAT_LIMITS, RUNS_LISTED, USAGE, closestWord, parseChatCommand, type ChatCommand, type ChatLimits } from '../../shared/chat/grammar.ts';

function ok(text: string, limits?: ChatLimits): ChatCommand {
  const parsed = parseChatCommand(text, limits);
  if (!parsed.ok) throw new Error(`expected ${JSON.stringify(text)} to parse, got: ${parsed.error}`);
  return parsed.command;
}

function error(text: string): string {
  const parsed = parseChatCommand(text);
  if (parsed.ok) throw new Error(`expected ${JSON.stringify(text)} to fail, got ${JSON.stringify(parsed.command)}`);
  return parsed.error;
}

/** A double-quoted chat value: only \ and " need a backslash. */
function dq(value: string): string {
  return `"${value.replace(/[\\"]/g, '\\$&')}"`;
}

const ID1 = 'i-bp1demo000000000001';
const ID2 = 'i-bp1demo000000000002';

describe('Function: parseChatCommand — run', () => {
  it('reads instance ids separated by spaces or commas, without repeats', () => {
    expect(ok(`run uptime on ${ID1} ${ID2}`)).toEqual({ kind: 'run', command: 'uptime', targets: { instanceIds: [ID1, ID2] }, with: {} });
    expect(ok(`run uptime on ${ID1},${ID2}`)).toMatchObject({ targets: { instanceIds: [ID1, ID2] } });
    expect(ok(`run uptime on ${ID1}, ${ID2} ,${ID1}`)).toMatchObject({ targets: { instanceIds: [ID1, ID2] } });
  });

  it('reads tags, ANDed, with or without "tag"', () => {
    expect(ok('run uptime on env=prod role=web')).toMatchObject({ targets: { tags: { env: 'prod', role: 'web' } } });
    expect(ok('run uptime on tag env=prod')).toMatchObject({ targets: { tags: { env: 'prod' } } });
    expect(ok('run uptime on tags env=prod,role=web')).toMatchObject({ targets: { tags: { env: 'prod', role: 'web' } } });
    expect(ok('run uptime on env="my env" team=')).toMatchObject({ targets: { tags: { env: 'my env', team: '' } } });
    expect(ok('run uptime on env=prod env=prod')).toMatchObject({ targets: { tags: { env: 'prod' } } });
  });

  it('reads with, timeout, concurrency and max-errors in any order', () => {
    expect(ok(`run disk-check on ${ID1} with mount=/data x=1 timeout 90 concurrency 5 max-errors 2`)).toEqual({
      kind: 'run',
      command: 'disk-check',
      targets: { instanceIds: [ID1] },
      with: { mount: '/data', x: '1' },
      timeoutSeconds: 90,
      concurrency: 5,
      maxErrors: 2,
    });
    expect(ok(`run disk-check max-errors 10% timeout 5m with mount=/ on env=demo`)).toEqual({
      kind: 'run',
      command: 'disk-check',
      targets: { tags: { env: 'demo' } },
      with: { mount: '/' },
      timeoutSeconds: 300,
      maxErrors: '10%',
    });
    expect(ok(`run x on ${ID1} timeout 2h`)).toMatchObject({ timeoutSeconds: 7200 });
    expect(ok(`run x on ${ID1} timeout 45s`)).toMatchObject({ timeoutSeconds: 45 });
    expect(ok(`run x on ${ID1} max-errors 025%`)).toMatchObject({ maxErrors: '25%' });
    expect(ok(`run x on ${ID1} max-errors 0%`)).toMatchObject({ maxErrors: '0%' });
    expect(ok(`run x on ${ID1} max-errors 100%`)).toMatchObject({ maxErrors: '100%' });
    expect(ok(`run x on ${ID1} max-errors 0`)).toMatchObject({ maxErrors: 0 });
    expect(ok(`run x on ${ID1} maxerrors 3`)).toMatchObject({ maxErrors: 3 });
  });

  it('takes the limits at their edges', () => {
    expect(ok(`run x on ${ID1} timeout 10`)).toMatchObject({ timeoutSeconds: 10 });
    expect(ok(`run x on ${ID1} timeout 86400`)).toMatchObject({ timeoutSeconds: 86_400 });
    // No API document bounds Timeout: a short or a long one is the service's to refuse, not the grammar's.
    expect(ok(`run x on ${ID1} timeout 5`)).toMatchObject({ timeoutSeconds: 5 });
    expect(ok(`run x on ${ID1} timeout 25h`)).toMatchObject({ timeoutSeconds: 90_000 });
    expect(ok(`run x on ${ID1} concurrency 1`)).toMatchObject({ concurrency: 1 });
    // 1,000 ids do not fit 4 KB of text: a front end that allows longer text meets the id limit.
    const long = { ...CHAT_LIMITS, textBytes: 64 * 1024 };
    const ids = Array.from({ length: 1000 }, (_, n) => `i-x${String(n).padStart(6, '0')}`);
    expect(ok(`run x on ${ids.join(',')}`, long)).toMatchObject({ targets: { instanceIds: ids } });
    // Repeats do not count toward the limit.
    expect(ok(`run x on ${ids.join(' ')} ${ids[0]}`, long)).toMatchObject({ targets: { instanceIds: ids } });
    const tags = Array.from({ length: 20 }, (_, n) => `k${n}=v`).join(' ');
    expect(Object.keys((ok(`run x on ${tags}`) as { targets: { tags: object } }).targets.tags)).toHaveLength(20);
  });

  it('ignores the case of keywords and lowercases the command name, but not values or tags', () => {
    expect(ok(`RUN Disk-Check ON Env=Prod WITH Mount=/Data TIMEOUT 60 Max-Errors 1`)).toEqual({
      kind: 'run',
      command: 'disk-check',
      targets: { tags: { Env: 'Prod' } },
      with: { Mount: '/Data' },
      timeoutSeconds: 60,
      maxErrors: 1,
    });
  });

  it('reads a free-form script', () => {
    expect(ok(`run script "df -h; echo \\"done\\"" on ${ID1}`)).toEqual({
      kind: 'run',
      command: 'script',
      script: 'df -h; echo "done"',
      targets: { instanceIds: [ID1] },
      with: {},
    });
    expect(ok(`run SCRIPT 'uptime' on env=demo timeout 30`)).toMatchObject({ command: 'script', script: 'uptime', timeoutSeconds: 30 });
    expect(ok(`run script uptime on ${ID1}`)).toMatchObject({ script: 'uptime' });
    expect(ok(`run script "for i in 1 2; do\n  echo $i\ndone" on ${ID1}`)).toMatchObject({ script: 'for i in 1 2; do\n  echo $i\ndone' });
  });

  it('drops leading mentions, bot names and /fleetrun', () => {
    const expected = { kind: 'run', command: 'uptime', targets: { instanceIds: [ID1] }, with: {} };
    for (const prefix of ['<@U0BOT>', '<@U0BOT|fleetrun>', '@fleetrun', '@_user_1', '/fleetrun', 'fleetrun:', 'fleetrun,', '<@U0BOT> fleetrun', '  @fleetrun\u00a0'])
      expect(ok(`${prefix} run uptime on ${ID1}`), prefix).toEqual(expected);
  });

  it('splits on the no-break and ideographic spaces chat clients insert', () => {
    expect(ok(`run\u00a0uptime\u3000on ${ID1}`)).toMatchObject({ command: 'uptime', targets: { instanceIds: [ID1] } });
  });

  it('pairs “curly” quotes as phones and Macs type them; a lone ’ is a character', () => {
    expect(ok(`run x on ${ID1} with a=“hello world” b=‘it is’ c=don’t`)).toMatchObject({ with: { a: 'hello world', b: 'it is', c: 'don’t' } });
  });

  it('joins quoted and unquoted parts of one word, as a shell would', () => {
    expect(ok(`run x on ${ID1} with a="x y"z'w v' b=""`)).toMatchObject({ with: { a: 'x yzw v', b: '' } });
  });

  it('keeps backslashes inside double quotes except before \\ and "', () => {
    expect(ok(`run x on ${ID1} with a="C:\\temp\\n \\d+" b="\\\\" c="\\""`)).toMatchObject({ with: { a: 'C:\\temp\\n \\d+', b: '\\', c: '"' } });
    expect(ok(`run x on ${ID1} with a=C:\\temp`)).toMatchObject({ with: { a: 'C:\\temp' } });
  });

  it('takes words that are names on Object.prototype as plain words', () => {
    expect(ok(`run constructor on ${ID1} with toString=1`)).toMatchObject({ command: 'constructor', with: { toString: '1' } });
    expect(ok(`run hasownproperty on ${ID1}`)).toMatchObject({ command: 'hasownproperty' });
    expect(error(`run x on ${ID1} constructor 5`)).toMatch(/^"on": "constructor" is neither/);
  });

  it('keeps a key named __proto__ as a plain key', () => {
    const cmd = ok(`run x on ${ID1} with __proto__=1 constructor=2`) as Extract<ChatCommand, { kind: 'run' }>;
    expect(Object.getPrototypeOf(cmd.with)).toBe(Object.prototype);
    expect(Object.hasOwn(cmd.with, '__proto__')).toBe(true);
    expect(cmd.with['constructor']).toBe('2');
  });
});

describe('Function: parseChatCommand — injection attempts in with values come out byte for byte', () => {
  const values = [
    "it's",
    'say "hi"',
    'a; touch /tmp/CANARY',
    'true && touch /tmp/CANARY',
    '$(rm -rf /)',
    '`touch /tmp/CANARY`',
    'line1\nline2\n',
    '\r\n\t',
    '{{ACS::InstanceId}}',
    "'\\",
    '\\',
    "'; touch /tmp/CANARY; '",
    '"; touch /tmp/CANARY; "',
    '${IFS}$((1+1))|| >/dev/null <&0',
    ' leading and trailing ',
    '“curly” ‘quotes’',
    '日本語 ✓ 🚀',
    '',
    'on with timeout 5',
    'k=v',
  ];

  for (const value of values)
    it(`${JSON.stringify(value)} in double quotes`, () => {
      expect(ok(`run x on ${ID1} with v=${dq(value)} timeout 30`)).toMatchObject({ with: { v: value }, timeoutSeconds: 30 });
    });

  for (const value of values.filter((v) => !v.includes("'")))
    it(`${JSON.stringify(value)} in single quotes`, () => {
      expect(ok(`run x on ${ID1} with v='${value}'`)).toMatchObject({ with: { v: value } });
    });

  it('any text survives double quoting (random strings of awkward characters)', () => {
    const alphabet = ['"', "'", '\\', '$', '(', ')', '`', ';', '&', '|', '\n', ' ', '{', '}', '=', 'a', 'é', '“', '”', '‘', '’', '\u00a0', '%', '*', '#', '\t'];
    let seed = 42;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    for (let n = 0; n < 500; n++) {
      const value = Array.from({ length: Math.floor(random() * 30) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
      const parsed = parseChatCommand(`run x on ${ID1} with v=${dq(value)}`);
      expect(parsed, JSON.stringify(value)).toEqual({ ok: true, command: expect.objectContaining({ with: { v: value } }) });
    }
  });
});

describe('Function: parseChatCommand — status, stop, jobs, help', () => {
  it('reads run ids, in any case', () => {
    expect(ok('status r-20261123t101500-1a2b3c')).toEqual({ kind: 'status', runId: 'r-20261123t101500-1a2b3c' });
    expect(ok('STOP R-20261123T101500-1A2B3C')).toEqual({ kind: 'stop', runId: 'r-20261123t101500-1a2b3c' });
  });

  it('reads approve and deny of a run id, in any case, and nothing after it', () => {
    expect(ok('approve r-20261123t101500-1a2b3c')).toEqual({ kind: 'approve', runId: 'r-20261123t101500-1a2b3c' });
    expect(ok('@fleetrun DENY R-20261123T101500-1A2B3C')).toEqual({ kind: 'deny', runId: 'r-20261123t101500-1a2b3c' });
    expect(parseChatCommand('approve')).toEqual({ ok: false, error: '"approve" wants a run id, like approve r-20261123t101500-1a2b3c' });
    expect(parseChatCommand('deny r-20261123t101500-1a2b3c now')).toEqual({ ok: false, error: 'unexpected "now" after the run id' });
    expect(parseChatCommand('aprove r-20261123t101500-1a2b3c')).toEqual({ ok: false, error: 'unknown command "aprove" — did you mean "approve"?' });
    expect(USAGE).toContain('approve <run id>');
    expect(USAGE).toContain('deny <run id>');
  });

  it('reads retry, failed unless asked: failed, not-run or all', () => {
    expect(ok('retry r-20261123t101500-1a2b3c')).toEqual({ kind: 'retry', runId: 'r-20261123t101500-1a2b3c', which: 'failed' });
    expect(ok('@fleetrun RETRY R-20261123T101500-1A2B3C Not-Run')).toEqual({ kind: 'retry', runId: 'r-20261123t101500-1a2b3c', which: 'not-run' });
    expect(ok('retry r-20261123t101500-1a2b3c all')).toEqual({ kind: 'retry', runId: 'r-20261123t101500-1a2b3c', which: 'all' });
    expect(ok('retry r-20261123t101500-1a2b3c failed')).toEqual({ kind: 'retry', runId: 'r-20261123t101500-1a2b3c', which: 'failed' });
  });

  it('reads runs, with how many: 10 unless asked, 1 to 50', () => {
    expect(RUNS_LISTED).toEqual({ default: 10, max: 50 });
    expect(ok('runs')).toEqual({ kind: 'runs', limit: 10 });
    expect(ok('runs 20')).toEqual({ kind: 'runs', limit: 20 });
    expect(ok('@fleetrun RUNS 1')).toEqual({ kind: 'runs', limit: 1 });
    expect(ok('runs 50')).toEqual({ kind: 'runs', limit: 50 });
  });

  it('reads jobs and help', () => {
    expect(ok('jobs')).toEqual({ kind: 'jobs' });
    expect(ok('help')).toEqual({ kind: 'help' });
    expect(ok('Help Run')).toEqual({ kind: 'help', topic: 'run' });
    expect(ok('@fleetrun')).toEqual({ kind: 'help' });
    expect(ok('   ')).toEqual({ kind: 'help' });
  });

  it('has a usage text that shows every form', () => {
    for (const form of ['run <command> on', 'run script', 'status <run id>', 'stop <run id>', 'retry <run id> [failed|not-run|all]', 'runs [N]', 'jobs', 'help [topic]', 'max-errors', 'concurrency', 'timeout'])
      expect(USAGE).toContain(form);
  });
});

describe('Function: parseChatCommand — errors say what is wrong and where', () => {
  const cases: [string, string][] = [
    ['rnu uptime', 'unknown command "rnu" — did you mean "run"?'],
    ['deploy everything', 'unknown command "deploy": try run, status, stop, approve, deny, retry, jobs, runs, help'],
    ['retyr r-20261123t101500-1a2b3c', 'unknown command "retyr" — did you mean "retry"?'],
    ['retry', '"retry" wants a run id, like retry r-20261123t101500-1a2b3c'],
    ['retry i-abcdef', '"i-abcdef" is not a run id (they look like r-20261123t101500-1a2b3c)'],
    ['retry r-20261123t101500-1a2b3c faild', '"retry" retries failed, not-run, all instances, got "faild" — did you mean "failed"?'],
    ['retry r-20261123t101500-1a2b3c everything', '"retry" retries failed, not-run, all instances, got "everything"'],
    ['retry r-20261123t101500-1a2b3c "all"', '"retry" retries failed, not-run, all instances, got "all"'],
    ['retry r-20261123t101500-1a2b3c all now', 'unexpected "now" after "all"'],
    ['runs 0', '"runs" lists 1 to 50 runs, got 0'],
    ['runs 51', '"runs" lists 1 to 50 runs, got 51'],
    ['runs ten', '"runs" wants a number of runs, like runs 20; got "ten"'],
    ['runs -1', '"runs" wants a number of runs, like runs 20; got "-1"'],
    ['runs 5 more', '"runs" takes one number, got "more" too'],
    ['run', '"run" wants a command name: run <command> on <targets>'],
    [`run on ${ID1}`, '"run" wants a command name before "on": run <command> on …'],
    [`run Bad/Name on ${ID1}`, '"Bad/Name" is not a command name (letters, digits, - _ and ., up to 64)'],
    [`run uptime onn ${ID1}`, 'unknown word "onn" — did you mean "on"?'],
    [`run uptime on ${ID1} wiht a=1`, 'unknown word "wiht" — did you mean "with"?'],
    [`run uptime on ${ID1} timout 60`, 'unknown word "timout" — did you mean "timeout"?'],
    [`run uptime on ${ID1} with a=1 concurency 2`, 'unknown word "concurency" — did you mean "concurrency"?'],
    [`run uptime please on ${ID1}`, 'unknown word "please" after "run uptime": expected on, with, timeout, concurrency, max-errors'],
    ['run uptime', 'no targets: add "on i-…" or "on key=value"'],
    ['run uptime with a=1', 'no targets: add "on i-…" or "on key=value"'],
    ['run uptime on', 'no targets: add "on i-…" or "on key=value"'],
    ['run uptime on tag', 'no tags after "on tag": add key=value'],
    [`run uptime on ${ID1} on ${ID2}`, '"on" is given twice'],
    [`run uptime on ${ID1} timeout 60 timeout 70`, '"timeout" is given twice'],
    ['run uptime on web-1', '"on": "web-1" is neither an instance id (i-…) nor a tag (key=value)'],
    ['run uptime on i-BAD!', '"i-BAD!" is not an instance id (they look like i-bp1abcdef012345678, lowercase)'],
    [`run uptime on ${ID1} env=prod`, '"on": give instance ids or tags, not both'],
    [`run uptime on tag ${ID1}`, `after "on tag", give key=value pairs, got "${ID1}"`],
    ['run uptime on env=prod env=dev', '"on": tag "env" is given twice with different values; an instance has one value per tag'],
    ['run uptime on =prod', '"on": "=prod" has no tag key before "="'],
    [`run uptime on ${'k'.repeat(65)}=v`, `"on": tag key "${'k'.repeat(20)}…" is longer than 64 characters`],
    [`run uptime on env=${'v'.repeat(129)}`, '"on": the value of tag "env" is longer than 128 characters'],
    [`run uptime on ${Array.from({ length: 21 }, (_, n) => `k${n}=v`).join(' ')}`, '21 tags given; at most 20'],
    [`run x on ${ID1} with`, '"with" wants key=value pairs, got nothing'],
    [`run x on ${ID1} with msg=hello world`, '"with" wants key=value pairs, got "world" — quote a value that has spaces: msg="hello world"'],
    [`run x on ${ID1} with hello`, '"with" wants key=value pairs, got "hello"'],
    [`run x on ${ID1} with =v`, '"with": "=v" has no name before "="'],
    [`run x on ${ID1} with a.b=v`, '"with": "a.b" is not a parameter name (letters, digits, _ and -, up to 64)'],
    [`run x on ${ID1} with "a"=v`, '"with": "a" is not a parameter name (letters, digits, _ and -, up to 64)'],
    [`run x on ${ID1} with a=1 a=2`, '"with": "a" is given twice'],
    [`run x on ${ID1} timeout`, '"timeout" wants a number of seconds, got nothing'],
    [`run x on ${ID1} timeout ten`, '"timeout" wants a number of seconds, got "ten"'],
    [`run x on ${ID1} timeout -5`, '"timeout" wants a number of seconds, got "-5"'],
    [`run x on ${ID1} timeout 0`, '"timeout" must be 1 second or more, got 0'],
    [`run x on ${ID1} timeout 0h`, '"timeout" must be 1 second or more, got 0'],
    [`run x on ${ID1} concurrency`, '"concurrency" wants a number of instances, got nothing'],
    [`run x on ${ID1} concurrency lots`, '"concurrency" wants a number of instances, got "lots"'],
    [`run x on ${ID1} concurrency 0`, '"concurrency" must be at least 1'],
    [`run x on ${ID1} max-errors`, '"max-errors" wants a count or a percentage (like 5 or 10%), got nothing'],
    [`run x on ${ID1} max-errors some`, '"max-errors" wants a count or a percentage (like 5 or 10%), got "some"'],
    [`run x on ${ID1} max-errors 101%`, '"max-errors" percentage must be 0% to 100%, got 101%'],
    // A whole percentage, as SSM's MaxErrors takes it: 2.5% used to parse here and be refused by dispatch, unseen (issue 13).
    [`run x on ${ID1} max-errors 2.5%`, '"max-errors" percentage must be a whole number, as SSM takes it (like 10%), got 2.5%'],
    [`run x on ${ID1} max-errors 10.5%`, '"max-errors" percentage must be a whole number, as SSM takes it (like 10%), got 10.5%'],
    [`run x on ${ID1} max-errors -1`, '"max-errors" wants a count or a percentage (like 5 or 10%), got "-1"'],
    [`run script on ${ID1}`, '"run script" wants the script in quotes: run script "df -h" on i-…'],
    ['run script', '"run script" wants the script in quotes: run script "df -h" on i-…'],
    [`run script "  " on ${ID1}`, 'the script is empty'],
    [`run script df -h on ${ID1}`, 'unknown word "-h" after the script — quote the whole script: run script "df -h" on …'],
    [`run script "uptime" on ${ID1} with a=1`, 'a free-form script takes no "with" values'],
    [`run x on ${ID1} with a="unclosed`, 'unclosed " quote starting at character 39'],
    [`run x on ${ID1} with msg=don't`, 'unclosed \' quote starting at character 44 — a value holding \' goes in "double quotes"'],
    ['status', '"status" wants a run id, like status r-20261123t101500-1a2b3c'],
    ['stop', '"stop" wants a run id, like stop r-20261123t101500-1a2b3c'],
    ['status 42', '"42" is not a run id (they look like r-20261123t101500-1a2b3c)'],
    ['stop r-20261123t101500-1a2b3c now', 'unexpected "now" after the run id'],
    ['jobs all', '"jobs" takes nothing more, got "all"'],
    ['help run now', '"help" takes one topic, got "now" too'],
  ];
  for (const [text, message] of cases)
    it(text.length > 80 ? `${text.slice(0, 80)}…` : text, () => {
      expect(error(text)).toBe(message);
    });

  it('counts positions in the message as received, mentions included', () => {
    expect(error(`<@U0BOT> run x on ${ID1} with a="x`)).toBe('unclosed " quote starting at character 48');
  });

  it('refuses more than 1,000 instance ids', () => {
    const ids = Array.from({ length: 1001 }, (_, n) => `i-${String(n).padStart(4, '0')}`);
    const parsed = parseChatCommand(`run x on ${ids.join(',')}`, { ...CHAT_LIMITS, textBytes: 64 * 1024 });
    expect(parsed.ok ? '' : parsed.error).toBe('1001 instance ids given; at most 1000 — target that many by tag instead');
  });

  it('refuses a message over 4 KB, counted in bytes', () => {
    expect(error(`run x on ${ID1} with a=${'x'.repeat(CHAT_LIMITS.textBytes)}`)).toMatch(/^the message is \d+ bytes; at most 4096 are allowed$/);
    // 1,366 three-byte characters are 4,098 bytes though only 1,366 characters.
    expect(error(`run x on ${ID1} with a=${'語'.repeat(1366)}`)).toMatch(/^the message is \d+ bytes; at most 4096/);
    expect(parseChatCommand(`run x on ${ID1} with a=${'x'.repeat(CHAT_LIMITS.textBytes - 40)}`).ok).toBe(true);
  });

  it('never throws and never answers with a stack trace', () => {
    const pieces = ['run', 'on', 'with', 'tag', 'script', 'timeout', '"', "'", '=', ',', 'i-abcd', 'a=b', ' ', '\n', '“', '@x', '<@U1>', '%', '10%', '99'];
    let seed = 7;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    for (let n = 0; n < 2000; n++) {
      const text = Array.from({ length: Math.floor(random() * 12) }, () => pieces[Math.floor(random() * pieces.length)]).join(random() < 0.5 ? ' ' : '');
      const parsed = parseChatCommand(text);
      if (!parsed.ok) {
        expect(parsed.error).not.toMatch(/\n\s+at /);
        expect(parsed.error).not.toBe('could not understand the message');
      }
    }
  });
});

describe('Function: closestWord', () => {
  it('suggests near misses only', () => {
    expect(closestWord('onn', ['on', 'with'])).toBe('on');
    expect(closestWord('wiht', ['on', 'with'])).toBe('with');
    expect(closestWord('disk-chek', ['disk-check', 'uptime'])).toBe('disk-check');
    expect(closestWord('reboot', ['disk-check', 'uptime'])).toBeUndefined();
    expect(closestWord('on', ['on'])).toBeUndefined();
  });
});
