/**
 * HPACK (RFC 7541) for the h2c load generator: a minimal encoder for requests (literals
 * without indexing, no Huffman, so every request's header block is built once and reused)
 * and a complete decoder for responses (static and dynamic table, size updates, Huffman),
 * because a server may index `:status` in its dynamic table or Huffman-code it (nghttp2
 * does for values such as "201"), and every header block must be decoded to keep the
 * dynamic table in step even when only `:status` matters.
 */

export type HeaderList = Array<[name: string, value: string]>;

const STATIC_TABLE: HeaderList = [
  [':authority', ''],
  [':method', 'GET'],
  [':method', 'POST'],
  [':path', '/'],
  [':path', '/index.html'],
  [':scheme', 'http'],
  [':scheme', 'https'],
  [':status', '200'],
  [':status', '204'],
  [':status', '206'],
  [':status', '304'],
  [':status', '400'],
  [':status', '404'],
  [':status', '500'],
  ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'],
  ['accept-language', ''],
  ['accept-ranges', ''],
  ['accept', ''],
  ['access-control-allow-origin', ''],
  ['age', ''],
  ['allow', ''],
  ['authorization', ''],
  ['cache-control', ''],
  ['content-disposition', ''],
  ['content-encoding', ''],
  ['content-language', ''],
  ['content-length', ''],
  ['content-location', ''],
  ['content-range', ''],
  ['content-type', ''],
  ['cookie', ''],
  ['date', ''],
  ['etag', ''],
  ['expect', ''],
  ['expires', ''],
  ['from', ''],
  ['host', ''],
  ['if-match', ''],
  ['if-modified-since', ''],
  ['if-none-match', ''],
  ['if-range', ''],
  ['if-unmodified-since', ''],
  ['last-modified', ''],
  ['link', ''],
  ['location', ''],
  ['max-forwards', ''],
  ['proxy-authenticate', ''],
  ['proxy-authorization', ''],
  ['range', ''],
  ['referer', ''],
  ['refresh', ''],
  ['retry-after', ''],
  ['server', ''],
  ['set-cookie', ''],
  ['strict-transport-security', ''],
  ['transfer-encoding', ''],
  ['user-agent', ''],
  ['vary', ''],
  ['via', ''],
  ['www-authenticate', ''],
];

/**
 * Code length in bits of each Huffman symbol 0..256 (256 = EOS), one letter each, 'A' = 5
 * bits … 'Z' = 30 bits. The HPACK code is canonical (codes assigned in order of length,
 * then symbol), so the lengths alone define it. Read from the system's libnghttp2 and
 * checked: canonical order reproduces every code, and the Kraft sum is exactly 1.
 */
const HUFFMAN_LENGTHS =
  'ISXXXXXXXTZXXZXXXXXXXXZXXXXXXXXXBFFHIBDGFFDGDBBBAAABBBBBBBCDKBHFIBCCCCCCCCCCCCCCCCCCCCCCDCDIOIJBKABABABBBACCBBBABCBAABCCCCCKGJIXPRPPRRRSRSSSSSTSTTRSTSSSSQRSRSSTRQPRRSSQSRRTQRSSQQRQSRSSPRRRSRRSVVPORSRUVVVWWVTUOQVWWVWTQQVVXWWWPTPQRQQSRRUUTTVSVWVVWWWWWXWWWWWVZ';
const EOS = 256;

/** Canonical decoding tables: for each length, the first code, how many codes, where they start in `symbols`. */
const huffman = (() => {
  const lengths = Array.from(HUFFMAN_LENGTHS, (c) => c.charCodeAt(0) - 60);
  const symbols = lengths.map((_, s) => s).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
  const first = new Array<number>(31).fill(0);
  const count = new Array<number>(31).fill(0);
  const offset = new Array<number>(31).fill(0);
  for (const l of lengths) count[l]!++;
  let code = 0;
  let at = 0;
  for (let len = 1; len <= 30; len++) {
    code = (code + count[len - 1]!) * 2;
    first[len] = code;
    offset[len] = at;
    at += count[len]!;
  }
  return { symbols, first, count, offset };
})();

