// checkRe2 agrees with the real RE2 (re2-wasm, which @grpc/grpc-js-xds uses for safe_regex) on
// what it accepts and refuses, and names the reason for the features users reach for.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { checkRe2 } from '../../mesh/validate/re2.js';

interface Re2Module {
  RE2: new (pattern: string, flags: string) => unknown;
}
// re2-wasm comes with @grpc/grpc-js-xds; loaded through require so the test states the dependency.
const { RE2 } = createRequire(import.meta.url)('re2-wasm') as Re2Module;

const realRe2Accepts = (p: string): boolean => {
  try {
    new RE2(p, 'u');
    return true;
  } catch {
    return false;
  }
};

const patterns = [
  '^/api/v[0-9]+/.*$',
  'a(?=b)',
  'a(?!b)',
  '(?<=a)b',
  '(?<!a)b',
  '(a)\\1',
  '(?P<x>a)(?P=x)',
  '\\k<x>',
  '(?P<x>a)',
  '(?<x>a)',
  '(?i)abc',
  '(?s-i:a)',
  '(?U)a+',
  '(?>a)',
  '(?#comment)',
  'a**',
  'a*+',
  'a++',
  'a*?',
  'a+?b??',
  'x{2}{3}',
  'a{1001}',
  'a{1000}',
  'a{2,1}',
  'a{,3}',
  'a{2,}',
  '{',
  'a{x}',
  '\\Z',
  '\\z',
  '\\A',
  '\\G',
  '\\h',
  '\\e',
  '\\y',
  '\\8',
  '\\12',
  '\\0',
  '\\07',
  '\\x4',
  '\\x41',
  '\\x{41}',
  '\\pL',
  '\\p{Greek}',
  '\\Qa.b*\\E+',
  '\\C',
  '\\cA',
  '\\-',
  '\\_',
  '\\/',
  '\\.',
  '[[:alpha:]]+',
  '[a-z0-9_-]',
  '[]a]',
  '[^]a]',
  '[a-\\d]',
  '[z-a]',
  '[\\x41-\\x5a]',
  '[a',
  'a)',
  '(a',
  '()',
  '(?)',
  'a|*',
  '*a',
  '^*',
  'a|b|',
  'user-agent: .*Chrome.*',
];

describe('checkRe2', () => {
  it.each(patterns)('%s: same verdict as RE2', (p) => {
    expect(checkRe2(p).ok).toBe(realRe2Accepts(p));
  });

  it('names lookarounds and backreferences', () => {
    expect(checkRe2('^/(?!admin)').ok).toBe(false);
    const message = (p: string): string => {
      const r = checkRe2(p);
      return r.ok ? '' : r.message;
    };
    expect(message('^/(?!admin)')).toContain('lookahead');
    expect(message('(?<=x)y')).toContain('lookbehind');
    expect(message('(a)\\1')).toContain('backreference');
    expect(message('a*+')).toContain('possessive');
  });
});
