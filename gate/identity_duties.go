package gate

// Separation of duties against administrators (issue [2.1]): an
// administrator manages accounts but never obtains another person's access.
//   - Links to set a password go only to the person, by mail; only the CLI on
//     the server (the break-glass path) sees one, and is audited with the
//     operating-system user and host that ran it.
//   - admin is exclusive with every role that reaches personal data, and a
//     grant of such a role takes effect only when a second person approves it.
//   - The person is told by mail when their password or second factor changes.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"tresor"
)

// WelcomeTTL is how long the link of a welcome mail works.
const WelcomeTTL = 72 * time.Hour

var errNoMailer = &tresor.Error{Code: tresor.ECMailUnavailable,
	Message:   "No mail server is configured, and a link to set a password goes only to the person, by mail. Configure TRESOR_SMTP_ADDR, or run `tresor user create` or `tresor user reset-password` on the server (the audited break-glass path).",
	MessageDE: "Es ist kein Mailserver eingerichtet, und ein Link zum Setzen eines Passworts geht nur per E-Mail an die Person selbst. TRESOR_SMTP_ADDR einrichten oder auf dem Server `tresor user create` bzw. `tresor user reset-password` ausführen (der protokollierte Notfallweg)."}

// principal names the person behind an actor, so that a token and a session
// of the same user count as one person for the four-eyes rule.
func principal(a *tresor.Actor) string {
	if a != nil && a.UserID != "" {
		return "user:" + a.UserID
	}
	return a.String()
}

// splitGrant divides wanted roles into those that apply at once (kept
// roles, and added roles that reach no personal data) and those that wait
// for a second person (added roles that do).
func splitGrant(current, wanted []tresor.Role) (now, pending []tresor.Role) {
	for _, r := range wanted {
		if tresor.IsDataRole(r) && !slices.Contains(current, r) {
			pending = append(pending, r)
		} else {
			now = append(now, r)
		}
	}
	return now, pending
}

// requestGrant stores a pending grant of roles in tx and records it.
func (g *Gate) requestGrant(ctx context.Context, tx tresor.Tx, req *request, u *tresor.User, roles []tresor.Role) (*tresor.RoleGrant, error) {
	gr := &tresor.RoleGrant{ID: newID(), UserID: u.ID, Roles: roles, State: tresor.GrantPending,
		RequestedBy: principal(req.actor), RequestedAt: req.now, ExpiresAt: req.now.Add(tresor.RoleGrantTTL)}
	if err := tx.InsertRoleGrant(ctx, gr); err != nil {
		return nil, err
	}
	if err := g.eventIn(ctx, tx, "role_grant.requested", gr.ID, "user "+u.ID+"; roles "+joinRoles(roles)); err != nil {
		return nil, err
	}
	return gr, nil
}

// withdrawGrants ends a user's pending grants when an administrator sets
// their roles anew: the new roles are the request now.
func (g *Gate) withdrawGrants(ctx context.Context, tx tresor.Tx, req *request, userID string) error {
	pending, err := tx.RoleGrants(ctx, tresor.GrantPending, userID)
	if err != nil {
		return err
	}
	for _, gr := range pending {
		if _, err := tx.DecideRoleGrant(ctx, gr.ID, tresor.GrantWithdrawn, principal(req.actor), req.now); err != nil {
			return err
		}
		if err := g.eventIn(ctx, tx, "role_grant.withdrawn", gr.ID, "superseded by a new change of roles"); err != nil {
			return err
		}
	}
	return nil
}

