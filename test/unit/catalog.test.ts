import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseChatCommand } from '../../shared/chat/grammar.ts';
import { LIMITS } from '../../shared/cloud-assistant/constants.ts';
import { CatalogError, findCommand, loadCatalog, parseCatalog, type CatalogEntry } from '../../shared/config/catalog.ts';
import { DECODE_FAILED_EXIT_CODE, RunSpecError, buildCatalogCommand, buildScriptCommand, type BuiltCommand } from '../../shared/runs/command-script.ts';
import { buildRunSpec } from '../../shared/runs/build-run-spec.ts';
import { outputNormaliser } from '../../shared/runs/output-normalise.ts';
import { runSpecSchema } from '../../shared/runs/run-spec.ts';
import { redact } from '../../shared/runtime/redaction.ts';

const DEMO_CATALOG = new URL('../../local/demo/catalog.yaml', import.meta.url).pathname;

function entry(yaml: string, name = 'cmd'): CatalogEntry {
  return findCommand(parseCatalog(yaml), name);
}

const DISK_CHECK = `
commands:
  disk-check:
    description: Disk usage of a mount point
    script: |
      df -h "$mount"
    parameters:
      mount: { description: mount point, default: /, pattern: '^/[A-Za-z0-9_./-]*$' }
      token: { secret: true, required: true }
`;

