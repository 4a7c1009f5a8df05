-- The workspace (issue [2.2]): the purpose a signed-in person works for is
-- part of their session, declared once and shown in every page's header.
ALTER TABLE sessions ADD COLUMN purpose TEXT NOT NULL DEFAULT '';
