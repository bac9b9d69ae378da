// A rate as an operator writes it in the environment: "300/hour" lets a client do 300 things at
// once and then one every twelve seconds; "off" turns the limit off.
export interface Rate {
  count: number;
  perMs: number;
}

const UNIT_MS = { second: 1000, minute: 60_000, hour: 3_600_000 } as const;

export function parseRate(variable: string, text: string): Rate | null {
  const written = text.trim();
  if (written === 'off') return null;
  const match = /^(\d+)\s*\/\s*(second|minute|hour)$/.exec(written);
  if (!match || Number(match[1]) < 1) {
    throw new Error(`wirelab: bad configuration in the environment: ${variable}: expected a rate such as 300/hour (count per second, minute or hour) or off, got "${text}"`);
  }
  return { count: Number(match[1]), perMs: UNIT_MS[match[2] as keyof typeof UNIT_MS] };
}
