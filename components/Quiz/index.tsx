import QuizPanel, { type Question } from './QuizPanel';

// <Quiz id="p1-quiz" questions={[{ question, choices: [{ text, correct?, why }] }]} />:
// multiple choice with an explanation for every answer; results join the learner's progress.
export default function Quiz({ id, questions }: { id: string; questions: Question[] }) {
  if (!/^[a-z0-9-]{1,64}$/.test(id)) throw new Error(`<Quiz id="${id}">: use lower-case words joined by hyphens`);
  for (const [index, question] of questions.entries()) {
    const where = `<Quiz id="${id}"> question ${index + 1}`;
    if (question.choices.filter((choice) => choice.correct).length !== 1) throw new Error(`${where}: exactly one choice must be correct`);
    if (question.choices.some((choice) => !choice.why?.trim())) throw new Error(`${where}: every choice needs a "why"`);
  }
  return <QuizPanel id={id} questions={questions} />;
}
