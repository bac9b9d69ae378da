import type { Lab } from '../../labs/define-lab.ts';
import { loadChapters } from '../../content/chapters.ts';

export interface CatalogLab {
  id: string;
  title: string;
  chapter: { slug: string; part: number; title: string };
  exercises: { id: string; title: string; criteria: string[] }[];
  // The quizzes of the chapter the lab is in: the grade export reports their answers beside it.
  quizzes: string[];
}

// What a workshop can cover: every lab a chapter embeds, in course order, with the chapter a
// learner finds it in. Read once at start from content/ and the lab registry.
export function courseCatalog(labs: ReadonlyMap<string, Lab>): Map<string, CatalogLab> {
  const catalog = new Map<string, CatalogLab>();
  for (const chapter of loadChapters()) {
    for (const labId of new Set(chapter.exercises.map((ref) => ref.lab))) {
      const lab = labs.get(labId);
      if (!lab || catalog.has(labId)) continue;
      catalog.set(labId, {
        id: lab.id,
        title: lab.title,
        chapter: { slug: chapter.slug, part: chapter.part, title: chapter.title },
        exercises: lab.exercises.map((exercise) => ({ id: exercise.id, title: exercise.title, criteria: exercise.checks.map((check) => check.name) })),
        quizzes: chapter.quizzes,
      });
    }
  }
  return catalog;
}
