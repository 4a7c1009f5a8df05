package postgres

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"tresor"
)

// The lead of the servers on one database is a session-level advisory lock,
// one per schema (several Tresor installations, or the tests, may share a
// database in schemas of their own), held on a connection that does nothing
// else. PostgreSQL releases it when that session ends: when the leader
// releases it, when its process dies (the kernel closes the socket), or
// when the server finds the connection dead (TCP keepalives, set short on
// this connection, so a leader cut off by the network is given up within
// about half a minute).

// leaderKey is the lock's key: a hash of the schema's name.
const leaderKey = "hashtextextended('tresor leader ' || current_schema(), 0)"

// leaderConnParams name the lock's connection in pg_stat_activity (an
// operator sees which server leads by its client address) and make the
// server probe a silent client.
var leaderConnParams = map[string]string{
	"application_name":        "tresor leader",
	"tcp_keepalives_idle":     "10",
	"tcp_keepalives_interval": "5",
	"tcp_keepalives_count":    "3",
}

// lead connects and tries the lock once.
func lead(ctx context.Context, cfg *pgx.ConnConfig) (tresor.Lease, error) {
	c := cfg.Copy()
	c.RuntimeParams = map[string]string{}
	for k, v := range cfg.RuntimeParams {
		c.RuntimeParams[k] = v
	}
	for k, v := range leaderConnParams {
		c.RuntimeParams[k] = v
	}
	conn, err := pgx.ConnectConfig(ctx, c)
	if err != nil {
		return nil, translateError(redact(err))
	}
	var got bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock("+leaderKey+")").Scan(&got); err != nil || !got {
		closeConn(conn)
		return nil, translateError(err)
	}
	return &lease{conn: conn}, nil
}

// lease holds the lock's connection; pgx connections are not for
// concurrent use, so the checks take turns.
type lease struct {
	mu   sync.Mutex
	conn *pgx.Conn
}

var errLeaseGone = &tresor.Error{Code: tresor.ECStorageUnavailable, Message: "The lead of the servers was given up."}

// Held asks on the lock's connection whether its session still holds the
// lock. Any failure ends the session, so that a lock this process can no
// longer vouch for is released on the server too.
func (l *lease) Held(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == nil {
		return errLeaseGone
	}
	var held bool
	err := l.conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks
		WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid())`).Scan(&held)
	if err == nil && !held {
		err = errors.New("postgres: the session no longer holds the lock of the lead")
	}
	if err != nil {
		closeConn(l.conn)
		l.conn = nil
		return translateError(err)
	}
	return nil
}

// Release ends the lock's session, which releases the lock.
func (l *lease) Release() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == nil {
		return nil
	}
	err := closeConn(l.conn)
	l.conn = nil
	return err
}

// closeConn ends a session, waiting a few seconds at most for a server
// that does not answer (the socket is closed either way).
func closeConn(c *pgx.Conn) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.Close(ctx)
}
