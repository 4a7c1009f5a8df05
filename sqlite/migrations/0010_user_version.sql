-- The administration (issue [2.2]): a user's version grows with every change
-- an administrator makes to their roles or state, so that a form showing an
-- older state is refused instead of overwriting a change made meanwhile.
ALTER TABLE users ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
