// What a Prometheus scrape of /metrics reads, for assertions on it.
export interface Scrape {
  text: string;
  // The sample of `name` with exactly these labels; throws when there is none.
  value: (name: string, labels?: Record<string, string>) => number;
}

export async function scrape(baseUrl: string, token: string): Promise<Scrape> {
  const response = await fetch(`${baseUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  if (response.status !== 200) throw new Error(`GET /metrics answered ${response.status}: ${await response.text()}`);
  return parseMetrics(await response.text());
}

export function parseMetrics(text: string): Scrape {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (match) samples.set(match[1] + canonicalLabels(match[2] ?? ''), Number(match[3]));
  }
  return {
    text,
    value(name, labels = {}) {
      const key = name + canonicalLabels(`{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',')}}`);
      const found = samples.get(key);
      if (found === undefined) throw new Error(`no sample ${key} in the scrape; it has ${[...samples.keys()].filter((k) => k.startsWith(name)).join(', ') || 'none of that name'}`);
      return found;
    },
  };
}

function canonicalLabels(braced: string) {
  const pairs = braced.replace(/^\{|\}$/g, '').split(',').filter(Boolean).sort();
  return pairs.length ? `{${pairs.join(',')}}` : '';
}
