import { describe, expect, it } from 'vitest';
import { FleetFileError, generatedFleet, parseFleet } from '../../local/ecs/fleet.ts';

describe('Function: parseFleet', () => {
  it('fills the documented defaults', () => {
    const [i] = parseFleet('instances:\n  - id: i-bp1demo000000000001\n    tags: { env: demo, n: 3 }\n');
    expect(i).toEqual({
      id: 'i-bp1demo000000000001',
      name: 'i-bp1demo000000000001',
      status: 'Running',
      tags: { env: 'demo', n: '3' },
      agent: { online: true, version: '2.2.3.600' },
      osType: 'linux',
      users: ['root'],
    });
  });

  it('names the file, instance and field of a problem', () => {
    expect(() => parseFleet('instances:\n  - id: web-1\n', 'f.yaml')).toThrow(/f\.yaml: instances\.0\.id: an instance id looks like/);
    expect(() => parseFleet('instances:\n  - id: i-aaaa1\n    status: Rebooting\n')).toThrow(FleetFileError);
    expect(() => parseFleet('instances:\n  - id: i-aaaa1\n  - id: i-aaaa1\n')).toThrow(/i-aaaa1 appears twice/);
    expect(() => parseFleet('instances: [\n')).toThrow(/not valid YAML/);
    expect(() => parseFleet('hosts: []\n')).toThrow(/instances/);
  });

  it('reads a 10,000-instance fleet file', () => {
    const text = 'instances:\n' + Array.from({ length: 10_000 }, (_, n) => `  - { id: i-big${String(n).padStart(8, '0')}, tags: { env: big } }`).join('\n');
    const fleet = parseFleet(text);
    expect(fleet).toHaveLength(10_000);
    expect(new Set(fleet.map((i) => i.id)).size).toBe(10_000);
  });
});

describe('Function: generatedFleet', () => {
  it('makes unique Running instances', () => {
    const fleet = generatedFleet(1000);
    expect(new Set(fleet.map((i) => i.id)).size).toBe(1000);
    expect(fleet.every((i) => i.status === 'Running' && i.agent.online)).toBe(true);
  });
});
