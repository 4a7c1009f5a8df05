package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"tresor"
)

// InsertMailMessage stores a mail for threading; a Message-ID known already
// is left as it is.
func (c *conn) InsertMailMessage(ctx context.Context, m *tresor.MailMessage) error {
	_, err := c.exec(ctx, "mail-message-insert", m.Hash, m.MessageID, m.CaseID, m.ContactID, string(m.Direction), micros(m.CreatedAt))
	return err
}

// MailThread finds the case of a known mail among the hashes.
func (c *conn) MailThread(ctx context.Context, hashes []string) (string, error) {
	if len(hashes) == 0 {
		return "", nil
	}
	hashes = hashes[:min(len(hashes), 100)]
	var b strings.Builder
	b.WriteString("SELECT case_id FROM mail_messages WHERE case_id <> '' AND hash IN (")
	args := make([]any, len(hashes))
	for i, h := range hashes {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "$%d", i+1)
		args[i] = h
	}
	b.WriteString(") ORDER BY created_at DESC LIMIT 1")
	rows, err := c.queryText(ctx, b.String(), args...)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	id := ""
	if rows.Next() {
		if err := rows.Scan(&id); err != nil {
			return "", err
		}
	}
	return id, rows.Err()
}

// MailMessages lists the mails of a case, oldest first.
func (c *conn) MailMessages(ctx context.Context, caseID string) ([]*tresor.MailMessage, error) {
	return list(ctx, c, queries["mail-messages"], []any{caseID}, func(s scanner) (*tresor.MailMessage, error) {
		var m tresor.MailMessage
		var dir string
		var at int64
		if err := s.Scan(&m.Hash, &m.MessageID, &m.CaseID, &m.ContactID, &dir, &at); err != nil {
			return nil, err
		}
		m.Direction, m.CreatedAt = tresor.Direction(dir), fromMicros(at)
		return &m, nil
	})
}

// MailKnown reports whether a mail with the Message-ID's hash is known.
func (c *conn) MailKnown(ctx context.Context, hash string) (bool, error) {
	n, err := c.count(ctx, "mail-known", hash)
	return n > 0, err
}

// MailFrom reports whether the contact ever wrote to the company by mail.
func (c *conn) MailFrom(ctx context.Context, contactID string) (bool, error) {
	n, err := c.count(ctx, "mail-from-count", contactID)
	return n > 0, err
}

// ClaimMail claims a message of a mailbox: a new claim, or one that was
// never done and is older than StaleFrom.
func (c *conn) ClaimMail(ctx context.Context, m *tresor.MailClaim) (bool, error) {
	res, err := c.exec(ctx, "mail-claim", m.Mailbox, m.UID, m.By, micros(m.At), micros(m.StaleFrom))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// MailDone marks a claimed message taken.
func (c *conn) MailDone(ctx context.Context, mailbox, uid string, at time.Time) error {
	_, err := c.exec(ctx, "mail-done", mailbox, uid, micros(at))
	return err
}

// ReleaseMail gives up a claim that was not done.
func (c *conn) ReleaseMail(ctx context.Context, mailbox, uid, by string) error {
	_, err := c.exec(ctx, "mail-release", mailbox, uid, by)
	return err
}
