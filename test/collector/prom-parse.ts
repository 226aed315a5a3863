// A small parser for Prometheus text exposition 0.0.4, written from the format description, to
// read /metrics back in tests.

export interface PromSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface PromFamilies {
  readonly types: ReadonlyMap<string, string>;
  readonly samples: readonly PromSample[];
}

function parseLabels(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < s.length) {
    const eq = s.indexOf('=', i);
    const name = s.slice(i, eq).trim();
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name)) throw new Error(`bad label name '${name}' in {${s}}`);
    if (s[eq + 1] !== '"') throw new Error(`label ${name} value is not quoted`);
    let j = eq + 2;
    let v = '';
    while (s[j] !== '"') {
      if (j >= s.length) throw new Error(`unterminated label value in {${s}}`);
      if (s[j] === '\\') {
        const n = s[j + 1];
        v += n === 'n' ? '\n' : n;
        j += 2;
      } else v += s[j++];
    }
    out[name] = v;
    i = j + 1;
    if (s[i] === ',') i++;
  }
  return out;
}

export function parsePrometheus(text: string): PromFamilies {
  const types = new Map<string, string>();
  const samples: PromSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('# TYPE ')) {
      const [name, type] = line.slice(7).split(' ');
      types.set(name!, type!);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const raw = m[3]!;
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
    if (Number.isNaN(value) && raw !== 'NaN') throw new Error(`bad value in: ${line}`);
    samples.push({ name: m[1]!, labels: m[2] ? parseLabels(m[2]) : {}, value });
  }
  return { types, samples };
}
