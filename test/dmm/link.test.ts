import { describe, expect, it } from 'vitest';
import { nextLink } from '../../src/dmm/link.js';

describe('nextLink', () => {
  it.each([
    ['</api/access?p=1>; rel="next"', '/api/access?p=1'],
    [
      '</api/access?p=0>; rel="prev", <https://h/api/access?p=2&pageSize=1000>; rel="next"',
      'https://h/api/access?p=2&pageSize=1000',
    ],
    ['</x?a=1,2>; rel=next', '/x?a=1,2'],
    ['</x>; title="a, b"; REL="Next Last"', '/x'],
  ])('%s → %s', (header, expected) => {
    expect(nextLink(header)).toBe(expected);
  });

  it.each([[null], [''], ['</x>; rel="prev"'], ['</x>; rel="nextpage"'], ['garbage']])(
    'finds no next link in %j',
    (header) => {
      expect(nextLink(header)).toBeUndefined();
    },
  );
});