// InviteUser creates a user without a password and mails them a link to
// choose one. Roles that reach personal data wait for a second person's
// approval, unless the system (the CLI on the server) creates the user.
func (g *Gate) InviteUser(ctx context.Context, email string, roles []tresor.Role) (*tresor.User, time.Time, error) {
	req, err := g.authorize(ctx, accessConfigWrite)
	if err != nil {
		return nil, time.Time{}, err
	}
	if g.mailer == nil {
		return nil, time.Time{}, errNoMailer
	}
	norm, err := tresor.NormalizeEmail(email)
	if err != nil {
		return nil, time.Time{}, fieldError("user", "email", "%s", err)
	}
	if len(roles) == 0 {
		return nil, time.Time{}, fieldError("user", "roles", "at least one role is required")
	}
	if err := tresor.CheckSeparationOfDuties(roles); err != nil {
		g.recordBestEffort(ctx, g.entry(ctx, "user.create", "user", nil, nil, err))
		return nil, time.Time{}, err
	}
	now, pending := roles, []tresor.Role(nil)
	if req.actor.Kind != tresor.ActorSystem {
		now, pending = splitGrant(nil, roles)
	}
	u := &tresor.User{ID: newID(), Email: norm, Roles: append([]tresor.Role{}, now...), CreatedAt: req.now, UpdatedAt: req.now}
	if err := u.Validate(); err != nil {
		return nil, time.Time{}, err
	}
	secret := randomString(32)
	reset := &tresor.PasswordReset{Hash: hashToken(secret), UserID: u.ID, CreatedAt: req.now, ExpiresAt: req.now.Add(WelcomeTTL),
		Ref: newID(), IssuedBy: principal(req.actor)}
	var mailID string
	err = g.store.Update(ctx, func(tx tresor.Tx) error {
		if err := tx.InsertUser(ctx, u); err != nil {
			return err
		}
		if err := tx.InsertPasswordReset(ctx, reset); err != nil {
			return err
		}
		if err := g.eventIn(ctx, tx, "user.created", u.ID, "roles "+joinRoles(now)+"; welcome link "+reset.Ref+" mailed"); err != nil {
			return err
		}
		// The welcome mail is queued with the account (sealed under its own
		// key: the link is a secret) and sent right after the commit.
		var err error
		if mailID, err = g.queueMail(ctx, tx, mailAccountWelcome, "", accountMail("welcome", u.Email, g.publicURL+"/reset-password?token="+secret, reset.ExpiresAt)); err != nil {
			return err
		}
		if len(pending) > 0 {
			gr, err := g.requestGrant(ctx, tx, req, u, pending)
			u.PendingGrant = gr
			return err
		}
		return nil
	})
	if tresor.ErrorCode(err) == tresor.ECConflict {
		return nil, time.Time{}, tresor.Errorf(tresor.ECConflict, "A user with this e-mail address exists already.")
	}
	if err != nil {
		return nil, time.Time{}, err
	}
	// While the mail server is away the welcome mail waits in the outbox.
	g.sendQueued(ctx, mailID)
	return u, reset.ExpiresAt, nil
}

// SendPasswordReset mails a user a one-time link to set a new password. The
// link goes only to the person: no answer, page or log carries it.
func (g *Gate) SendPasswordReset(ctx context.Context, idOrEmail string) (time.Time, error) {
	if _, err := g.authorize(ctx, accessConfigWrite); err != nil {
		return time.Time{}, err
	}
	if g.mailer == nil {
		return time.Time{}, errNoMailer
	}
	u, secret, r, err := g.newPasswordReset(ctx, idOrEmail, "mailed to the person")
	if err != nil {
		return time.Time{}, err
	}
	if err := g.mailer.Send(ctx, accountMail("reset", u.Email, g.publicURL+"/reset-password?token="+secret, r.ExpiresAt)); err != nil {
		return time.Time{}, &tresor.Error{Code: tresor.ECUnavailable, Err: err, Message: "The mail server did not take the mail; try again later."}
	}
	return r.ExpiresAt, nil
}

// CreatePasswordReset makes a one-time password reset link and returns its
// secret: the break-glass path of the CLI on the server only. Everyone else
// asks for the link to be mailed to the person (SendPasswordReset).
func (g *Gate) CreatePasswordReset(ctx context.Context, idOrEmail string) (string, time.Time, error) {
	a := tresor.ActorFrom(ctx)
	if a == nil || a.Kind != tresor.ActorSystem {
		err := tresor.Errorf(tresor.ECForbidden, "A password link goes only to the person, by mail; only the CLI on the server prints one.")
		if a != nil {
			g.recordBestEffort(ctx, g.entry(ctx, "password.reset_link", "user", nil, nil, err))
		}
		return "", time.Time{}, err
	}
	_, secret, r, err := g.newPasswordReset(ctx, idOrEmail, "printed for the operator")
	if err != nil {
		return "", time.Time{}, err
	}
	return secret, r.ExpiresAt, nil
}

func (g *Gate) newPasswordReset(ctx context.Context, idOrEmail, how string) (*tresor.User, string, *tresor.PasswordReset, error) {
	req, err := g.authorize(ctx, accessConfigWrite)
	if err != nil {
		return nil, "", nil, err
	}
	u, err := g.findUser(ctx, g.store.Read(), idOrEmail)
	if err != nil {
		return nil, "", nil, err
	}
	if u.ExternalSubject != "" {
		return nil, "", nil, tresor.Errorf(tresor.ECConflict, "This user signs in through the identity provider and has no password here.")
	}
	if u.ID == req.actor.UserID {
		return nil, "", nil, tresor.Errorf(tresor.ECForbidden, "Change your own password on your account page.")
	}
	secret := randomString(32)
	r := &tresor.PasswordReset{Hash: hashToken(secret), UserID: u.ID, CreatedAt: req.now, ExpiresAt: req.now.Add(PasswordResetTTL),
		Ref: newID(), IssuedBy: principal(req.actor)}
	err = g.store.Update(ctx, func(tx tresor.Tx) error {
		if err := tx.InsertPasswordReset(ctx, r); err != nil {
			return err
		}
		return g.eventIn(ctx, tx, "password.reset_link", u.ID, "reset "+r.Ref+" "+how)
	})
	if err != nil {
		return nil, "", nil, err
	}
	return u, secret, r, nil
}

