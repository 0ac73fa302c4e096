import { describe, expect, it } from 'vitest';
import { matchesPattern, parsePattern, PatternError } from '../../local/eventbridge/pattern.ts';

const event = {
  source: 'acs.ecs',
  type: 'ecs:CloudAssistant:TaskCompleted',
  aliyunpublishaddr: '172.25.3.4',
  data: { instanceId: 'i-bp1abc', invocationStatus: 'Failed', exitCode: '1', count: 7, tags: ['a', 'b'], note: '' },
};

const m = (pattern: object) => matchesPattern(parsePattern(JSON.stringify(pattern)), event);

describe('Function: matchesPattern', () => {
  it('matches the reference rule for task events, and {} matches all', () => {
    expect(m({ source: ['acs.ecs'], type: ['ecs:CloudAssistant:TaskCompleted'] })).toBe(true);
    expect(m({ source: ['acs.ecs'], type: ['ecs:Instance:StateChange'] })).toBe(false);
    expect(m({})).toBe(true);
  });

  it('ORs inside a list, ANDs across keys, nests like the event', () => {
    expect(m({ data: { invocationStatus: ['Failed', 'Timeout'] } })).toBe(true);
    expect(m({ data: { invocationStatus: ['Success'] }, source: ['acs.ecs'] })).toBe(false);
    expect(m({ data: { missing: ['x'] } })).toBe(false);
  });

  it('supports every operator', () => {
    expect(m({ data: { instanceId: [{ prefix: 'i-bp1' }] } })).toBe(true);
    expect(m({ data: { instanceId: [{ suffix: 'abc' }] } })).toBe(true);
    expect(m({ type: [{ contains: 'CloudAssistant' }] })).toBe(true);
    expect(m({ data: { invocationStatus: [{ 'anything-but': 'Success' }] } })).toBe(true);
    expect(m({ data: { invocationStatus: [{ 'anything-but': ['Failed', 'Timeout'] }] } })).toBe(false);
    expect(m({ data: { instanceId: [{ 'anything-but': { prefix: 'i-' } }] } })).toBe(false);
    expect(m({ data: { count: [{ numeric: ['>', 5, '<=', 7] }] } })).toBe(true);
    expect(m({ data: { count: [{ numeric: ['<', 5] }] } })).toBe(false);
    expect(m({ aliyunpublishaddr: [{ cidr: '172.25.0.0/16' }] })).toBe(true);
    expect(m({ aliyunpublishaddr: [{ cidr: '10.0.0.0/8' }] })).toBe(false);
    expect(m({ data: { exitCode: [{ exists: true }], nope: [{ exists: false }] } })).toBe(true);
    expect(m({ data: { nope: [{ exists: true }] } })).toBe(false);
    expect(m({ data: { note: [''] } })).toBe(true);
    expect(m({ data: { tags: ['b'] } })).toBe(true);
  });

  it('is case-sensitive and exact', () => {
    expect(m({ source: ['ACS.ECS'] })).toBe(false);
    expect(m({ data: { exitCode: [1] } })).toBe(false);
  });
});

describe('Function: parsePattern', () => {
  it('refuses what is not a pattern', () => {
    expect(() => parsePattern('{')).toThrow(PatternError);
    expect(() => parsePattern('[]')).toThrow(/must be an object/);
    expect(() => parsePattern('{"a":[{"regex":"x"}]}')).toThrow(/unknown matcher/);
    expect(() => parsePattern('{"a":[{"numeric":[">"]}]}')).toThrow(/numeric/);
  });
});
