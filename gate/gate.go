// Package gate is Tresor's one enforcement layer for personal data. Every
// read and write of a CRM object passes through it: it knows the actor and the
// declared purpose, asks the policy, seals the personal fields the store
// keeps, and records the access in the audit trail. It is the only package
// that combines store, policy, vault and audit; it works on the store it is
// given (package datadir opens one) and hands it to nobody. The HTTP server
// and the CLI talk to it and never to a storage adapter.
//
// The files are named by concern, so that they group in a listing:
//
//	gate.go, gate_watch.go     the Gate, its options, authorisation, the background watchers
//	objects*.go                the generic pipeline per object kind; contacts, records
//	                           (organizations, interactions, deals, cases), personal fields
//	consent*.go                consent ledger, reach, restriction and objection, campaigns,
//	                           the mails Tresor writes
//	identity_*.go              sessions and sign-in, users and tokens, passwords, separation
//	                           of duties (invitations, reset links, four-eyes grants)
//	protection*.go             erasure, legal holds, sealing, keys and rotation, backups,
//	                           retention, maintenance after a restore
//	audit*.go                  the audit trail, events, the DPO's queries, the CSV export
//	ingest*.go, social.go      imports through the ingestion gate, Art. 14 notices, channels
//	listening*.go              social listening: topics, the listening gate, aggregates (R10)
package gate

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"tresor"
	"tresor/policy"
	"tresor/search"
)

// Gate implements the services of package tresor on a store.
type Gate struct {
	store  tresor.Store
	policy *policy.Policy
	now    func() time.Time
	log    *slog.Logger
	events func(ctx context.Context, actor *tresor.Actor, e Event)
	tokens tokenCache
	// Throttle sets how failed sign-ins slow down further attempts.
	throttle   Throttle
	keys       Keys
	mailer     tresor.Mailer
	publicURL  string
	journal    string // the erasure journal file; "" for none
	auditCfg   AuditConfig
	auditor    *auditor
	unaudited  bool // reads leave no entry: set only by benchmarks, for their baseline
	connectors ConnectorFactory
	conns      connCache
	// importMu makes one import's check for stored duplicates and its
	// insert one step against the other imports of this server.
	importMu sync.Mutex
	search   searcher
	origin   string // this process in the change feed
	// imports are the imports running in the background, with their progress.
	imports importRuns
	mailbox mailboxConfig // inbound e-mail (email.go)
	// listening is social listening's analyzer, open windows and streams.
	listening listening
	// lead says whether this server leads the periodic jobs (leader.go).
	lead   leadership
	outbox outboxConfig // the durable outbox of mail (outbox.go)
}

var (
	_ tresor.ContactService      = (*Gate)(nil)
	_ tresor.OrganizationService = (*Gate)(nil)
	_ tresor.InteractionService  = (*Gate)(nil)
	_ tresor.DealService         = (*Gate)(nil)
	_ tresor.CaseService         = (*Gate)(nil)
	_ tresor.UserService         = (*Gate)(nil)
	_ tresor.Authenticator       = (*Gate)(nil)
)

// Option configures a Gate.
type Option func(*Gate)

// WithClock replaces the wall clock, for tests.
func WithClock(now func() time.Time) Option { return func(g *Gate) { g.now = now } }

// WithPolicy replaces the default policy.
func WithPolicy(p *policy.Policy) Option { return func(g *Gate) { g.policy = p } }

// WithMailer sets how mail is sent (double opt-in, campaigns).
func WithMailer(m tresor.Mailer) Option { return func(g *Gate) { g.mailer = m } }

// WithPublicURL sets the address people reach Tresor at, for links in mail.
func WithPublicURL(u string) Option { return func(g *Gate) { g.publicURL = strings.TrimRight(u, "/") } }

