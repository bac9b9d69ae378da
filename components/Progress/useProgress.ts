'use client';

import { useEffect, useState } from 'react';
import { fetchProgress, onProgressChange, type Progress } from './progress';

// The learner's progress, refreshed whenever something on the page reports a change.
export function useProgress(): Progress | null {
  const [progress, setProgress] = useState<Progress | null>(null);
  useEffect(() => {
    let current = true;
    const load = () => void fetchProgress().then((loaded) => current && setProgress(loaded));
    load();
    const stop = onProgressChange(load);
    return () => {
      current = false;
      stop();
    };
  }, []);
  return progress;
}
