import { findExercise } from '../../labs/index';
import ExercisePanel from './ExercisePanel';

// <Exercise lab="netns-veth" id="connect-red-blue" /> in a chapter: the task, its checks, a
// hint and the reference solution on request. The text comes from the lab definition.
export default function Exercise({ lab, id }: { lab: string; id: string }) {
  const found = findExercise(lab, id);
  if (!found) throw new Error(`<Exercise lab="${lab}" id="${id}">: no such exercise in labs/${lab}/lab.ts`);
  const { exercise } = found;
  return (
    <ExercisePanel
      labId={lab}
      exerciseId={id}
      title={exercise.title}
      task={exercise.task}
      criteria={exercise.checks.map((check) => check.name)}
    />
  );
}
