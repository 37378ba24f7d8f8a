import { performance } from 'node:perf_hooks';

/**
 * An HTML5-style tokenizer tuned for attack detection: it follows the browser's rules where
 * attackers exploit them (tag names glued to `/`, attributes separated by `/`, unquoted values,
 * a tag left open at the end of the value that the page's own `>` will close, comments and
 * `<!`/`<?` bogus comments), and never fails. It does not build a tree.
 */

export interface HtmlAttribute {
  /** Lower-cased attribute name. */
  name: string;
  /** Raw value (entities not decoded); '' when absent. */
  value: string;
  hasValue: boolean;
  /** Offset of the attribute name in the input. */
  pos: number;
}

/** A start or end tag. */
export interface HtmlTag {
  type: 'start' | 'end';
  /** Lower-cased tag name, namespace prefix kept (`x:script`). */
  name: string;
  attrs: HtmlAttribute[];
  /** False when the input ended inside the tag (the page would close it). */
  closed: boolean;
  pos: number;
  end: number;
}

export type HtmlToken =
  | HtmlTag
  | { type: 'comment'; text: string; pos: number; end: number }
  | { type: 'text'; text: string; pos: number; end: number };

const CLOCK_EVERY = 4096;
const isAsciiAlpha = (c: string | undefined): boolean => !!c && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
const isHtmlSpace = (c: string | undefined): boolean =>
  c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f';

/**
 * Tokenizes `input`. Linear; at most `maxTokens` tokens; stops when `performance.now()` passes
 * `deadline`. Text between tags is returned as `text` tokens.
 */
export function tokenizeHtml(input: string, deadline = Infinity, maxTokens = 2048): HtmlToken[] {
  const out: HtmlToken[] = [];
  const n = input.length;
  let i = 0;
  let textStart = 0;
  let nextClock = CLOCK_EVERY;
  /** Attributes kept over the whole input; past this, tags are still read but attributes skipped. */
  let attrBudget = 4096;
  const flushText = (to: number): void => {
    if (to > textStart) out.push({ type: 'text', text: input.slice(textStart, to), pos: textStart, end: to });
  };
  while (i < n && out.length < maxTokens) {
    if (i >= nextClock) {
      nextClock = i + CLOCK_EVERY;
      if (performance.now() > deadline) break;
    }
    const lt = input.indexOf('<', i);
    if (lt < 0) break;
    const c1 = input[lt + 1];
    if (
      c1 === '!' ||
      c1 === '?' ||
      (c1 === '/' && !isAsciiAlpha(input[lt + 2]) && input[lt + 2] !== undefined && input[lt + 2] !== '>')
    ) {
      // Comments `<!-- … -->`, doctype/bogus comments `<! … >`, `<? … >`, `</1 … >`.
      flushText(lt);
      const isComment = input.startsWith('<!--', lt);
      const close = isComment ? input.indexOf('-->', lt + 4) : input.indexOf('>', lt + 2);
      const end = close < 0 ? n : close + (isComment ? 3 : 1);
      out.push({ type: 'comment', text: input.slice(lt, end), pos: lt, end });
      i = textStart = end;
      continue;
    }
    const isEnd = c1 === '/';
    const nameStart = lt + (isEnd ? 2 : 1);
    if (!isAsciiAlpha(input[nameStart])) {
      i = lt + 1;
      continue;
    }
    flushText(lt);
    let j = nameStart;
    while (j < n && !isHtmlSpace(input[j]) && input[j] !== '/' && input[j] !== '>') j++;
    const name = input.slice(nameStart, j).toLowerCase();
    const attrs: HtmlAttribute[] = [];
    let closed = false;
    // Attributes: `/` and whitespace separate them; values quoted or not.
    while (j < n) {
      const c = input[j]!;
      if (c === '>') {
        closed = true;
        j++;
        break;
      }
      if (isHtmlSpace(c) || c === '/') {
        j++;
        continue;
      }
      const aStart = j;
      // The first character may be `=` (the spec keeps it in the name).
      j++;
      while (j < n && !isHtmlSpace(input[j]) && input[j] !== '/' && input[j] !== '>' && input[j] !== '=') j++;
      const aName = attrBudget > 0 ? input.slice(aStart, j).toLowerCase() : '';
      let k = j;
      while (k < n && isHtmlSpace(input[k])) k++;
      if (input[k] === '=') {
        k++;
        while (k < n && isHtmlSpace(input[k])) k++;
        const q = input[k];
        let value: string;
        if (q === '"' || q === "'") {
          const close = input.indexOf(q, k + 1);
          value = input.slice(k + 1, close < 0 ? n : close);
          j = close < 0 ? n : close + 1;
        } else {
          let e = k;
          while (e < n && !isHtmlSpace(input[e]) && input[e] !== '>') e++;
          value = input.slice(k, e);
          j = e;
        }
        if (attrBudget-- > 0) attrs.push({ name: aName, value, hasValue: true, pos: aStart });
      } else if (attrBudget-- > 0) {
        attrs.push({ name: aName, value: '', hasValue: false, pos: aStart });
      }
      if (j >= nextClock) {
        nextClock = j + CLOCK_EVERY;
        if (performance.now() > deadline) break;
      }
    }
    out.push({ type: isEnd ? 'end' : 'start', name, attrs, closed, pos: lt, end: j });
    i = textStart = j;
  }
  if (out.length < maxTokens) flushText(n);
  return out;
}
