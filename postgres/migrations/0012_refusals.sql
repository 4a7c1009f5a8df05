-- The start page shows each person the refusals they met lately (issue
-- [2.2]): an index of the refusals by actor, small beside the whole trail.
CREATE INDEX audit_log_refusals ON audit_log (actor, seq) WHERE decision = 'refuse';