// New returns a gate on an opened, migrated store, with the keys its data is
// sealed and indexed under. The keys have no default: data written under
// keys nobody kept could never be read again.
func New(store tresor.Store, keys Keys, opts ...Option) *Gate {
	g := &Gate{policy: policy.Default(), now: time.Now, log: slog.Default(), throttle: DefaultThrottle,
		keys: keys, publicURL: "http://127.0.0.1:8080"}
	g.store = watchedStore{Store: store, g: g}
	g.search.ix, g.search.orgs = search.New(), search.New()
	g.origin = uuid.NewString()
	g.outbox.wake = make(chan struct{}, 1)
	for _, o := range opts {
		o(g)
	}
	g.auditor = newAuditor(g)
	return g
}

// Close finishes the audit entries in flight, writes a last checkpoint and
// closes the store.
func (g *Gate) Close() error {
	g.stopImports()
	g.stopSearch()
	g.closeAudit()
	if err := g.indexAudit(context.Background()); err != nil {
		g.log.Warn("audit object index", "error", err)
	}
	if _, err := g.Checkpoint(context.Background()); err != nil {
		g.log.Warn("last audit checkpoint", "error", err)
	}
	return g.store.Close()
}

// Backend names the storage backend.
func (g *Gate) Backend() string { return g.store.Backend() }

// PoolStats describes the connection pools.
func (g *Gate) PoolStats() []tresor.PoolStats { return g.store.Stats() }

// StorageError turns an error of the storage itself — the database out of
// reach, its disk full — into storage_unavailable or storage_full, with the
// rule for the person; other errors stay as they are.
func (g *Gate) StorageError(err error) error {
	if err == nil || tresor.ErrorCode(err) != tresor.ECInternal {
		return err
	}
	switch g.store.Fault(err) {
	case tresor.ECStorageUnavailable:
		return &tresor.Error{Code: tresor.ECStorageUnavailable,
			Message:   "The database cannot be reached at the moment; try again shortly.",
			MessageDE: "Die Datenbank ist gerade nicht erreichbar; bitte versuchen Sie es gleich noch einmal.",
			Err:       err}
	case tresor.ECStorageFull:
		return &tresor.Error{Code: tresor.ECStorageFull,
			Message:   "The server's storage is full, so nothing can be stored or shown (every access is recorded first); tell the administrator.",
			MessageDE: "Der Speicher des Servers ist voll; es kann nichts gespeichert oder angezeigt werden (jeder Zugriff wird zuerst protokolliert). Bitte informieren Sie die Administration.",
			Err:       err}
	}
	return err
}

// Ready reports whether requests can be served: the database answers and its
// schema is the one this build expects.
func (g *Gate) Ready(ctx context.Context) error {
	if err := g.store.Ping(ctx); err != nil {
		return &tresor.Error{Code: tresor.ECUnavailable, Message: "The database does not answer.", Err: err}
	}
	cur, known, err := g.store.SchemaVersion(ctx)
	if err != nil {
		return &tresor.Error{Code: tresor.ECUnavailable, Message: "The schema version cannot be read.", Err: err}
	}
	if cur != known {
		return tresor.Errorf(tresor.ECUnavailable, "The database schema is version %d; this Tresor needs %d.", cur, known)
	}
	return nil
}

// SchemaVersion returns the database's schema version and the one this build knows.
func (g *Gate) SchemaVersion(ctx context.Context) (current, known int, err error) {
	return g.store.SchemaVersion(ctx)
}

// access is what a call needs besides authentication.
type access int

const (
	accessPurpose     access = iota // personal or CRM data: a declared, permitted purpose
	accessConfigRead                // configuration anyone signed in may read (pipelines)
	accessConfigWrite               // configuration: the admin role
)

// request is one authorised call: who, for which purpose, and the time it is
// recorded under (fixed once, so every row of the call carries the same time).
type request struct {
	g       *Gate
	actor   *tresor.Actor
	purpose string
	pu      *policy.Purpose // for accessPurpose
	now     time.Time
	// objections are the objections under Art. 21(1) a list looked up for
	// its page at once: every contact of the page is a key, nil if it has
	// none. A contact not in it is looked up in the store.
	objections map[string]*tresor.InterestObjection
}

