package gate

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"tresor"
	"tresor/policy"
	"tresor/vault"
)

var _ tresor.ConsentService = (*Gate)(nil)

// inboundWindow is how recent a conversation the person started must be for
// a reply to count as part of it.
const inboundWindow = 30 * 24 * time.Hour

// openContact loads a contact with all its fields opened, for the gate's
// own decisions (not for showing: contacts.shown filters by purpose). r may
// be a Tx.
func (g *Gate) openContact(ctx context.Context, r tresor.Reader, id string) (*tresor.ContactRow, *tresor.Contact, error) {
	row, err := r.Contact(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	c, err := contacts.fromRow(ctx, g, row, nil)
	if err != nil {
		return nil, nil, err
	}
	return row, c, nil
}

// contactFor loads a contact the declared purpose may act on.
func (g *Gate) contactFor(ctx context.Context, r tresor.Reader, req *request, id string) (*tresor.Contact, error) {
	_, c, err := g.openContact(ctx, r, id)
	if err != nil {
		return nil, err
	}
	if err := contacts.guarded(ctx, g, r, req, c); err != nil {
		return nil, err
	}
	return c, nil
}

// effective applies expiry to a stored consent state: a granted consent
// lapses after the configured days without change or interaction.
func (g *Gate) effective(st tresor.ConsentStatus, lastInteraction *time.Time, now time.Time) tresor.ConsentStatus {
	if st.State != tresor.ConsentGranted {
		return st
	}
	active := st.Since
	if lastInteraction != nil && lastInteraction.After(active) {
		active = *lastInteraction
	}
	if expires := active.Add(time.Duration(g.policy.Consent.ExpiryDays) * 24 * time.Hour); !now.Before(expires) {
		st.State, st.Since = tresor.ConsentExpired, expires
	}
	return st
}

// textHash is the hash of the consent text shown: given, or computed from the text.
func textHash(p tresor.ConsentProof) (string, error) {
	switch {
	case p.TextHash != "":
		h := strings.ToLower(p.TextHash)
		if b, err := hex.DecodeString(h); err != nil || len(b) != sha256.Size {
			return "", fmt.Errorf("proof.text_hash must be the hex SHA-256 of the consent text")
		}
		return h, nil
	case p.TextVersion != "":
		sum := sha256.Sum256([]byte(p.TextVersion))
		return hex.EncodeToString(sum[:]), nil
	}
	return "", fmt.Errorf("proof needs text_version (the consent text shown, or its version) or text_hash")
}

// RecordConsent appends to the consent ledger. A grant by double opt-in
// sends a confirmation mail and stays pending until the person confirms.
func (g *Gate) RecordConsent(ctx context.Context, contactID string, r tresor.ConsentRequest) (*tresor.ConsentStatus, error) {
	req, err := g.authorize(ctx, accessPurpose)
	if err != nil {
		return nil, err
	}
	if _, ok := g.policy.Purpose(r.Purpose); !ok {
		return nil, policy.Refuse(policy.RPurposeUnknown, r.Purpose, strings.Join(g.purposeIDs(), ", "))
	}
	channel, err := tresor.ParseConsentChannel(r.Channel)
	if err != nil {
		return nil, err
	}
	var p tresor.Problems
	if r.Action != tresor.ConsentGrant && r.Action != tresor.ConsentWithdraw {
		p.Add("action", "must be grant or withdraw")
	}
	if !slices.Contains(tresor.ConsentMethods(), r.Method) {
		p.Add("method", "%q is not a method; the methods are web_form, double_opt_in, paper, import, request", r.Method)
	}
	hash, herr := textHash(r.Proof)
	if herr != nil && r.Action == tresor.ConsentGrant {
		p.Add("proof", "%s", herr)
	}
	if r.Proof.IP != "" {
		if _, err := netip.ParseAddr(r.Proof.IP); err != nil {
			p.Add("proof.ip", "%q is not an IP address", r.Proof.IP)
		}
	}
	if r.Method == tresor.MethodDoubleOptIn && (r.Action != tresor.ConsentGrant || channel != tresor.ChannelEmailMsg) {
		p.Add("method", "double opt-in confirms a grant on the email channel")
	}
	if err := p.Err("consent"); err != nil {
		return nil, err
	}
	c, err := g.contactFor(ctx, g.store.Read(), req, contactID)
	if err != nil {
		return nil, err
	}
	e := &tresor.ConsentEvent{ID: newID(), ContactID: c.ID, Purpose: r.Purpose, Channel: channel, Action: r.Action,
		Method: r.Method, TextHash: hash, IP: r.Proof.IP, Actor: req.actor.String(), At: req.now}
	state := tresor.ConsentGranted
	if r.Action == tresor.ConsentWithdraw {
		state = tresor.ConsentWithdrawn
	}
	// A grant of marketing consent for a person who objected to direct
	// marketing waits for the DPO's record that the objection was
	// withdrawn (decisions_marketing.go); checked in the transaction.
	objectionStands := func(tx tresor.Tx) error {
		if r.Action != tresor.ConsentGrant || r.Purpose != policy.AdvertisingConsentPurpose {
			return nil
		}
		if objected, err := marketingObjected(ctx, tx, c); err != nil || !objected {
			return err
		}
		return errObjectionStands()
	}
	var secret, mailID string
	if r.Method == tresor.MethodDoubleOptIn {
		if len(c.Emails) == 0 {
			r := policy.Explain(policy.RNoAddress, "e-mail")
			return nil, &tresor.Error{Code: tresor.ECConflict, Message: r.Message, MessageDE: r.MessageDE}
		}
		if g.mailer == nil {
			return nil, tresor.Errorf(tresor.ECUnavailable, "No mail server is configured, so no confirmation can be sent (TRESOR_SMTP_ADDR).")
		}
		e.Action, state = tresor.ConsentAsk, tresor.ConsentPending
		secret = randomString(32)
		expires := req.now.Add(time.Duration(g.policy.Consent.ConfirmationDays) * 24 * time.Hour)
		link := &tresor.ConsentLinkRow{Hash: hashToken(secret), Kind: "confirm", ContactID: c.ID, Purpose: r.Purpose,
			Channel: channel, TextHash: hash, CreatedAt: req.now, ExpiresAt: &expires}
		err = g.store.Update(ctx, func(tx tresor.Tx) error {
			if err := objectionStands(tx); err != nil {
				return err
			}
			if err := tx.InsertConsentLink(ctx, link); err != nil {
				return err
			}
			if err := g.insertConsentEvent(ctx, tx, e, state); err != nil {
				return err
			}
			// Queued with the request: a committed request always has its
			// confirmation mail, a rolled-back one never.
			mailID, err = g.queueMail(ctx, tx, mailConsentConfirmation, c.ID, g.confirmationMail(c, r.Purpose, secret))
			return err
		})
	} else {
		err = g.store.Update(ctx, func(tx tresor.Tx) error {
			if err := objectionStands(tx); err != nil {
				return err
			}
			return g.insertConsentEvent(ctx, tx, e, state)
		})
	}
	if tresor.ErrorCode(err) == tresor.ECSuppressed {
		g.recordBestEffort(ctx, g.entry(ctx, "consent."+string(r.Action), "contact", []string{c.ID}, nil, err))
	}
	if err != nil {
		return nil, err
	}
	st := &tresor.ConsentStatus{Purpose: r.Purpose, Channel: channel, State: state, Since: req.now}
	if mailID != "" {
		st.Mail = g.sendQueued(ctx, mailID)
	}
	return st, nil
}

// Consents returns the current states (expiry applied) and the full ledger of a contact.
func (g *Gate) Consents(ctx context.Context, contactID string) (*tresor.ConsentHistory, error) {
	req, err := g.authorize(ctx, accessPurpose)
	if err != nil {
		return nil, err
	}
	r := g.store.Read()
	c, err := g.contactFor(ctx, r, req, contactID)
	if err != nil {
		return nil, err
	}
	states, err := r.ConsentStates(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	events, err := r.ConsentEvents(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	if err := g.openConsentIPs(ctx, r, c.ID, events); err != nil {
		return nil, err
	}
	if err := g.record(ctx, g.entry(ctx, "consent.read", "contact", []string{c.ID}, nil, nil)); err != nil {
		return nil, err
	}
	h := &tresor.ConsentHistory{States: make([]tresor.ConsentStatus, len(states)), Events: nonNil(events)}
	for i, st := range states {
		h.States[i] = g.effective(st, c.LastInteractionAt, req.now)
	}
	return h, nil
}

// consentState is the effective state of a contact's consent for a purpose and channel.
func (g *Gate) consentState(ctx context.Context, r tresor.Reader, c *tresor.Contact, purpose string, channel tresor.ConsentChannel, now time.Time) (tresor.ConsentState, error) {
	states, err := r.ConsentStates(ctx, c.ID)
	if err != nil {
		return "", err
	}
	for _, st := range states {
		if st.Purpose == purpose && st.Channel == channel {
			return g.effective(st, c.LastInteractionAt, now).State, nil
		}
	}
	return tresor.ConsentUnknown, nil
}

// Reach is the outbound gate for the API: may the contact be reached for the
// purpose on the channel? The caller's roles must allow the purpose.
func (g *Gate) Reach(ctx context.Context, contactID, purpose string, channel tresor.ConsentChannel, advertising bool) (*tresor.ReachDecision, error) {
	a := tresor.ActorFrom(ctx)
	if a == nil {
		return nil, tresor.Errorf(tresor.ECUnauthenticated, "Sign in first.")
	}
	if _, err := tresor.ParseConsentChannel(string(channel)); err != nil {
		return nil, err
	}
	req, err := g.authorize(tresor.WithPurpose(ctx, purpose), accessPurpose)
	if err != nil {
		return nil, err
	}
	_, c, err := g.openContact(ctx, g.store.Read(), contactID)
	if err != nil {
		return nil, err
	}
	d, err := g.reach(ctx, req, c, channel, advertising)
	if err != nil {
		return nil, err
	}
	// The outbound gate's answer is a policy decision: recorded as one.
	e := g.entry(ctx, "contact.reach", "contact", []string{c.ID}, nil, nil)
	codes := make([]string, len(d.Reasons))
	for i, r := range d.Reasons {
		codes[i] = r.Code
	}
	e.Detail = fmt.Sprintf("channel=%s advertising=%v reasons=%s", channel, advertising, strings.Join(codes, ","))
	if !d.Allowed {
		e.Decision = tresor.Refused
		if len(codes) > 0 {
			e.Reason = codes[0]
		}
	}
	if err := g.record(ctx, e); err != nil {
		return nil, err
	}
	return &d, nil
}

// reach is the outbound gate: the one decision every path that sends to a
// person goes through (campaigns, and later social messages). It gathers
// the facts about the person and lets the policy decide.
func (g *Gate) reach(ctx context.Context, req *request, c *tresor.Contact, channel tresor.ConsentChannel, advertising bool) (tresor.ReachDecision, error) {
	if d, stop, err := g.reachObjected(ctx, req, c); stop || err != nil {
		return d, err
	}
	f, err := g.reachFacts(ctx, req, c, channel, advertising)
	if err != nil {
		return tresor.ReachDecision{}, err
	}
	return g.policy.DecideReach(f), nil
}

// reachFacts gathers what the outbound gate decides on.
func (g *Gate) reachFacts(ctx context.Context, req *request, c *tresor.Contact, channel tresor.ConsentChannel, advertising bool) (policy.ReachFacts, error) {
	r := g.store.Read()
	f := policy.ReachFacts{Purpose: req.pu, Channel: channel, Advertising: advertising, Restricted: c.RestrictedAt != nil,
		Objected: c.ObjectedAt != nil, ExpiryDays: g.policy.Consent.ExpiryDays}
	var err error
	if f.Suppressed, err = r.ContactSuppressed(ctx, c.ID, suppressionScope); err != nil {
		return f, err
	}
	kinds, err := r.LookupKinds(ctx, c.ID)
	if err != nil {
		return f, err
	}
	f.HasAddress = slices.Contains(kinds, string(tresor.AddressKind(channel)))
	if f.Consent, err = g.consentState(ctx, r, c, policy.AdvertisingConsentPurpose, channel, req.now); err != nil {
		return f, err
	}
	if kind, network, ok := interactionOf(channel); ok {
		if f.InboundConversation, err = r.InboundSince(ctx, c.ID, kind, network, req.now.Add(-inboundWindow)); err != nil {
			return f, err
		}
	}
	records, err := c.Provenance.Records()
	if err != nil {
		return f, err
	}
	for _, p := range records {
		if p.LegalBasis == tresor.BasisContract || p.LegalBasis == tresor.BasisLegalObligation {
			f.Contract = true
		}
	}
	return f, nil
}

// interactionOf is the interaction that carries a channel's messages.
func interactionOf(c tresor.ConsentChannel) (tresor.InteractionKind, string, bool) {
	switch c {
	case tresor.ChannelEmailMsg:
		return tresor.KindEmail, "", true
	case tresor.ChannelPhoneCall:
		return tresor.KindCall, "", true
	}
	if n := c.Network(); n != "" {
		return tresor.KindSocialMessage, n, true
	}
	return "", "", false
}

// ---- links in mail

var errLink = tresor.Errorf(tresor.ECLinkInvalid, "This link is not valid: it was changed, it was used already, or it has expired.")

// withdrawSecret makes the withdrawal link of a person, purpose and channel:
// signed with the link key, so it needs no storage and never expires
// (withdrawing must stay as easy as consenting, Art. 7(3)).
func (g *Gate) withdrawSecret(contactID, purpose string, channel tresor.ConsentChannel) string {
	payload := base64.RawURLEncoding.EncodeToString([]byte(contactID + "|" + purpose + "|" + string(channel)))
	m := hmac.New(sha256.New, g.keys.Links)
	m.Write([]byte("withdraw|" + payload))
	return "w1." + payload + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:20])
}

// parseWithdraw verifies a withdrawal secret.
func (g *Gate) parseWithdraw(secret string) (contactID, purpose string, channel tresor.ConsentChannel, err error) {
	parts := strings.Split(secret, ".")
	if len(parts) != 3 || parts[0] != "w1" {
		return "", "", "", errLink
	}
	m := hmac.New(sha256.New, g.keys.Links)
	m.Write([]byte("withdraw|" + parts[1]))
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, m.Sum(nil)[:20]) {
		return "", "", "", errLink
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	fields := strings.Split(string(raw), "|")
	if err != nil || len(fields) != 3 {
		return "", "", "", errLink
	}
	return fields[0], fields[1], tresor.ConsentChannel(fields[2]), nil
}

// linkContact loads the contact of a link, for pages without sign-in.
func (g *Gate) linkContact(ctx context.Context, id string) (*tresor.Contact, error) {
	row, err := g.store.Read().Contact(ctx, id)
	if tresor.ErrorCode(err) == tresor.ECNotFound {
		return nil, errLink
	} else if err != nil {
		return nil, err
	}
	return contacts.fromRow(ctx, g, row, nil)
}

func (g *Gate) describe(ctx context.Context, kind string, c *tresor.Contact, purpose string, channel tresor.ConsentChannel) (*tresor.ConsentLink, error) {
	l := &tresor.ConsentLink{Kind: kind, Purpose: purpose, Channel: channel, Language: mailLanguage(c)}
	if pu, ok := g.policy.Purpose(purpose); ok {
		l.PurposeDE, l.PurposeEN = pu.NameDE, pu.NameEN
	}
	st, err := g.consentState(ctx, g.store.Read(), c, purpose, channel, g.now())
	if err != nil {
		return nil, err
	}
	l.State = st
	return l, nil
}

// ConsentLink describes a confirmation or withdrawal link for its page.
func (g *Gate) ConsentLink(ctx context.Context, secret string) (*tresor.ConsentLink, error) {
	if strings.HasPrefix(secret, "w1.") {
		id, purpose, channel, err := g.parseWithdraw(secret)
		if err != nil {
			return nil, err
		}
		c, err := g.linkContact(ctx, id)
		if err != nil {
			return nil, err
		}
		return g.describe(ctx, "withdraw", c, purpose, channel)
	}
	l, err := g.confirmLink(ctx, secret)
	if err != nil {
		return nil, err
	}
	c, err := g.linkContact(ctx, l.ContactID)
	if err != nil {
		return nil, err
	}
	return g.describe(ctx, "confirm", c, l.Purpose, l.Channel)
}

// confirmLink returns a usable confirmation link: known, unused, unexpired.
func (g *Gate) confirmLink(ctx context.Context, secret string) (*tresor.ConsentLinkRow, error) {
	if secret == "" || len(secret) > 100 {
		return nil, errLink
	}
	l, err := g.store.Read().ConsentLink(ctx, hashToken(secret))
	if tresor.ErrorCode(err) == tresor.ECLinkInvalid {
		return nil, errLink
	} else if err != nil {
		return nil, err
	}
	if l.UsedAt != nil || (l.ExpiresAt != nil && !g.now().Before(*l.ExpiresAt)) {
		return nil, errLink
	}
	return l, nil
}

// ConfirmConsent confirms a double opt-in, once; the confirming address is kept as proof.
func (g *Gate) ConfirmConsent(ctx context.Context, secret, ip string) (*tresor.ConsentLink, error) {
	l, err := g.confirmLink(ctx, secret)
	if err != nil {
		return nil, err
	}
	now := tresor.Truncate(g.now())
	e := &tresor.ConsentEvent{ID: newID(), ContactID: l.ContactID, Purpose: l.Purpose, Channel: l.Channel,
		Action: tresor.ConsentGrant, Method: tresor.MethodDoubleOptIn, TextHash: l.TextHash, IP: ipOf(ip), Actor: "link", At: now}
	err = g.store.Update(ctx, func(tx tresor.Tx) error {
		used, err := tx.UseConsentLink(ctx, l.Hash, now)
		if err != nil {
			return err
		}
		if !used {
			return errLink // used in the meantime
		}
		if l.Purpose == policy.AdvertisingConsentPurpose {
			// Asked before an objection to direct marketing, confirmed
			// after it: the objection stands (decisions_marketing.go).
			_, c, err := g.openContact(ctx, tx, l.ContactID)
			if err != nil {
				return err
			}
			if objected, err := marketingObjected(ctx, tx, c); err != nil {
				return err
			} else if objected {
				return errObjectionStands()
			}
		}
		return g.insertConsentEvent(ctx, tx, e, tresor.ConsentGranted)
	})
	if err != nil {
		return nil, err
	}
	c, err := g.linkContact(ctx, l.ContactID)
	if err != nil {
		return nil, err
	}
	return g.describe(ctx, "confirm", c, l.Purpose, l.Channel)
}

// WithdrawConsent withdraws consent with a withdrawal link, without sign-in.
func (g *Gate) WithdrawConsent(ctx context.Context, secret, ip string) (*tresor.ConsentLink, error) {
	id, purpose, channel, err := g.parseWithdraw(secret)
	if err != nil {
		return nil, err
	}
	c, err := g.linkContact(ctx, id)
	if err != nil {
		return nil, err
	}
	now := tresor.Truncate(g.now())
	st, err := g.consentState(ctx, g.store.Read(), c, purpose, channel, now)
	if err != nil {
		return nil, err
	}
	if st != tresor.ConsentWithdrawn {
		e := &tresor.ConsentEvent{ID: newID(), ContactID: id, Purpose: purpose, Channel: channel, Action: tresor.ConsentWithdraw,
			Method: tresor.MethodLink, TextHash: "", IP: ipOf(ip), Actor: "link", At: now}
		if err := g.store.Update(ctx, func(tx tresor.Tx) error { return g.insertConsentEvent(ctx, tx, e, tresor.ConsentWithdrawn) }); err != nil {
			return nil, err
		}
	}
	return g.describe(ctx, "withdraw", c, purpose, channel)
}

// ipOf keeps the address part of a client address.
func ipOf(addr string) string {
	if ap, err := netip.ParseAddrPort(addr); err == nil {
		return ap.Addr().String()
	}
	if ip, err := netip.ParseAddr(addr); err == nil {
		return ip.String()
	}
	return ""
}

// ---- objection and restriction

// Object records an objection to marketing (Art. 21(2)): the contact is
// marked, its identifiers go on the suppression list (which outlives
// erasure), and its consents to marketing are withdrawn.
func (g *Gate) Object(ctx context.Context, contactID string) (*tresor.Contact, error) {
	req, err := g.authorize(ctx, accessPurpose)
	if err != nil {
		return nil, err
	}
	var out *tresor.Contact
	err = g.store.Update(ctx, func(tx tresor.Tx) error {
		row, c, err := g.openContact(ctx, tx, contactID)
		if err != nil {
			return err
		}
		if c.RestrictedAt != nil && !req.pu.SeesRestricted {
			return policy.Refuse(policy.RRestricted)
		}
		if err := tx.Suppress(ctx, g.lookupKeys(&c.ContactDetails), suppressionScope, req.now); err != nil {
			return err
		}
		states, err := tx.ConsentStates(ctx, c.ID)
		if err != nil {
			return err
		}
		for _, st := range states {
			if st.Purpose == policy.AdvertisingConsentPurpose && st.State != tresor.ConsentWithdrawn {
				e := &tresor.ConsentEvent{ID: newID(), ContactID: c.ID, Purpose: st.Purpose, Channel: st.Channel,
					Action: tresor.ConsentWithdraw, Method: tresor.MethodObjection, Actor: req.actor.String(), At: req.now}
				if err := g.insertConsentEvent(ctx, tx, e, tresor.ConsentWithdrawn); err != nil {
					return err
				}
			}
		}
		if c.ObjectedAt == nil {
			c.ObjectedAt = &req.now
		}
		if out, err = g.rewriteContact(ctx, tx, c, row, req); err != nil {
			return err
		}
		return g.eventIn(ctx, tx, "contact.objected", contactID, "marketing")
	})
	if err != nil {
		return nil, err
	}
	return contacts.shown(req, out), nil
}

// Restrict restricts processing of a contact (Art. 18); only a purpose that
// sees restricted contacts may. Lifting needs a recorded reason: it is
// refused here, and done by LiftRestriction or a request's decision.
func (g *Gate) Restrict(ctx context.Context, contactID string, restricted bool) (*tresor.Contact, error) {
	req, err := g.authorize(ctx, accessPurpose)
	if err != nil {
		return nil, err
	}
	if !req.pu.SeesRestricted {
		return nil, policy.Refuse(policy.RRestricted)
	}
	if !restricted {
		return nil, errLiftNeedsReason()
	}
	var out *tresor.Contact
	err = g.store.Update(ctx, func(tx tresor.Tx) error {
		row, c, err := g.openContact(ctx, tx, contactID)
		if err != nil {
			return err
		}
		switch {
		case restricted && c.RestrictedAt == nil:
			c.RestrictedAt = &req.now
		case !restricted:
			c.RestrictedAt = nil
		}
		if out, err = g.rewriteContact(ctx, tx, c, row, req); err != nil {
			return err
		}
		action := "contact.restriction_lifted"
		if restricted {
			action = "contact.restricted"
		}
		return g.eventIn(ctx, tx, action, contactID, "")
	})
	if err != nil {
		return nil, err
	}
	return contacts.shown(req, out), nil
}

// rewriteContact stores a contact whose state (not its fields) changed.
func (g *Gate) rewriteContact(ctx context.Context, tx tresor.Tx, c *tresor.Contact, old *tresor.ContactRow, req *request) (*tresor.Contact, error) {
	prev := c.Version
	c.Version, c.UpdatedAt = prev+1, req.now
	row, err := contacts.toRow(ctx, tx, g, c, old)
	if err != nil {
		return nil, err
	}
	return c, tx.UpdateContact(ctx, row, prev)
}

func (g *Gate) purposeIDs() []string {
	ids := make([]string, len(g.policy.Purposes))
	for i, p := range g.policy.Purposes {
		ids[i] = p.ID
	}
	return ids
}

// insertConsentEvent appends to the ledger with the confirming address sealed
// under the contact's data key: erasing the person erases it too.
func (g *Gate) insertConsentEvent(ctx context.Context, tx tresor.Tx, e *tresor.ConsentEvent, state tresor.ConsentState) error {
	stored := *e
	if e.IP != "" {
		dk, err := g.contactKey(ctx, tx, e.ContactID)
		if err != nil {
			return err
		}
		defer dk.Destroy()
		stored.IP = sealValue(dk, "consent_event", e.ID, "ip", e.IP)
	}
	if err := tx.InsertConsentEvent(ctx, &stored, state); err != nil {
		return err
	}
	ae := g.entry(ctx, "consent."+string(e.Action), "contact", []string{e.ContactID}, nil, nil)
	ae.Detail = fmt.Sprintf("purpose=%s channel=%s method=%s event=%s", e.Purpose, e.Channel, e.Method, e.ID)
	return g.appendTx(ctx, tx, []*tresor.AuditEntry{ae})
}

// openConsentIPs opens the sealed addresses of a contact's consent events.
func (g *Gate) openConsentIPs(ctx context.Context, r tresor.Reader, contactID string, events []tresor.ConsentEvent) error {
	var dk *vault.DataKey
	for i := range events {
		if !strings.HasPrefix(events[i].IP, sealedPrefix) {
			continue
		}
		if dk == nil {
			var err error
			if dk, err = g.contactKey(ctx, r, contactID); err != nil {
				return err
			}
			defer dk.Destroy()
		}
		ip, err := openValue(dk, "consent_event", events[i].ID, "ip", events[i].IP)
		if err != nil {
			return err
		}
		events[i].IP = ip
	}
	return nil
}

// contactKey returns a contact's unwrapped data key.
func (g *Gate) contactKey(ctx context.Context, r tresor.Reader, contactID string) (*vault.DataKey, error) {
	w, err := r.DataKey(ctx, contactID)
	if err != nil {
		return nil, err
	}
	dk, err := g.unwrap(ctx, w)
	if err != nil {
		return nil, damaged("contact", contactID, err)
	}
	return dk, nil
}
