import { Document, YAMLMap, isMap, isNode, isScalar } from 'yaml';

/** A comment line (or lines) placed right above the node at `path` (keys and list indexes). */
export interface YamlComment {
  readonly path: ReadonlyArray<string | number>;
  readonly comment: string;
}

export interface RenderYamlOptions {
  /** Comment block at the top of the document. */
  header?: string;
  comments?: readonly YamlComment[];
}

/**
 * Renders one value as a YAML document with comments. Deterministic (key order is insertion
 * order, no line folding) so committed examples regenerate byte for byte.
 */
export function renderYaml(value: unknown, opts: RenderYamlOptions = {}): string {
  const doc = new Document(value, { version: '1.2' });
  if (opts.header) doc.commentBefore = prefixLines(opts.header);
  for (const c of opts.comments ?? []) {
    const target = nodeForComment(doc, c.path);
    if (!target) throw new Error(`renderYaml: no node at ${c.path.join('.')} for a comment`);
    target.commentBefore = target.commentBefore
      ? `${target.commentBefore}\n${prefixLines(c.comment)}`
      : prefixLines(c.comment);
  }
  return doc.toString({ lineWidth: 0, indentSeq: true, singleQuote: true });
}

/** Renders several documents as one multi-document YAML stream. */
export function renderYamlStream(docs: ReadonlyArray<{ value: unknown; opts?: RenderYamlOptions }>): string {
  return docs.map((d) => renderYaml(d.value, d.opts)).join('---\n');
}

/** `yaml` prints comment text after '#'; a leading space reads better. */
function prefixLines(text: string): string {
  return text
    .split('\n')
    .map((l) => (l === '' ? '' : ` ${l}`))
    .join('\n');
}

/** For a mapping entry the comment goes on its key (above `key:`); for a list item on the item. */
function nodeForComment(
  doc: Document,
  path: ReadonlyArray<string | number>,
): { commentBefore?: string | null } | undefined {
  if (path.length === 0) return doc.contents && isNode(doc.contents) ? doc.contents : undefined;
  const last = path[path.length - 1]!;
  const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
  if (isMap(parent)) {
    const pair = (parent as YAMLMap).items.find((p) => isScalar(p.key) && p.key.value === last);
    return pair && isScalar(pair.key) ? pair.key : undefined;
  }
  const node = doc.getIn(path, true);
  return isNode(node) ? node : undefined;
}
