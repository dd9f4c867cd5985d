// RE2 syntax check for regexes that Envoy and gRPC compile with RE2 (safe_regex): refuses what RE2
// refuses — lookarounds, backreferences, atomic groups, possessive quantifiers — with the reason.

export type Re2Check = { ok: true } | { ok: false; message: string };

const fail = (message: string): Re2Check => ({ ok: false, message });

/** Letters RE2 accepts after a backslash outside a character class (digits are handled apart). */
const LETTER_ESCAPES = new Set('afnrtvdDsSwWbBAzpPxQECc'.split(''));
/** Letters RE2 accepts after a backslash inside a character class. */
const CLASS_LETTER_ESCAPES = new Set('afnrtvdDsSwWpPx'.split(''));
const MAX_REPEAT = 1000;

const isOctal = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '7';

/**
 * Checks `pattern` against RE2's syntax (https://github.com/google/re2/wiki/Syntax). Does not
 * build the automaton, so program-size limits are not checked; everything RE2 rejects at parse
 * time that users commonly write (PCRE/JavaScript features) is.
 */
export function checkRe2(pattern: string): Re2Check {
  const chars = [...pattern];
  let i = 0;
  let depth = 0;
  /** Whether the last item can take a repetition operator, and whether it already has one. */
  let canRepeat = false;
  let repeated = false;

  const escape = (inClass: boolean): Re2Check | number => {
    // chars[i] === '\\'; returns the index after the escape or a failure.
    const c = chars[i + 1];
    if (c === undefined) return fail('trailing backslash at end of expression');
    if (c >= '1' && c <= '9') {
      if (c <= '7' && isOctal(chars[i + 2])) return i + (isOctal(chars[i + 3]) ? 4 : 3);
      return fail(`backreference \\${c} is not supported by RE2`);
    }
    if (c === '0') return i + 2 + (isOctal(chars[i + 2]) ? (isOctal(chars[i + 3]) ? 2 : 1) : 0);
    if (/[A-Za-z]/.test(c)) {
      if (c === 'k' || c === 'g') return fail(`backreference \\${c} is not supported by RE2`);
      if (!(inClass ? CLASS_LETTER_ESCAPES : LETTER_ESCAPES).has(c))
        return fail(`invalid escape sequence \\${c}`);
      if (c === 'x') {
        if (chars[i + 2] === '{') {
          const close = chars.indexOf('}', i + 3);
          const hex = chars.slice(i + 3, close).join('');
          if (close < 0 || !/^[0-9A-Fa-f]+$/.test(hex)) return fail('invalid escape sequence \\x{…}');
          return close + 1;
        }
        if (!/^[0-9A-Fa-f]{2}$/.test(chars.slice(i + 2, i + 4).join('')))
          return fail('invalid escape sequence \\x (two hex digits needed)');
        return i + 4;
      }
      if (c === 'p' || c === 'P') {
        if (chars[i + 2] === '{') {
          const close = chars.indexOf('}', i + 3);
          if (close < 0) return fail('invalid character class \\p{');
          return close + 1;
        }
        if (chars[i + 2] === undefined) return fail('invalid character class \\p');
        return i + 3;
      }
      if (c === 'c') {
        if (chars[i + 2] === undefined) return fail('invalid escape sequence \\c');
        return i + 3;
      }
      return i + 2;
    }
    // Any ASCII punctuation (and space) may be escaped; non-ASCII characters may not.
    if (c.charCodeAt(0) > 127) return fail(`invalid escape sequence \\${c}`);
    return i + 2;
  };

  const charClass = (): Re2Check | number => {
    // chars[i] === '['; returns the index after the closing ']'.
    let j = i + 1;
    if (chars[j] === '^') j++;
    let first = true;
    while (j < chars.length) {
      const c = chars[j];
      if (c === ']' && !first) return j + 1;
      first = false;
      if (c === '[' && chars[j + 1] === ':') {
        const close = chars.indexOf(']', j + 2);
        if (close > 0 && chars[close - 1] === ':') {
          j = close + 1;
          continue;
        }
      }
      // `single`: the character this item stands for when known (for the range order check);
      // `rangeable`: false for class shorthands such as \d, which cannot start a range.
      let single: string | undefined;
      let rangeable = true;
      if (c === '\\') {
        const saved = i;
        i = j;
        const r = escape(true);
        i = saved;
        if (typeof r !== 'number') return r;
        const esc = chars[j + 1] ?? '';
        if (/[dDsSwWpP]/.test(esc)) rangeable = false;
        else if (!/[A-Za-z0-9]/.test(esc)) single = esc;
        j = r;
      } else {
        single = c;
        j++;
      }
      if (chars[j] === '-' && chars[j + 1] !== ']' && chars[j + 1] !== undefined) {
        if (!rangeable) return fail('invalid character class range');
        let hi: string | undefined = chars[j + 1];
        let next = j + 2;
        if (hi === '\\') {
          const saved = i;
          i = j + 1;
          const r = escape(true);
          i = saved;
          if (typeof r !== 'number') return r;
          const esc = chars[j + 2] ?? '';
          if (/[dDsSwWpP]/.test(esc)) return fail(`invalid escape sequence \\${esc} in a range`);
          hi = /[A-Za-z0-9]/.test(esc) ? undefined : esc;
          next = r;
        }
        if (
          single !== undefined &&
          hi !== undefined &&
          (hi.codePointAt(0) ?? 0) < (single.codePointAt(0) ?? 0)
        )
          return fail(`invalid character class range ${single}-${hi}`);
        j = next;
      }
    }
    return fail('missing closing ] in a character class');
  };

  const group = (): Re2Check | number => {
    // chars[i] === '('; returns the index after the group's opening syntax.
    if (chars[i + 1] !== '?') return i + 1;
    const rest = chars.slice(i + 2, i + 5).join('');
    if (rest.startsWith('=') || rest.startsWith('!'))
      return fail('lookahead (?= (?! is not supported by RE2');
    if (rest.startsWith('<=') || rest.startsWith('<!'))
      return fail('lookbehind (?<= (?<! is not supported by RE2');
    if (rest.startsWith('>')) return fail('atomic group (?> is not supported by RE2');
    if (rest.startsWith('#')) return fail('comment group (?# is not supported by RE2');
    if (rest.startsWith('P=') || rest.startsWith('P>'))
      return fail('named backreference (?P= is not supported by RE2');
    if (rest.startsWith('P<') || rest.startsWith('<')) {
      const start = i + 2 + (rest.startsWith('P') ? 2 : 1);
      const close = chars.indexOf('>', start);
      const name = chars.slice(start, close).join('');
      if (close < 0 || !/^[A-Za-z0-9_]+$/.test(name)) return fail('invalid named capture group');
      return close + 1;
    }
    // Flag groups: (?flags) or (?flags:re), flags from imsU with at most one '-'.
    let j = i + 2;
    let negated = false;
    let sawFlag = false;
    while (j < chars.length) {
      const c = chars[j];
      if (c === ':' || c === ')') {
        if (negated && !sawFlag) return fail('invalid flag group: nothing after -');
        return c === ')' ? -(j + 1) : j + 1; // negative: a bare flag group, which is not a group
      }
      if (c === '-') {
        if (negated) return fail('invalid flag group: two -');
        negated = true;
        sawFlag = false;
      } else if (c === 'i' || c === 'm' || c === 's' || c === 'U') {
        sawFlag = true;
      } else {
        return fail(`(?${c} is not supported by RE2 (lookarounds, recursion and conditionals are not)`);
      }
      j++;
    }
    return fail('missing closing ) for a group');
  };

  while (i < chars.length) {
    const c = chars[i] ?? '';
    if (c === '\\') {
      const r = escape(false);
      if (typeof r !== 'number') return r;
      if (chars[i + 1] === 'Q') {
        // \Q…\E quotes literally up to \E or the end.
        let k = i + 2;
        while (k < chars.length && !(chars[k] === '\\' && chars[k + 1] === 'E')) k++;
        i = Math.min(k + 2, chars.length);
      } else i = r;
      canRepeat = true;
      repeated = false;
      continue;
    }
    if (c === '[') {
      const r = charClass();
      if (typeof r !== 'number') return r;
      i = r;
      canRepeat = true;
      repeated = false;
      continue;
    }
    if (c === '(') {
      const r = group();
      if (typeof r !== 'number') return r;
      if (r < 0) {
        i = -r; // (?flags): changes flags, matches nothing, cannot be repeated
        canRepeat = false;
        continue;
      }
      depth++;
      i = r;
      canRepeat = false;
      repeated = false;
      continue;
    }
    if (c === ')') {
      if (depth === 0) return fail('unexpected ) without a matching (');
      depth--;
      i++;
      canRepeat = true;
      repeated = false;
      continue;
    }
    if (c === '|') {
      i++;
      canRepeat = false;
      repeated = false;
      continue;
    }
    if (c === '^' || c === '$') {
      i++;
      canRepeat = true; // RE2 accepts ^* (an empty-width repeat)
      repeated = false;
      continue;
    }
    if (c === '*' || c === '+' || c === '?' || c === '{') {
      let end = i + 1;
      if (c === '{') {
        const m = /^\{(\d*)(,(\d*))?\}/.exec(chars.slice(i).join(''));
        if (!m || m[1] === '') {
          // Not a repetition: a literal '{'.
          i++;
          canRepeat = true;
          repeated = false;
          continue;
        }
        const lo = m[1] === '' ? 0 : Number(m[1]);
        const hi = m[3] === undefined || m[3] === '' ? undefined : Number(m[3]);
        if (lo > MAX_REPEAT || (hi !== undefined && (hi > MAX_REPEAT || hi < lo)))
          return fail(`invalid repetition size ${m[0]} (at most ${MAX_REPEAT})`);
        end = i + [...m[0]].length;
      }
      if (!canRepeat) return fail(`missing argument to repetition operator ${c}`);
      if (repeated) return fail(`bad repetition operator: ${c} after another repetition`);
      i = end;
      if (chars[i] === '?')
        i++; // lazy form
      else if (chars[i] === '+') return fail('possessive quantifier (*+ ++ ?+) is not supported by RE2');
      repeated = true;
      continue;
    }
    i++;
    canRepeat = true;
    repeated = false;
  }
  if (depth > 0) return fail('missing closing )');
  return { ok: true };
}
