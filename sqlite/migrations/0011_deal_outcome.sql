-- Deals (issue [2.2], page 5): why a won or lost deal ended so, kept on
-- the deal itself; an open deal has none.
ALTER TABLE deals ADD COLUMN outcome_reason TEXT NOT NULL DEFAULT '';