// RoleGrants lists grants of roles (state "" for all) for administrators and
// the data-protection officer. Pending grants past their time are marked
// expired first.
func (g *Gate) RoleGrants(ctx context.Context, state tresor.GrantState) ([]*tresor.RoleGrant, error) {
	req, err := g.authorizeGrants(ctx)
	if err != nil {
		return nil, err
	}
	switch state {
	case "", tresor.GrantPending, tresor.GrantApproved, tresor.GrantRejected, tresor.GrantExpired, tresor.GrantWithdrawn:
	default:
		return nil, tresor.Errorf(tresor.ECInvalidParameter, "state is one of pending, approved, rejected, expired, withdrawn.")
	}
	if err := g.expireGrants(ctx, req); err != nil {
		return nil, err
	}
	r := g.store.Read()
	out, err := r.RoleGrants(ctx, state, "")
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(out))
	emails := map[string]string{}
	email := func(id string) string {
		if e, ok := emails[id]; ok {
			return e
		}
		if u, err := r.User(ctx, id); err == nil {
			emails[id] = u.Email
		} else {
			emails[id] = ""
		}
		return emails[id]
	}
	for i, gr := range out {
		ids[i] = gr.ID
		// The second person decides knowing for whom and asked by whom.
		gr.UserEmail = email(gr.UserID)
		if id, ok := strings.CutPrefix(gr.RequestedBy, "user:"); ok {
			gr.RequesterEmail = email(id)
		}
	}
	if err := g.record(ctx, g.entry(ctx, "role_grant.list", "role_grant", ids, nil, nil)); err != nil {
		return nil, err
	}
	return out, nil
}

