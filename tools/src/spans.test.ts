import { describe, expect, it } from 'vitest';
import { causalOrder, type ZipkinSpan } from './spans.ts';

const span = (id: string, timestamp: number, parentId?: string): ZipkinSpan => ({
  traceId: 't',
  id,
  timestamp,
  ...(parentId ? { parentId } : {}),
});

describe('causalOrder', () => {
  it('puts each parent before its children and siblings by start, with their depth', () => {
    const spans = [span('c2', 30, 'b'), span('b', 10, 'a'), span('a', 0), span('c1', 20, 'b'), span('d', 5, 'a')];
    expect(causalOrder(spans).map(({ span: s, depth }) => `${s.id}@${depth}`)).toEqual(['a@0', 'd@1', 'b@1', 'c1@2', 'c2@2']);
  });

  it('treats a span whose parent is missing (not exported yet) as a root', () => {
    expect(causalOrder([span('x', 5, 'gone'), span('a', 0)]).map(({ span: s }) => s.id)).toEqual(['a', 'x']);
  });
});
