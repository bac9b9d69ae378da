import styles from './Counters.module.css';

const HEIGHT = 20;

// The last minute of one rate, newest on the right, scaled to its own peak; a gap where the rate
// was unknown, and a dot on the newest value. Decorative: the panel says the current value in words.
export default function Sparkline({ points, capacity, trouble }: { points: (number | null)[]; capacity: number; trouble: boolean }) {
  const peak = Math.max(1, ...points.map((point) => point ?? 0));
  const offset = capacity - points.length;
  const segments: [number, number][][] = [];
  points.forEach((point, index) => {
    if (point === null) return void segments.push([]);
    if (index === 0 || points[index - 1] === null) segments.push([]);
    segments[segments.length - 1].push([offset + index, HEIGHT - 1 - (point / peak) * (HEIGHT - 2)]);
  });
  const drawn = segments.filter((segment) => segment.length > 0);
  const newest = points.at(-1) === null ? undefined : drawn.at(-1)?.at(-1);
  const line = (segment: [number, number][]) => segment.map(([x, y], index) => `${index ? 'L' : 'M'}${x} ${y.toFixed(2)}`).join('');
  return (
    <svg
      className={styles.sparkline}
      data-trouble={trouble && points.some((point) => point)}
      viewBox={`0 0 ${capacity - 1} ${HEIGHT}`}
      preserveAspectRatio="none"
      aria-hidden="true"
    >
      <line className={styles.baseline} x1="0" y1={HEIGHT - 1} x2={capacity - 1} y2={HEIGHT - 1} />
      {drawn.map((segment, index) => (
        <g key={index}>
          <path className={styles.area} d={`${line(segment)}L${segment.at(-1)![0]} ${HEIGHT - 1}L${segment[0][0]} ${HEIGHT - 1}Z`} />
          <path className={styles.line} d={line(segment)} />
        </g>
      ))}
      {newest && <line className={styles.newest} x1={newest[0]} y1={newest[1]} x2={newest[0]} y2={newest[1]} />}
    </svg>
  );
}
