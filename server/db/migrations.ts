// The schema, as an append-only list: migration N brings a database from user_version N to N+1.
// Never edit a migration that has shipped; add the next one.
export const MIGRATIONS: string[] = [
  `
  CREATE TABLE learners (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL
  );

  CREATE TABLE lab_sessions (
    id TEXT PRIMARY KEY,
    learner_id TEXT NOT NULL REFERENCES learners(id),
    lab_id TEXT NOT NULL,
    sandbox_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'ended')),
    created_at TEXT NOT NULL,
    last_active_at TEXT NOT NULL,
    ended_at TEXT,
    end_reason TEXT
  );
  CREATE UNIQUE INDEX one_active_session_per_lab ON lab_sessions(learner_id, lab_id) WHERE status = 'active';

  CREATE TABLE attempts (
    id INTEGER PRIMARY KEY,
    learner_id TEXT NOT NULL REFERENCES learners(id),
    lab_id TEXT NOT NULL,
    exercise_id TEXT NOT NULL,
    trigger TEXT NOT NULL CHECK (trigger IN ('button', 'live', 'terminal')),
    passed INTEGER NOT NULL,
    results TEXT NOT NULL,
    created_at TEXT NOT NULL
  );
  CREATE INDEX attempts_by_learner ON attempts(learner_id, lab_id, exercise_id);

  CREATE TABLE completions (
    learner_id TEXT NOT NULL REFERENCES learners(id),
    lab_id TEXT NOT NULL,
    exercise_id TEXT NOT NULL,
    completed_at TEXT NOT NULL,
    PRIMARY KEY (learner_id, lab_id, exercise_id)
  );

  CREATE TABLE reveals (
    learner_id TEXT NOT NULL REFERENCES learners(id),
    lab_id TEXT NOT NULL,
    exercise_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('hint', 'solution')),
    first_at TEXT NOT NULL,
    PRIMARY KEY (learner_id, lab_id, exercise_id, kind)
  );

  CREATE TABLE quiz_answers (
    learner_id TEXT NOT NULL REFERENCES learners(id),
    quiz_id TEXT NOT NULL,
    question INTEGER NOT NULL,
    choice INTEGER NOT NULL,
    correct INTEGER NOT NULL,
    answered_at TEXT NOT NULL,
    PRIMARY KEY (learner_id, quiz_id, question)
  );
  `,
  // Instructor-run workshops: accounts, their sign-in sessions, cohorts, who joined under which
  // name, and the messages an instructor sent. Progress itself stays in the tables above.
  `
  CREATE TABLE instructors (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    is_admin INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
  );

  CREATE TABLE instructor_sessions (
    token_hash TEXT PRIMARY KEY,
    instructor_id TEXT NOT NULL REFERENCES instructors(id) ON DELETE CASCADE,
    expires_at TEXT NOT NULL
  );

  CREATE TABLE workshops (
    id TEXT PRIMARY KEY,
    instructor_id TEXT REFERENCES instructors(id) ON DELETE SET NULL,
    title TEXT NOT NULL,
    labs TEXT NOT NULL,
    join_code TEXT NOT NULL UNIQUE,
    starts_at TEXT,
    ends_at TEXT,
    created_at TEXT NOT NULL,
    ended_at TEXT,
    frozen_grades TEXT
  );

  CREATE TABLE workshop_members (
    workshop_id TEXT NOT NULL REFERENCES workshops(id) ON DELETE CASCADE,
    learner_id TEXT NOT NULL REFERENCES learners(id),
    display_name TEXT NOT NULL,
    joined_at TEXT NOT NULL,
    PRIMARY KEY (workshop_id, learner_id),
    UNIQUE (workshop_id, display_name)
  );
  CREATE INDEX workshop_members_by_learner ON workshop_members(learner_id);

  CREATE TABLE workshop_messages (
    id INTEGER PRIMARY KEY,
    workshop_id TEXT NOT NULL REFERENCES workshops(id) ON DELETE CASCADE,
    learner_id TEXT,
    text TEXT NOT NULL,
    sent_at TEXT NOT NULL
  );
  `,
  // What was in the kernel when a sandbox ended with its files kept (namespaces, links, BPF pins),
  // so that the page can name what a resumed sandbox no longer has.
  `
  ALTER TABLE lab_sessions ADD COLUMN lost_state TEXT;
  CREATE INDEX lab_sessions_by_learner_lab ON lab_sessions(learner_id, lab_id, ended_at);
  `,
];
