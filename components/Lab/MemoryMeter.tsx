'use client';

import { useEffect, useState } from 'react';
import { labApi, type MemoryUse } from './api';
import styles from './Lab.module.css';

const EVERY_MS = 5000;
const MIB = 1024 * 1024;

// How much of its memory the sandbox uses, so that an out-of-memory kill comes as no surprise.
export default function MemoryMeter({ labId, sessionId }: { labId: string; sessionId: string }) {
  const [memory, setMemory] = useState<MemoryUse | null>(null);
  useEffect(() => {
    let stopped = false;
    const read = () => void labApi.memory(labId).then((use) => !stopped && setMemory(use), () => !stopped && setMemory(null));
    read();
    const timer = setInterval(read, EVERY_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [labId, sessionId]);
  if (!memory) return null;
  const used = Math.round(memory.usedBytes / MIB);
  const limit = Math.round(memory.limitBytes / MIB);
  return (
    <span className={used > 0.9 * limit ? styles.warning : styles.status} title="Memory the sandbox uses (its page cache included), of its limit" data-testid="memory-meter">
      Memory {used} / {limit} MiB
    </span>
  );
}
