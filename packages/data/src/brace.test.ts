import { describe, expect, it } from 'vitest';
import { expandBraces, expandShardList } from './brace.js';

describe('shard pattern expansion', () => {
  it('expands zero-padded numeric ranges like webdataset', () => {
    expect(expandBraces('data-{000..003}.tar')).toEqual(['data-000.tar', 'data-001.tar', 'data-002.tar', 'data-003.tar']);
    expect(expandBraces('s{8..11}.tar')).toEqual(['s8.tar', 's9.tar', 's10.tar', 's11.tar']);
    expect(expandBraces('s{098..101}')).toEqual(['s098', 's099', 's100', 's101']);
    expect(expandBraces('x{0..6..3}')).toEqual(['x0', 'x3', 'x6']);
    expect(expandBraces('data-{000..099}.tar')).toHaveLength(100);
  });

  it('expands lists, nesting and several groups in order', () => {
    expect(expandBraces('{a,b}-{0..1}')).toEqual(['a-0', 'a-1', 'b-0', 'b-1']);
    expect(expandBraces('{train-{0..1},val}.tar')).toEqual(['train-0.tar', 'train-1.tar', 'val.tar']);
    expect(expandBraces('plain.tar')).toEqual(['plain.tar']);
  });

  it('joins :: separated patterns and arrays; rejects unbalanced braces', () => {
    expect(expandShardList('a-{0..1}.tar::b.tar')).toEqual(['a-0.tar', 'a-1.tar', 'b.tar']);
    expect(expandShardList(['x{1..2}', 'y'])).toEqual(['x1', 'x2', 'y']);
    expect(() => expandBraces('bad-{0..3.tar')).toThrow(/unbalanced/);
  });
});
