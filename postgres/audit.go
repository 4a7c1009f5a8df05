package postgres

// auditIDsArray adds the audit trail's object UUIDs of an append in one
// statement: the inserted rows come from the CTE, the ones there already
// from the table (the statement's snapshot does not see its own inserts).
const auditIDsArray = `WITH added AS (
    INSERT INTO audit_ids (id) SELECT DISTINCT unnest($1::bytea[]) ON CONFLICT DO NOTHING RETURNING ref, id
)
SELECT ref, id FROM added UNION ALL SELECT ref, id FROM audit_ids WHERE id = ANY($1::bytea[])`

// auditRefsArray appends the postings of an indexing run in one statement.
const auditRefsArray = `INSERT INTO audit_refs (grp, block, n, seqs)
SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bytea[])
ON CONFLICT (grp, block) DO UPDATE SET n = audit_refs.n + excluded.n, seqs = audit_refs.seqs || excluded.seqs`