/** Decodes a Huffman-coded string (latin1). Throws on a bad code or bad padding. */
export function huffmanDecode(buf: Buffer, start: number, end: number): string {
  const out: number[] = [];
  let code = 0;
  let len = 0;
  for (let i = start; i < end; i++) {
    const byte = buf[i]!;
    for (let bit = 7; bit >= 0; bit--) {
      code = code * 2 + ((byte >> bit) & 1);
      len++;
      const idx = code - huffman.first[len]!;
      if (idx >= 0 && idx < huffman.count[len]!) {
        const sym = huffman.symbols[huffman.offset[len]! + idx]!;
        if (sym === EOS) throw new Error('HPACK: EOS in a Huffman string');
        out.push(sym);
        code = 0;
        len = 0;
      } else if (len > 30) throw new Error('HPACK: bad Huffman code');
    }
  }
  // Padding: at most 7 bits, all ones (a prefix of EOS).
  if (len > 7 || code !== 2 ** len - 1) throw new Error('HPACK: bad Huffman padding');
  return String.fromCharCode(...out);
}

function encodeInt(out: number[], value: number, prefixBits: number, high: number): void {
  const max = (1 << prefixBits) - 1;
  if (value < max) {
    out.push(high | value);
    return;
  }
  out.push(high | max);
  let rest = value - max;
  while (rest >= 128) {
    out.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
}

function encodeString(out: number[], s: string): void {
  const bytes = Buffer.from(s, 'latin1');
  encodeInt(out, bytes.length, 7, 0);
  for (const b of bytes) out.push(b);
}

/**
 * Encodes a request header block: `:method` and `:scheme` from the static table, every
 * other field as a literal without indexing (so the block does not depend on any state
 * and can be sent on any connection, any number of times). Names must be lowercase.
 */
export function encodeRequestHeaders(fields: HeaderList): Buffer {
  const out: number[] = [];
  for (const [name, value] of fields) {
    if (name === ':method' && value === 'GET') out.push(0x82);
    else if (name === ':method' && value === 'POST') out.push(0x83);
    else if (name === ':scheme' && value === 'http') out.push(0x86);
    else {
      const nameIndex = STATIC_TABLE.findIndex(([n]) => n === name) + 1;
      if (nameIndex > 0) encodeInt(out, nameIndex, 4, 0x00);
      else {
        out.push(0x00);
        encodeString(out, name);
      }
      encodeString(out, value);
    }
  }
  return Buffer.from(out);
}

/** A response header decoder with its dynamic table (one per connection). */
export interface HpackDecoder {
  decode(block: Buffer): HeaderList;
}

/** `maxTableSize`: the SETTINGS_HEADER_TABLE_SIZE this side announced (4096 by default). */
export function createHpackDecoder(maxTableSize = 4096): HpackDecoder {
  // Newest entry first, as HPACK indexes it.
  const dynamic: HeaderList = [];
  let size = 0;
  let limit = maxTableSize;

  const evict = (): void => {
    while (size > limit) {
      const [n, v] = dynamic.pop()!;
      size -= n.length + v.length + 32;
    }
  };
  const lookup = (index: number): [string, string] => {
    const entry = index <= STATIC_TABLE.length ? STATIC_TABLE[index - 1] : dynamic[index - STATIC_TABLE.length - 1];
    if (index === 0 || !entry) throw new Error(`HPACK: bad index ${index}`);
    return entry;
  };

  return {
    decode(block) {
      const headers: HeaderList = [];
      let i = 0;
      const int = (prefixBits: number): number => {
        const max = (1 << prefixBits) - 1;
        let value = block[i++]! & max;
        if (value < max) return value;
        let mul = 1;
        for (;;) {
          if (i >= block.length) throw new Error('HPACK: truncated integer');
          const b = block[i++]!;
          value += (b & 127) * mul;
          mul *= 128;
          if (b < 128) return value;
          if (mul > 2 ** 28) throw new Error('HPACK: integer too large');
        }
      };
      const str = (): string => {
        const huff = (block[i]! & 0x80) !== 0;
        const len = int(7);
        if (i + len > block.length) throw new Error('HPACK: truncated string');
        const s = huff ? huffmanDecode(block, i, i + len) : block.toString('latin1', i, i + len);
        i += len;
        return s;
      };
      while (i < block.length) {
        const b = block[i]!;
        if (b & 0x80) {
          headers.push(lookup(int(7)));
        } else if (b & 0x40) {
          const index = int(6);
          const name = index === 0 ? str() : lookup(index)[0];
          const value = str();
          headers.push([name, value]);
          dynamic.unshift([name, value]);
          size += name.length + value.length + 32;
          evict();
        } else if (b & 0x20) {
          const next = int(5);
          if (next > maxTableSize) throw new Error('HPACK: table size update above the limit');
          limit = next;
          evict();
        } else {
          // Literal without indexing (0000) or never indexed (0001): same layout.
          const index = int(4);
          const name = index === 0 ? str() : lookup(index)[0];
          headers.push([name, str()]);
        }
      }
      return headers;
    },
  };
}
