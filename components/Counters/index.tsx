import { counterGroups } from '../../labs/counters';
import { findLab } from '../../labs/index';
import CountersPanel from './CountersPanel';

// <Counters lab="rx-path" /> in a chapter, beside the lab: the counters its definition names, read
// in the learner's own sandbox once a second while it runs, drawn as rates.
export default function Counters({ lab: labId }: { lab: string }) {
  const lab = findLab(labId);
  if (!lab) throw new Error(`<Counters lab="${labId}">: there is no lab "${labId}" in labs/index.ts`);
  if (!lab.counters) throw new Error(`<Counters lab="${labId}">: labs/${labId}/lab.ts names no counters (add a \`counters\` field)`);
  return <CountersPanel labId={lab.id} title={lab.title} groups={counterGroups(lab.counters)} />;
}