/** Cloud Assistant's substitution of custom parameters: plain text replacement of {{name}}, names ignoring case. */
function substitute(spec: BuiltCommand): string {
  const params = new Map(Object.entries(spec.parameters ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  return spec.script.replace(/\{\{\s*([\s\S]*?)\s*\}\}/g, (whole, name: string) => params.get(name.toLowerCase()) ?? whole);
}

const SHELLS = ['/bin/sh', '/bin/bash', '/bin/dash'].filter((s) => existsSync(s));

describe('Function: parseCatalog', () => {
  it('fills in the defaults', () => {
    const catalog = parseCatalog('commands:\n  uptime:\n    script: uptime\n');
    expect(catalog.commands['uptime']).toEqual({ description: '', type: 'RunShellScript', timeout: 60, script: 'uptime', parameters: {} });
    const disk = entry(DISK_CHECK, 'disk-check');
    expect(disk.parameters['mount']).toEqual({ description: 'mount point', default: '/', pattern: '^/[A-Za-z0-9_./-]*$', secret: false, required: false });
    expect(disk.parameters['token']).toEqual({ secret: true, required: true });
  });

  it('turns numbers and booleans in defaults into text', () => {
    const e = entry('commands:\n  cmd:\n    script: x\n    parameters:\n      n: { default: 5 }\n      b: { default: true }\n');
    expect(e.parameters['n']!.default).toBe('5');
    expect(e.parameters['b']!.default).toBe('true');
  });

  it('takes the optional RunCommand settings', () => {
    const e = entry('commands:\n  cmd:\n    script: x\n    type: RunPowerShellScript\n    timeout: 600\n    workingDir: /tmp\n    username: deploy\n    terminationMode: ProcessTree\n');
    expect(e).toMatchObject({ type: 'RunPowerShellScript', timeout: 600, workingDir: '/tmp', username: 'deploy', terminationMode: 'ProcessTree' });
  });

  it('takes a command\'s output grouping rules, masks in their fixed order and patterns with their defaults', () => {
    const e = entry("commands:\n  cmd:\n    script: x\n    group:\n      mask: [timestamps, numbers]\n      patterns: ['req-[a-z]+', { regex: 'host \\S+', as: 'host <h>' }]\n");
    expect(e.group).toEqual({ mask: ['numbers', 'timestamps'], patterns: [{ regex: 'req-[a-z]+', as: '<masked>', ignoreCase: false }, { regex: 'host \\S+', as: 'host <h>', ignoreCase: false }] });
    expect(entry('commands:\n  cmd:\n    script: x\n').group).toBeUndefined();
  });

  const problems: [string, string, RegExp][] = [
    ['not YAML', 'commands: [\n', /^c\.yaml: not valid YAML/],
    ['no commands', 'cmds: {}\n', /^c\.yaml: commands: is required$/],
    ['nothing at all', '# empty\n', /^c\.yaml: the file is empty$/],
    ['a misspelt field', 'commands:\n  cmd:\n    script: x\n    timout: 5\n', /^c\.yaml: command "cmd": Unrecognized key: "timout"$/],
    ['no script', 'commands:\n  cmd:\n    description: x\n', /^c\.yaml: command "cmd", script: is required$/],
    ['an empty script', 'commands:\n  cmd:\n    script: "  "\n', /^c\.yaml: command "cmd", script: is empty$/],
    ['a zero timeout', 'commands:\n  cmd:\n    script: x\n    timeout: 0\n', /^c\.yaml: command "cmd", timeout: must be a whole number of seconds, 1 or more$/],
    ['a fractional timeout', 'commands:\n  cmd:\n    script: x\n    timeout: 1.5\n', /^c\.yaml: command "cmd", timeout: /],
    ['an unknown type', 'commands:\n  cmd:\n    script: x\n    type: RunPython\n', /^c\.yaml: command "cmd", type: /],
    ['an uppercase command name', 'commands:\n  Disk:\n    script: x\n', /^c\.yaml: command "Disk": a command name is lowercase/],
    ['a reserved command name', 'commands:\n  script:\n    script: x\n', /^c\.yaml: command "script": this word is part of the chat grammar/],
    ['a parameter name that is no variable', 'commands:\n  cmd:\n    script: x\n    parameters:\n      my-dir: {}\n', /^c\.yaml: command "cmd", parameters\.my-dir: a parameter name is a shell variable name/],
    ['a parameter name too long', `commands:\n  cmd:\n    script: x\n    parameters:\n      ${'a'.repeat(63)}: {}\n`, /parameters\.a+: a parameter name is a shell variable name .* at most 62 characters$/],
    ['a shell variable', 'commands:\n  cmd:\n    script: x\n    parameters:\n      PATH: {}\n', /^c\.yaml: command "cmd", parameters\.PATH: this name means something to the shell itself/],
    ['a name starting with __', 'commands:\n  cmd:\n    script: x\n    parameters:\n      __x: {}\n', /parameters\.__x: a parameter name cannot start with "__"/],
    ['names differing in case', 'commands:\n  cmd:\n    script: x\n    parameters:\n      dir: {}\n      Dir: {}\n', /^c\.yaml: command "cmd", parameters\.Dir: "Dir" and "dir" differ only in case$/],
    ['11 parameters', `commands:\n  cmd:\n    script: x\n    parameters:\n${Array.from({ length: 11 }, (_, n) => `      p${n}: {}\n`).join('')}`, /^c\.yaml: command "cmd", parameters: 11 parameters; Cloud Assistant passes at most 10$/],
    ['a parameter field misspelt', 'commands:\n  cmd:\n    script: x\n    parameters:\n      a: { secrte: true }\n', /^c\.yaml: command "cmd", parameters\.a: Unrecognized key: "secrte"$/],
    ['a secret default', 'commands:\n  cmd:\n    script: x\n    parameters:\n      a: { secret: true, default: hunter2 }\n', /parameters\.a\.default: a secret parameter cannot have a default/],
    ['a required default', 'commands:\n  cmd:\n    script: x\n    parameters:\n      a: { required: true, default: x }\n', /parameters\.a\.default: a required parameter with a default is never missing/],
    ['a default outside its pattern', "commands:\n  cmd:\n    script: x\n    parameters:\n      a: { default: 'x y', pattern: '[a-z]+' }\n", /parameters\.a\.default: the default does not match the pattern \[a-z\]\+$/],
    ['a broken pattern', "commands:\n  cmd:\n    script: x\n    parameters:\n      a: { pattern: '([a-z' }\n", /parameters\.a\.pattern: not a valid regular expression/],
    ['a {{name}} in the script', 'commands:\n  cmd:\n    script: df -h {{mount}}\n    parameters:\n      mount: {}\n', /^c\.yaml: command "cmd", script: "\{\{mount\}\}" would be filled in by Cloud Assistant as script text; refer to parameters as variables/],
    ['a docker format string', "commands:\n  cmd:\n    script: docker ps --format '{{.Names}}'\n", /script: "\{\{\.Names\}\}" would be filled in .* write a literal \{\{ as '\{''\{'$/],
    ['an unknown built-in', 'commands:\n  cmd:\n    script: echo {{ACS::Nope}}\n', /script: "\{\{ACS::Nope\}\}" is not a Cloud Assistant built-in parameter$/],
    ['parameters on a bat script', 'commands:\n  cmd:\n    type: RunBatScript\n    script: echo %a%\n    parameters:\n      a: {}\n', /parameters: a RunBatScript cannot take parameters safely/],
    ['an unknown mask', 'commands:\n  cmd:\n    script: x\n    group: { mask: [dates] }\n', /^c\.yaml: command "cmd", group\.mask\.0: a mask is one of numbers, hex, ips, timestamps$/],
    ['a broken group pattern', "commands:\n  cmd:\n    script: x\n    group: { patterns: ['([a-z'] }\n", /^c\.yaml: command "cmd", group\.patterns\.0: not a valid regular expression/],
    ['a group pattern matching nothing at all', "commands:\n  cmd:\n    script: x\n    group: { patterns: ['a*'] }\n", /group\.patterns\.0: matches the empty text: a\*$/],
    ['a misspelt group field', 'commands:\n  cmd:\n    script: x\n    group: { masks: [numbers] }\n', /^c\.yaml: command "cmd", group: Unrecognized key: "masks"$/],
    ['a PowerShell automatic variable', 'commands:\n  cmd:\n    type: RunPowerShellScript\n    script: x\n    parameters:\n      Input: {}\n', /parameters\.Input: \$Input is a PowerShell automatic variable/],
  ];
  for (const [what, yaml, message] of problems)
    it(`names the file, command and field: ${what}`, () => {
      expect(() => parseCatalog(yaml, 'c.yaml')).toThrow(CatalogError);
      expect(() => parseCatalog(yaml, 'c.yaml')).toThrow(message);
    });

  it('allows built-ins in the script', () => {
    expect(entry('commands:\n  cmd:\n    script: echo {{ACS::InstanceId}} {{ acs::RegionId }}\n').script).toContain('{{ACS::InstanceId}}');
  });

  it('reads the demo catalog', async () => {
    const catalog = await loadCatalog(DEMO_CATALOG);
    expect(Object.keys(catalog.commands).sort()).toEqual(['disk-check', 'secret-probe', 'service-status', 'sleep-demo', 'uptime', 'web-healthcheck']);
    expect(catalog.commands['secret-probe']!.parameters['token']).toMatchObject({ secret: true, required: true });
    expect(catalog.commands['service-status']!.parameters['service']).toMatchObject({ required: true });
    // The failing demo command's healthy instances print only their own names differently: one answer.
    const normalise = outputNormaliser(catalog.commands['web-healthcheck']!.group).normalise;
    expect(['web-1: web ok\n', 'batch-1: web ok'].map(normalise)).toEqual(['<name>: web ok', '<name>: web ok']);
    expect(normalise('db-1 is a database instance: no web server here\n')).toBe('<name> is a database instance: no web server here');
  });

  it('ships the same catalog as the demo runs', async () => {
    expect(await loadCatalog(new URL('../../config/catalog.yaml', import.meta.url).pathname)).toEqual(await loadCatalog(DEMO_CATALOG));
  });

  it('names the file when it cannot be read', async () => {
    await expect(loadCatalog('/nonexistent/catalog.yaml')).rejects.toThrow(/nonexistent\/catalog\.yaml/);
  });
});

describe('Function: findCommand', () => {
  const catalog = parseCatalog(DISK_CHECK + '  uptime:\n    script: uptime\n');
  it('finds commands, suggests near misses, and ignores inherited names', () => {
    expect(findCommand(catalog, 'uptime').script).toBe('uptime');
    expect(() => findCommand(catalog, 'disk-chek')).toThrow('unknown command "disk-chek" — did you mean "disk-check"?');
    expect(() => findCommand(catalog, 'reboot')).toThrow('unknown command "reboot"; the commands are: disk-check, uptime');
    expect(() => findCommand(catalog, 'constructor')).toThrow(RunSpecError);
    expect(() => findCommand(catalog, '__proto__')).toThrow(RunSpecError);
  });
});

describe('Function: buildCatalogCommand', () => {
  const disk = entry(DISK_CHECK, 'disk-check');
  const b64 = (s: string) => Buffer.from(s).toString('base64');

  it('passes every parameter base64-encoded and decodes it into a shell variable', () => {
    const spec = buildCatalogCommand(disk, 'disk-check', { token: 's3cret-token' });
    expect(spec.name).toBe('disk-check');
    expect(spec.type).toBe('RunShellScript');
    expect(spec.timeoutSeconds).toBe(60);
    expect(spec.parameters).toEqual({ p_mount: b64('/'), p_token: b64('s3cret-token') });
    expect(spec.secretParameters).toEqual(['p_token']);
    expect(spec.secretValues).toEqual(['s3cret-token']);
    expect(spec.script).toContain(`mount="$(printf '%s' '{{p_mount}}' | base64 -d && printf x)"`);
    expect(spec.script).toContain(`token="$(printf '%s' '{{p_token}}' | base64 -d && printf x)"`);
    expect(spec.script.endsWith('df -h "$mount"\n')).toBe(true);
    expect(spec.script).not.toContain('s3cret-token');
  });

  it('refuses a secret value too short to be hidden in outputs, before anything runs', () => {
    expect(() => buildCatalogCommand(disk, 'disk-check', { token: 'abc' })).toThrow(/"token" is secret and must be at least 4 characters/);
    expect(buildCatalogCommand(disk, 'disk-check', { token: 'abcd' }).secretValues).toEqual(['abcd']);
  });

  it('applies defaults, takes given values over them, and matches keys ignoring case', () => {
    expect(buildCatalogCommand(disk, 'disk-check', { token: 'abcd', MOUNT: '/data' }).parameters!['p_mount']).toBe(b64('/data'));
    expect(buildCatalogCommand(disk, 'disk-check', { token: 'abcd' }).parameters!['p_mount']).toBe(b64('/'));
  });

  it('passes an unset optional parameter as empty', () => {
    const e = entry('commands:\n  cmd:\n    script: echo "$a"\n    parameters:\n      a: {}\n');
    expect(buildCatalogCommand(e, 'cmd', {}).parameters).toEqual({ p_a: '' });
  });

  it('names the allowed parameters when given an unknown one', () => {
    expect(() => buildCatalogCommand(disk, 'disk-check', { token: 'abcd', mnt: '/' })).toThrow('disk-check has no parameter "mnt" (its parameters: mount, token)');
    expect(() => buildCatalogCommand(disk, 'disk-check', { token: 'abcd', mout: '/' })).toThrow('disk-check has no parameter "mout" — did you mean "mount"? (its parameters: mount, token)');
    expect(() => buildCatalogCommand(disk, 'disk-check', { a: '1', b: '2' })).toThrow('disk-check has no parameter "a", "b" (its parameters: mount, token)');
    expect(() => buildCatalogCommand(entry('commands:\n  cmd:\n    script: x\n'), 'cmd', { a: '1' })).toThrow('cmd takes no parameters, got "a"');
  });

  it('requires required parameters, and an empty value does not count', () => {
    expect(() => buildCatalogCommand(disk, 'disk-check', {})).toThrow('disk-check needs "token": add with token=…');
    expect(() => buildCatalogCommand(disk, 'disk-check', { token: '' })).toThrow('disk-check needs "token"');
  });

  it('refuses the same parameter twice in different case', () => {
    expect(() => buildCatalogCommand(disk, 'disk-check', { token: 'abcd', mount: '/a', Mount: '/b' })).toThrow('"mount" is given twice');
  });

  it('checks patterns against the whole value, and never repeats the value', () => {
    const secretValue = '/ok; rm -rf /';
    let message = '';
    try {
      buildCatalogCommand(disk, 'disk-check', { token: 'abcd', mount: secretValue });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toBe('the value of "mount" does not match the pattern ^/[A-Za-z0-9_./-]*$');
    const loose = entry("commands:\n  cmd:\n    script: x\n    parameters:\n      a: { pattern: '[a-z]+' }\n");
    expect(() => buildCatalogCommand(loose, 'cmd', { a: 'abc' })).not.toThrow();
    expect(() => buildCatalogCommand(loose, 'cmd', { a: 'abc; touch x' })).toThrow(RunSpecError);
    expect(() => buildCatalogCommand(loose, 'cmd', { a: 'abc\ntouch x' })).toThrow(RunSpecError);
  });

  it('takes a timeout override of any whole number of seconds (no API document bounds it)', () => {
    expect(buildCatalogCommand(disk, 'disk-check', { token: 'abcd' }, { timeoutSeconds: 300 }).timeoutSeconds).toBe(300);
    expect(buildCatalogCommand(disk, 'disk-check', { token: 'abcd' }, { timeoutSeconds: 9 }).timeoutSeconds).toBe(9);
    expect(buildCatalogCommand(disk, 'disk-check', { token: 'abcd' }, { timeoutSeconds: 86_401 }).timeoutSeconds).toBe(86_401);
    expect(() => buildCatalogCommand(disk, 'disk-check', { token: 'abcd' }, { timeoutSeconds: 0 })).toThrow('the timeout must be a whole number of seconds, 1 or more, got 0');
    expect(() => buildCatalogCommand(disk, 'disk-check', { token: 'abcd' }, { timeoutSeconds: 2.5 })).toThrow(RunSpecError);
  });

  it('refuses values a shell variable cannot hold exactly', () => {
    expect(() => buildCatalogCommand(disk, 'disk-check', { token: 'ab\0cd' })).toThrow('the value of "token" contains a NUL character, which the shell cannot carry');
    expect(() => buildCatalogCommand(disk, 'disk-check', { token: 'ab\ud800cd' })).toThrow('the value of "token" is not valid Unicode text');
  });

  it('refuses values too big for RunCommand, before any call', () => {
    const e = entry('commands:\n  cmd:\n    script: x\n    parameters:\n      a: {}\n      b: {}\n      c: {}\n');
    const big = 'x'.repeat(6000);
    expect(() => buildCatalogCommand(e, 'cmd', { a: big, b: big })).not.toThrow();
    expect(() => buildCatalogCommand(e, 'cmd', { a: big, b: big, c: big })).toThrow(/once encoded; Cloud Assistant takes at most 24576 — shorten the values$/);
  });

  it('keeps a #! line first', () => {
    const e = entry('commands:\n  cmd:\n    script: "#!/bin/bash\\necho \\"$a\\"\\n"\n    parameters:\n      a: {}\n');
    const spec = buildCatalogCommand(e, 'cmd', { a: 'x' });
    expect(spec.script.startsWith('#!/bin/bash\n# fleetrun:')).toBe(true);
    expect(spec.script.endsWith('echo "$a"\n')).toBe(true);
  });

  it('leaves a script without parameters as it is', () => {
    const spec = buildCatalogCommand(entry('commands:\n  cmd:\n    script: uptime\n'), 'cmd', {});
    expect(spec).toEqual({ name: 'cmd', type: 'RunShellScript', script: 'uptime', timeoutSeconds: 60, secretValues: [] });
  });

  it('passes the RunCommand settings through', () => {
    const e = entry('commands:\n  cmd:\n    script: x\n    workingDir: /srv\n    username: deploy\n    terminationMode: ProcessTree\n    timeout: 120\n');
    expect(buildCatalogCommand(e, 'cmd', {})).toMatchObject({ workingDir: '/srv', username: 'deploy', terminationMode: 'ProcessTree', timeoutSeconds: 120 });
  });

  it('carries the output grouping rules, which the run spec keeps for summarize', () => {
    const e = entry('commands:\n  cmd:\n    script: x\n    group: { mask: [ips] }\n');
    expect(buildCatalogCommand(e, 'cmd', {}).group).toEqual({ mask: ['ips'], patterns: [] });
    const spec = buildRunSpec(parseCatalog('commands:\n  cmd:\n    script: x\n    group: { mask: [ips] }\n'), { command: 'cmd', with: {}, targets: { tags: { env: 'demo' } }, requestedBy: { kind: 'cli' } }, undefined);
    expect(spec.command.group).toEqual({ mask: ['ips'], patterns: [] });
    // As dispatch receives it: the spec's JSON parses back to the same rules.
    expect(runSpecSchema.parse(JSON.parse(JSON.stringify(spec))).command.group).toEqual(spec.command.group);
  });

  it('decodes into PowerShell variables for RunPowerShellScript', () => {
    const e = entry('commands:\n  cmd:\n    type: RunPowerShellScript\n    script: Write-Output $name\n    parameters:\n      name: {}\n');
    const spec = buildCatalogCommand(e, 'cmd', { name: "x'; Remove-Item C:\\ -Recurse; '" });
    expect(spec.type).toBe('RunPowerShellScript');
    expect(spec.script).toContain("$name = [System.Text.Encoding]::UTF8.GetString([System.Convert]::FromBase64String('{{p_name}}'))");
    expect(spec.script).not.toContain('Remove-Item');
    expect(spec.parameters!['p_name']).toMatch(/^[A-Za-z0-9+/=]*$/);
  });

  it('lists each secret value once, and not empty ones', () => {
    const e = entry('commands:\n  cmd:\n    script: x\n    parameters:\n      a: { secret: true }\n      b: { secret: true }\n      c: { secret: true }\n');
    const spec = buildCatalogCommand(e, 'cmd', { a: 'same-secret', b: 'same-secret' });
    expect(spec.secretParameters).toEqual(['p_a', 'p_b', 'p_c']);
    expect(spec.secretValues).toEqual(['same-secret']);
  });
});

describe('Function: buildScriptCommand', () => {
  it('sends the script as it is', () => {
    expect(buildScriptCommand('df -h; uptime')).toEqual({ name: 'script', type: 'RunShellScript', script: 'df -h; uptime', timeoutSeconds: 60, secretValues: [] });
    expect(buildScriptCommand('Get-Date', { timeoutSeconds: 30, type: 'RunPowerShellScript' })).toMatchObject({ type: 'RunPowerShellScript', timeoutSeconds: 30 });
    expect(buildScriptCommand("docker ps --format '{{.Names}}'").script).toBe("docker ps --format '{{.Names}}'");
  });

  it('refuses an empty script, a bad timeout, and {{…}} next to a built-in', () => {
    expect(() => buildScriptCommand(' \n')).toThrow('the script is empty');
    expect(() => buildScriptCommand('uptime', { timeoutSeconds: -5 })).toThrow('the timeout must be a whole number of seconds, 1 or more, got -5');
    expect(() => buildScriptCommand("echo {{ACS::InstanceId}}; docker ps --format '{{.Names}}'")).toThrow(/"\{\{\.Names\}\}" cannot stand next to a \{\{ACS::…\}\} built-in/);
    expect(() => buildScriptCommand('x'.repeat(LIMITS.unkeptContentBytes))).toThrow(/at most 24576/);
  });
});

describe('Injection: values reach the script only as data', () => {
  let dir: string;
  let canary: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fleetrun-catalog-'));
    canary = join(dir, 'CANARY');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const attacks = (c: string): string[] => [
    `'; touch ${c}; '`,
    `"; touch ${c}; "`,
    `; touch ${c}`,
    `&& touch ${c}`,
    `| touch ${c}`,
    `$(touch ${c})`,
    `$(rm -rf /)`,
    `\`touch ${c}\``,
    `\ntouch ${c}\n`,
    `x\n'\ntouch ${c}\n'`,
    '{{ACS::InstanceId}}',
    '{{p_msg}}',
    `'\\`,
    `\\'; touch ${c}; echo \\'`,
    `\${IFS}touch\${IFS}${c}`,
    `%s%n%x \\n \\0`,
    '-n',
    '-e \\x41',
    '',
    'trailing newlines\n\n\n',
    '  spaces  ',
    '\r\n',
    '日本語 ✓ 🚀',
    `' "$(touch ${c})" '`,
  ];

  /** Runs the script as the agent would after Cloud Assistant substituted the parameters. */
  function run(spec: BuiltCommand, shell: string, env: NodeJS.ProcessEnv = { PATH: process.env.PATH }) {
    const file = join(dir, 'script.sh');
    writeFileSync(file, substitute(spec));
    return spawnSync(shell, [file], { cwd: dir, env, encoding: 'utf8', timeout: 10_000 });
  }

  const echo = parseCatalog('commands:\n  echo:\n    script: |\n      printf \'%s\' "$msg"\n    parameters:\n      msg: {}\n');

  it('the catalog holds a shell to run the checks with', () => {
    expect(SHELLS.length).toBeGreaterThan(0);
  });

  for (const shell of SHELLS)
    it(`${shell}: every value is printed exactly and nothing else runs`, () => {
      for (const value of attacks(canary)) {
        const spec = buildCatalogCommand(echo.commands['echo']!, 'echo', { msg: value });
        // The script text holds none of the value, before or after substitution; the parameter holds only base64.
        if (value.trim().length > 2 && value !== '{{p_msg}}') expect(spec.script).not.toContain(value);
        if (value.trim().length > 2) expect(substitute(spec)).not.toContain(value);
        expect(substitute(spec)).not.toContain('CANARY');
        expect(spec.parameters!['p_msg']).toMatch(/^[A-Za-z0-9+/=]*$/);
        const result = run(spec, shell);
        expect(result.stderr, JSON.stringify(value)).toBe('');
        expect(result.status, JSON.stringify(value)).toBe(0);
        expect(result.stdout, JSON.stringify(value)).toBe(value);
        expect(existsSync(canary), JSON.stringify(value)).toBe(false);
      }
    });

  it('from chat message to shell output, byte for byte', () => {
    const dq = (v: string) => `"${v.replace(/[\\"]/g, '\\$&')}"`;
    for (const value of attacks(canary)) {
      const parsed = parseChatCommand(`@fleetrun run echo on env=demo with msg=${dq(value)}`);
      if (!parsed.ok || parsed.command.kind !== 'run') throw new Error(`did not parse: ${JSON.stringify(parsed)}`);
      const spec = buildCatalogCommand(findCommand(echo, parsed.command.command), parsed.command.command, parsed.command.with);
      expect(run(spec, SHELLS[0]!).stdout).toBe(value);
    }
    expect(existsSync(canary)).toBe(false);
  });

  it('several parameters, a default and a secret, as the demo catalog runs them', async () => {
    const catalog = await loadCatalog(DEMO_CATALOG);
    const token = `tok'en"; touch ${canary}; $(id)`;
    const spec = buildCatalogCommand(catalog.commands['secret-probe']!, 'secret-probe', { token });
    const result = run(spec, SHELLS[0]!);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(`the token is: ${token}\nits length is: ${token.length}\n`);
    expect(existsSync(canary)).toBe(false);
    // What redaction needs: the decoded value, as the script prints it.
    expect(spec.secretValues).toEqual([token]);
    expect(redact(result.stdout, spec.secretValues)).toBe(`the token is: ***\nits length is: ${token.length}\n`);
  });

  it('the demo disk-check runs with its default and refuses what its pattern does not allow', async () => {
    const catalog = await loadCatalog(DEMO_CATALOG);
    const result = run(buildCatalogCommand(catalog.commands['disk-check']!, 'disk-check', {}), SHELLS[0]!);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/Filesystem|Size/);
    expect(() => buildCatalogCommand(catalog.commands['disk-check']!, 'disk-check', { mount: `/; touch ${canary}` })).toThrow(RunSpecError);
  });

  it('stops with a clear message when the instance has no base64', () => {
    const spec = buildCatalogCommand(echo.commands['echo']!, 'echo', { msg: 'hello' });
    const empty = mkdtempSync(join(tmpdir(), 'fleetrun-nopath-'));
    try {
      const result = run(spec, SHELLS[0]!, { PATH: empty });
      expect(result.status).toBe(DECODE_FAILED_EXIT_CODE);
      expect(result.stderr).toContain('fleetrun: cannot decode parameter msg (is base64 installed?)');
      expect(result.stdout).toBe('');
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('Catalog: approval', () => {
  it('a command may require approval, by anyone or by the approvers it lists', () => {
    const catalog = parseCatalog("commands:\n  reboot:\n    script: reboot\n    approval: required\n    approvers: ['slack:U2']\n  uptime:\n    script: uptime\n");
    expect(findCommand(catalog, 'reboot')).toMatchObject({ approval: 'required', approvers: ['slack:U2'] });
    expect(findCommand(catalog, 'uptime').approval).toBeUndefined();
    expect(() => parseCatalog('commands:\n  reboot:\n    script: reboot\n    approval: yes\n')).toThrow(/approval is "required"/);
    expect(() => parseCatalog("commands:\n  reboot:\n    script: reboot\n    approval: required\n    approvers: ['U2']\n")).toThrow(/looks like platform:id/);
  });
});