// interestObjection returns the contact's objection under Art. 21(1), if
// it has one: from the page's lookup when there is one, else from r.
func (req *request) interestObjection(ctx context.Context, r tresor.Reader, contactID string) (*tresor.InterestObjection, bool, error) {
	if o, ok := req.objections[contactID]; ok {
		return o, o != nil, nil
	}
	o, err := r.InterestObjection(ctx, contactID)
	if tresor.ErrorCode(err) == tresor.ECNotFound {
		return nil, false, nil
	}
	return o, err == nil, err
}

// lookUpObjections looks up the objections of the page's contacts at once,
// for the checks of each.
func (req *request) lookUpObjections(ctx context.Context, r tresor.Reader, contactIDs []string) error {
	if req.pu == nil || req.pu.SeesRestricted || len(contactIDs) == 0 {
		return nil
	}
	found, err := r.InterestObjections(ctx, contactIDs)
	if err != nil {
		return err
	}
	req.objections = make(map[string]*tresor.InterestObjection, len(contactIDs))
	for _, id := range contactIDs {
		req.objections[id] = found[id]
	}
	return nil
}

// authorize checks authentication and the access the call needs.
func (g *Gate) authorize(ctx context.Context, need access) (*request, error) {
	a := tresor.ActorFrom(ctx)
	if a == nil {
		return nil, tresor.Errorf(tresor.ECUnauthenticated, "Sign in, or send an API token in the Authorization header.")
	}
	req := &request{g: g, actor: a, now: tresor.Truncate(g.now())}
	switch need {
	case accessPurpose:
		req.purpose = tresor.PurposeFrom(ctx)
		pu, err := g.policy.PermitIndividual(a, req.purpose)
		if err == nil && a.Kind != tresor.ActorSystem {
			// An account that holds admin beside a data role (made before
			// the rule, or so mapped by an identity provider) reaches no
			// personal data: separation of duties holds at every request.
			err = tresor.CheckSeparationOfDuties(a.Roles)
		}
		if err != nil {
			g.recordBestEffort(ctx, g.entry(ctx, "access", "", nil, nil, err))
			return nil, err
		}
		req.pu = pu
	case accessConfigWrite:
		if a.Kind != tresor.ActorSystem && !a.HasRole(tresor.RoleAdmin) {
			err := tresor.Errorf(tresor.ECForbidden, "Only an administrator may change the configuration.")
			g.recordBestEffort(ctx, g.entry(ctx, "access", "", nil, nil, err))
			return nil, err
		}
	}
	return req, nil
}

// ownerID is the user a new object belongs to when the caller names none.
func (r *request) ownerID() string {
	if r.actor.Kind == tresor.ActorSystem {
		return ""
	}
	return r.actor.UserID
}

// newID returns a new object id: a UUIDv7, so ids sort by creation time and
// keyset pagination lists objects in the order they were made.
func newID() string {
	return uuid.Must(uuid.NewV7()).String()
}

// PurposesOf returns the purposes the roles allow, in catalogue order.
func (g *Gate) PurposesOf(roles []tresor.Role) []string {
	return g.policy.PurposesOf(&tresor.Actor{Roles: roles})
}

// Catalogue describes the purposes of the policy.
func (g *Gate) Catalogue() []tresor.PurposeInfo {
	out := make([]tresor.PurposeInfo, len(g.policy.Purposes))
	for i, p := range g.policy.Purposes {
		out[i] = tresor.PurposeInfo{ID: p.ID, NameDE: p.NameDE, NameEN: p.NameEN, DescriptionDE: p.DescriptionDE,
			DescriptionEN: p.DescriptionEN, Categories: p.Categories, LegalBases: p.LegalBases,
			RetentionDays: p.RetentionDays, AggregatesOnly: p.AggregatesOnly, Outbound: string(p.Outbound)}
	}
	return out
}
