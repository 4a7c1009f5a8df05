-- Placeholder on branch publish only: number 0025 belongs to another branch.
-- The migration runner refuses gaps; delete this file at the merge.
SELECT 1;
