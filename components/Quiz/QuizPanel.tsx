'use client';

import { useEffect, useId, useState } from 'react';
import { callApi } from '../api';
import { announceProgressChange, type QuizAnswer } from '../Progress/progress';
import { useProgress } from '../Progress/useProgress';
import { InlineText } from '../InlineText';
import styles from './Quiz.module.css';

export interface Question {
  question: string;
  choices: { text: string; correct?: boolean; why: string }[];
}

export default function QuizPanel({ id, questions }: { id: string; questions: Question[] }) {
  const progress = useProgress();
  const [answers, setAnswers] = useState<Record<number, QuizAnswer>>({});
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const saved = progress?.quizzes[id];
    if (saved) setAnswers(Object.fromEntries(Object.entries(saved).map(([question, answer]) => [Number(question), answer])));
  }, [progress, id]);

  async function answer(question: number, choice: number) {
    const correct = questions[question].choices[choice].correct === true;
    setAnswers((previous) => ({ ...previous, [question]: { choice, correct } }));
    try {
      await callApi('POST', `/api/quizzes/${id}/answers`, { question, choice, correct });
      setError(null);
      announceProgressChange();
    } catch (failure) {
      setError(`Your answer was not saved: ${(failure as Error).message}`);
    }
  }

  const score = Object.values(answers).filter((a) => a.correct).length;
  return (
    <section className={styles.quiz} aria-label="Quiz" data-testid={`quiz-${id}`}>
      <header className={styles.header}>
        <p className="kicker">Check your understanding</p>
        <p className={styles.score} aria-live="polite">
          {score} of {questions.length} correct
        </p>
      </header>
      {questions.map((question, index) => (
        <QuestionBlock key={index} number={index} question={question} answer={answers[index]} onAnswer={(choice) => void answer(index, choice)} />
      ))}
      {error && <p className={styles.error} role="alert">{error}</p>}
    </section>
  );
}

function QuestionBlock(props: { number: number; question: Question; answer?: QuizAnswer; onAnswer: (choice: number) => void }) {
  const { number, question, answer, onAnswer } = props;
  const name = useId();
  const [selected, setSelected] = useState<number | null>(null);
  const [retrying, setRetrying] = useState(false);
  const answered = answer !== undefined && !retrying;

  useEffect(() => {
    if (answer) setSelected(answer.choice);
  }, [answer]);

  return (
    <form
      className={styles.question}
      onSubmit={(event) => {
        event.preventDefault();
        if (selected === null) return;
        setRetrying(false);
        onAnswer(selected);
      }}
    >
      <fieldset disabled={answered}>
        <legend>
          <span className={styles.number}>{number + 1}.</span> <InlineText text={question.question} />
        </legend>
        {question.choices.map((choice, index) => {
          const verdict = answered && (choice.correct ? styles.right : index === answer.choice ? styles.wrong : '');
          return (
            <label key={index} className={`${styles.choice} ${verdict || ''}`}>
              <input type="radio" name={name} value={index} checked={selected === index} onChange={() => setSelected(index)} />
              <span>
                <InlineText text={choice.text} />
                {answered && (choice.correct || index === answer.choice) && (
                  <span className={styles.why}>
                    {choice.correct ? '✓ ' : '✗ '}
                    <InlineText text={choice.why} />
                  </span>
                )}
              </span>
            </label>
          );
        })}
      </fieldset>
      {answered ? (
        <p className={styles.result}>
          {answer.correct ? 'Correct.' : 'Not quite.'}{' '}
          <button type="button" className={styles.link} onClick={() => setRetrying(true)}>
            Try again
          </button>
        </p>
      ) : (
        <button type="submit" className={styles.submit} disabled={selected === null}>
          Answer
        </button>
      )}
    </form>
  );
}
