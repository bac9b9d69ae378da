import { TRACES } from '../../labs/traces';
import { findLab } from '../../labs/index';
import LabPanel from './LabPanel';

// <Lab id="netns-veth" /> in a chapter: the lab's live terminal, one tab per host.
export default function Lab({ id }: { id: string }) {
  const lab = findLab(id);
  if (!lab) throw new Error(`<Lab id="${id}">: there is no lab "${id}" in labs/index.ts`);
  const traces = (lab.traces ?? []).map((name) => ({ name, ...TRACES[name] }));
  return <LabPanel labId={lab.id} title={lab.title} hosts={['lab', ...(lab.hosts ?? [])]} traces={traces} />;
}