// expireGrants marks pending grants past their time as expired.
func (g *Gate) expireGrants(ctx context.Context, req *request) error {
	pending, err := g.store.Read().RoleGrants(ctx, tresor.GrantPending, "")
	if err != nil {
		return err
	}
	for _, gr := range pending {
		if req.now.Before(gr.ExpiresAt) {
			continue
		}
		err := g.store.Update(ctx, func(tx tresor.Tx) error {
			if ok, err := tx.DecideRoleGrant(ctx, gr.ID, tresor.GrantExpired, "system", req.now); err != nil || !ok {
				return err
			}
			return g.eventIn(tresor.WithActor(ctx, &tresor.Actor{Kind: tresor.ActorSystem}), tx, "role_grant.expired", gr.ID, "not approved within 7 days")
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// authorizeGrants admits the two kinds of second person: administrators and
// the data-protection officer (and the system).
func (g *Gate) authorizeGrants(ctx context.Context) (*request, error) {
	a := tresor.ActorFrom(ctx)
	if a == nil {
		return nil, tresor.Errorf(tresor.ECUnauthenticated, "Sign in, or send an API token in the Authorization header.")
	}
	if a.Kind != tresor.ActorSystem && !a.HasRole(tresor.RoleAdmin) && !a.HasRole(tresor.RoleDPO) {
		err := tresor.Errorf(tresor.ECForbidden, "Grants of roles are decided by an administrator or the data-protection officer.")
		g.recordBestEffort(ctx, g.entry(ctx, "role_grant.decide", "role_grant", nil, nil, err))
		return nil, err
	}
	return &request{g: g, actor: a, now: tresor.Truncate(g.now())}, nil
}

// DecideRoleGrant approves or rejects a pending grant. The second person is
// an administrator or the data-protection officer who neither asked for the
// grant nor receives it; an approval gives the roles at once.
func (g *Gate) DecideRoleGrant(ctx context.Context, id string, approve bool) (*tresor.RoleGrant, error) {
	req, err := g.authorizeGrants(ctx)
	if err != nil {
		return nil, err
	}
	action, state := "role_grant.rejected", tresor.GrantRejected
	if approve {
		action, state = "role_grant.approved", tresor.GrantApproved
	}
	var gr *tresor.RoleGrant
	expired := false
	err = g.store.Update(ctx, func(tx tresor.Tx) error {
		if gr, err = tx.RoleGrant(ctx, id); err != nil {
			return err
		}
		if gr.State != tresor.GrantPending {
			return tresor.Errorf(tresor.ECConflict, "This grant was %s already.", gr.State)
		}
		if !req.now.Before(gr.ExpiresAt) {
			expired = true
			if _, err := tx.DecideRoleGrant(ctx, gr.ID, tresor.GrantExpired, "system", req.now); err != nil {
				return err
			}
			return g.eventIn(tresor.WithActor(ctx, &tresor.Actor{Kind: tresor.ActorSystem}), tx, "role_grant.expired", gr.ID, "not approved within 7 days")
		}
		me := principal(req.actor)
		if req.actor.Kind != tresor.ActorSystem && (me == gr.RequestedBy || req.actor.UserID == gr.UserID) {
			return &tresor.Error{Code: tresor.ECFourEyes,
				Message:   "A grant of roles that reach personal data is decided by a second person: neither the one who asked for it nor the one who receives it.",
				MessageDE: "Über die Vergabe von Rollen mit Zugriff auf personenbezogene Daten entscheidet eine zweite Person: weder wer sie beantragt hat noch wer sie erhält."}
		}
		if approve {
			u, err := tx.User(ctx, gr.UserID)
			if err != nil {
				return err
			}
			roles := slices.Clone(u.Roles)
			for _, r := range gr.Roles {
				if !slices.Contains(roles, r) {
					roles = append(roles, r)
				}
			}
			u.Roles = roles
			if err := saveUser(ctx, tx, u, req.now); err != nil {
				return err
			}
			if err := g.eventIn(ctx, tx, "user.roles_changed", u.ID, "roles "+joinRoles(roles)+"; grant "+gr.ID); err != nil {
				return err
			}
		}
		if ok, err := tx.DecideRoleGrant(ctx, gr.ID, state, principal(req.actor), req.now); err != nil {
			return err
		} else if !ok {
			return tresor.Errorf(tresor.ECConflict, "This grant was decided already.")
		}
		gr.State, gr.DecidedBy, gr.DecidedAt = state, principal(req.actor), &req.now
		return g.eventIn(ctx, tx, action, gr.ID, "user "+gr.UserID+"; roles "+joinRoles(gr.Roles)+"; asked by "+gr.RequestedBy)
	})
	if expired {
		return nil, tresor.Errorf(tresor.ECConflict, "This grant expired: it was not approved within 7 days. Ask for the roles again.")
	}
	if err != nil {
		if c := tresor.ErrorCode(err); c == tresor.ECFourEyes || c == tresor.ECSeparationOfDuties {
			g.recordBestEffort(ctx, g.entry(ctx, action, "role_grant", []string{id}, nil, err))
		}
		return nil, err
	}
	g.tokens.clear()
	return gr, nil
}

// accountMail is a mail to a user about their own account, in German and English.
func accountMail(kind, to, link string, expires time.Time) *tresor.Mail {
	data := struct {
		Link, Expires string
	}{link, expires.UTC().Format("2006-01-02 15:04 UTC")}
	return &tresor.Mail{To: to, Subject: render("account_"+kind+"_subject", data),
		Text: render("account_"+kind+"_de", data) + "\n----\n\n" + render("account_"+kind+"_en", data)}
}

// notifyAccount tells a person by mail that their password or second
// factor changed, so that a change they did not make does not go unnoticed.
// Without a mail server the notice is skipped (and said so in the log).
func (g *Gate) notifyAccount(ctx context.Context, u *tresor.User, kind string) {
	if g.mailer == nil {
		g.log.InfoContext(ctx, "no mail server: account notice not sent", "user", u.ID, "notice", kind)
		return
	}
	data := struct{ At string }{tresor.Truncate(g.now()).UTC().Format("2006-01-02 15:04 UTC")}
	m := &tresor.Mail{To: u.Email, Subject: render("account_"+kind+"_subject", data),
		Text: render("account_"+kind+"_de", data) + "\n----\n\n" + render("account_"+kind+"_en", data)}
	if err := g.mailer.Send(ctx, m); err != nil {
		g.log.WarnContext(ctx, "account notice not sent", "user", u.ID, "notice", kind, "error", err)
	}
}

// passwordFrom is what a password set through a reset link records of it.
func passwordFrom(r *tresor.PasswordReset) string {
	if r.IssuedBy == "" {
		return ""
	}
	return fmt.Sprintf("reset %s issued by %s", r.Ref, r.IssuedBy)
}
