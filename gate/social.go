package gate

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"tresor"
	"tresor/policy"
)

var _ tresor.SocialService = (*Gate)(nil)

// ConnectorFactory builds the connector of a channel from its network and
// its (unsealed) credentials. The CLI registers the networks it knows; the
// gate never imports a network's package.
// A connector may log in when it is built (Bluesky does), so the gate keeps
// the connector of each channel while its credentials stay the same.
type ConnectorFactory func(ctx context.Context, network string, credentials []byte) (tresor.Connector, error)

// connCache holds the connectors of the channels in use.
type connCache struct {
	mu    sync.Mutex
	conns map[string]cachedConn // by channel id
}

type cachedConn struct {
	sum  [32]byte // of the credentials it was built from
	conn tresor.Connector
}

func (c *connCache) get(id string, sum [32]byte) tresor.Connector {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cc, ok := c.conns[id]; ok && cc.sum == sum {
		return cc.conn
	}
	return nil
}

func (c *connCache) put(id string, sum [32]byte, conn tresor.Connector) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conns == nil {
		c.conns = map[string]cachedConn{}
	}
	c.conns[id] = cachedConn{sum: sum, conn: conn}
}

func (c *connCache) drop(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.conns, id)
}

// WithConnectors sets how connectors are built.
func WithConnectors(f ConnectorFactory) Option { return func(g *Gate) { g.connectors = f } }

// CreateChannel adds a company account: the connector is built and asked
// for the account's handle (which proves the credentials), and the
// credentials are sealed under the channel's own data key.
func (g *Gate) CreateChannel(ctx context.Context, r tresor.SocialChannelRequest) (*tresor.SocialChannel, error) {
	req, err := g.authorize(ctx, accessConfigWrite)
	if err != nil {
		return nil, err
	}
	if err := r.Check(); err != nil {
		return nil, err
	}
	conn, err := g.connectorOf(ctx, r.Network, r.Credentials)
	if err != nil {
		return nil, err
	}
	account, err := conn.Account(ctx)
	if err != nil {
		return nil, connectorError(err)
	}
	ch := &tresor.SocialChannelRow{SocialChannel: tresor.SocialChannel{ID: newID(), Network: r.Network, Name: strings.TrimSpace(r.Name),
		Account: account, CreatedAt: req.now, UpdatedAt: req.now}}
	dk, w, err := g.newKey(ch.ID)
	if err != nil {
		return nil, err
	}
	defer dk.Destroy()
	ch.Credentials = dk.SealValue("channel", ch.ID, "credentials", r.Credentials)
	ch.Sealing = tresor.Sealing{Key: w, KeyIsNew: true}
	err = g.store.Update(ctx, func(tx tresor.Tx) error {
		if err := tx.InsertChannel(ctx, ch); err != nil {
			return err
		}
		return g.eventIn(ctx, tx, "channel.created", ch.ID, r.Network)
	})
	if err != nil {
		return nil, err
	}
	g.conns.put(ch.ID, sha256.Sum256(r.Credentials), conn)
	return &ch.SocialChannel, nil
}

// Channels lists the company's channels (never their credentials).
func (g *Gate) Channels(ctx context.Context) ([]tresor.SocialChannel, error) {
	if _, err := g.authorize(ctx, accessConfigRead); err != nil {
		return nil, err
	}
	rows, err := g.store.Read().Channels(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]tresor.SocialChannel, len(rows))
	for i, r := range rows {
		out[i] = r.SocialChannel
	}
	return out, nil
}

// DeleteChannel removes a channel and destroys its credentials' key.
func (g *Gate) DeleteChannel(ctx context.Context, id string) error {
	if _, err := g.authorize(ctx, accessConfigWrite); err != nil {
		return err
	}
	defer g.conns.drop(id)
	return g.store.Update(ctx, func(tx tresor.Tx) error {
		if err := tx.DeleteChannel(ctx, id); err != nil {
			return err
		}
		return g.eventIn(ctx, tx, "channel.deleted", id, "")
	})
}

// connectorOf builds a connector.
func (g *Gate) connectorOf(ctx context.Context, network string, creds []byte) (tresor.Connector, error) {
	if g.connectors == nil {
		return nil, tresor.Errorf(tresor.ECUnavailable, "This server has no connectors for social networks.")
	}
	c, err := g.connectors(ctx, network, creds)
	var ce *tresor.ErrConnector
	switch {
	case errors.As(err, &ce):
		return nil, connectorError(err)
	case err != nil:
		return nil, tresor.Errorf(tresor.ECValidation, "The credentials do not fit the %s connector: %s", network, err)
	}
	return c, nil
}

// channelConnector loads a channel and opens its credentials.
func (g *Gate) channelConnector(ctx context.Context, id string) (*tresor.SocialChannelRow, tresor.Connector, error) {
	ch, err := g.store.Read().Channel(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if ch.Key == nil {
		return nil, nil, damaged("channel", id, errors.New("its data key is gone"))
	}
	dk, err := g.unwrap(ctx, ch.Key)
	if err != nil {
		return nil, nil, damaged("channel", id, err)
	}
	defer dk.Destroy()
	creds, err := dk.OpenValue("channel", id, "credentials", ch.Credentials)
	if err != nil {
		return nil, nil, damaged("channel", id, err)
	}
	sum := sha256.Sum256(creds)
	if conn := g.conns.get(ch.ID, sum); conn != nil {
		return ch, conn, nil
	}
	conn, err := g.connectorOf(ctx, ch.Network, creds)
	if err != nil {
		return nil, nil, err
	}
	g.conns.put(ch.ID, sum, conn)
	return ch, conn, nil
}

// connectorError turns a network's failure into an answer that says why
// and leaves the channel usable.
func connectorError(err error) error {
	var ce *tresor.ErrConnector
	if errors.As(err, &ce) && errors.Is(err, tresor.ErrNotSupported) {
		return &tresor.Error{Code: tresor.ECValidation, Message: fmt.Sprintf("%s: %s", ce.Network, ce.Err), Err: err}
	}
	if errors.As(err, &ce) {
		return &tresor.Error{Code: tresor.ECUnavailable, Message: fmt.Sprintf("%s did not answer as expected (%s); try again later.", ce.Network, ce.Op), Err: err}
	}
	return err
}

// SchedulePost publishes a post of the company now, or stores it to be
// published at PublishAt. A post that names people (@handle) is refused:
// writing to a person goes through SendSocial and the outbound gate.
func (g *Gate) SchedulePost(ctx context.Context, p *tresor.Post) (*tresor.Post, error) {
	req, err := g.authorize(ctx, accessPurpose)
	if err != nil {
		return nil, err
	}
	if req.pu.Outbound != policy.OutboundAdvertising {
		return nil, policy.Refuse(policy.RPublishing, req.pu.ID)
	}
	text := strings.TrimSpace(p.Text)
	var probs tresor.Problems
	if text == "" || utf8.RuneCountInString(text) > 5000 {
		probs.Add("text", "write up to 5,000 characters")
	}
	if mentionsSomeone(text) {
		probs.Add("text", "names a person (@…): write to people with a message, which checks their consent")
	}
	if err := probs.Err("post"); err != nil {
		return nil, err
	}
	if _, err := g.store.Read().Channel(ctx, p.ChannelID); err != nil {
		return nil, err
	}
	post := &tresor.Post{ID: newID(), ChannelID: p.ChannelID, Text: text, PublishAt: tresor.Truncate(p.PublishAt), CreatedBy: req.actor.String(),
		CreatedAt: req.now, Key: newPostKey(req.now)}
	if post.PublishAt.Before(req.now) {
		post.PublishAt = req.now
	}
	err = g.store.Update(ctx, func(tx tresor.Tx) error {
		if err := tx.InsertPost(ctx, post); err != nil {
			return err
		}
		return g.eventIn(ctx, tx, "post.scheduled", post.ID, "channel="+post.ChannelID)
	})
	if err != nil {
		return nil, err
	}
	if !post.PublishAt.After(req.now) {
		g.publish(ctx, post)
	}
	return post, nil
}

// mentionsSomeone reports whether a text names an account: "@name" after a
// space or at the start (an e-mail address is not a mention).
func mentionsSomeone(text string) bool {
	for i := 0; i < len(text); i++ {
		if text[i] == '@' && (i == 0 || text[i-1] == ' ' || text[i-1] == '\n') && i+1 < len(text) && text[i+1] != ' ' {
			return true
		}
	}
	return false
}

// maxPublishAttempts bounds the attempts without an answer: after the
// last, a post that is still not found on the network is recorded failed.
const maxPublishAttempts = 5

// publish sends one post to its network and stores the outcome. The post's
// key is stored before the first attempt, so that a retry names the same
// post. An attempt without an answer (ErrOutcomeUnknown) leaves the post
// unconfirmed: the next run first looks for it on the network and records
// it published if it is there, else sends it again with the same key. A
// refusal of the network is final.
func (g *Gate) publish(ctx context.Context, p *tresor.Post) {
	_, conn, err := g.channelConnector(ctx, p.ChannelID)
	if err != nil {
		p.Error = publicText(connectorError(err))
		g.storePost(ctx, p, "post.failed")
		return
	}
	req := tresor.PublishRequest{Key: p.Key, Text: p.Text}
	if p.AttemptedAt != nil {
		req.Since = *p.AttemptedAt
	}
	var sp *tresor.SocialPost
	if p.Unconfirmed != "" {
		sp, err = conn.Published(ctx, req)
		if err != nil {
			// Still not known whether it went out: do not send it again
			// blindly. The state stays the same, so no new audit event.
			p.Unconfirmed = publicText(connectorError(err))
			g.storePost(ctx, p, "")
			return
		}
	}
	if sp == nil {
		if p.Key == "" { // a post scheduled before keys were kept
			p.Key = newPostKey(g.now())
			req.Key = p.Key
		}
		at := tresor.Truncate(g.now())
		if p.AttemptedAt == nil {
			p.AttemptedAt, req.Since = &at, at
		}
		p.Attempts++
		if !g.storePost(ctx, p, "") {
			return // without the key stored, a retry could post twice
		}
		sp, err = conn.Publish(ctx, req)
	}
	switch {
	case err == nil:
		at := tresor.Truncate(g.now())
		p.PublishedAt, p.RemoteID, p.URL, p.Unconfirmed = &at, sp.ID, sp.URL, ""
		g.storePost(ctx, p, "post.published")
	case errors.Is(err, tresor.ErrOutcomeUnknown) && p.Attempts < maxPublishAttempts:
		p.Unconfirmed = publicText(connectorError(err))
		g.storePost(ctx, p, "post.unconfirmed")
	case errors.Is(err, tresor.ErrOutcomeUnknown):
		p.Unconfirmed = ""
		p.Error = fmt.Sprintf("No answer after %d attempts; check the account whether the post is there (%s).", p.Attempts,
			publicText(connectorError(err)))
		g.storePost(ctx, p, "post.failed")
	default:
		p.Unconfirmed = ""
		p.Error = publicText(connectorError(err))
		g.storePost(ctx, p, "post.failed")
	}
}

// storePost stores where a post stands, with the audit event (none for an
// attempt about to begin), and reports whether that worked.
func (g *Gate) storePost(ctx context.Context, p *tresor.Post, event string) bool {
	ctx = context.WithoutCancel(ctx) // the outcome is stored even when the caller gave up
	err := g.store.Update(ctx, func(tx tresor.Tx) error {
		if err := tx.PostDone(ctx, p); err != nil {
			return err
		}
		if event == "" {
			return nil
		}
		return g.eventIn(ctx, tx, event, p.ID, "channel="+p.ChannelID)
	})
	if err != nil {
		g.log.Error("store a post's state", "post", p.ID, "error", err)
		return false
	}
	return true
}

// newPostKey returns a post's key; its clock bits are random, so that two
// servers sharing a database do not make the same key.
func newPostKey(now time.Time) string {
	var b [2]byte
	_, _ = rand.Read(b[:])
	return tresor.NewPostKey(now, binary.BigEndian.Uint16(b[:]))
}

// PublishDue publishes the scheduled posts whose time has come.
func (g *Gate) PublishDue(ctx context.Context) (int, error) {
	posts, err := g.store.Read().Posts(ctx, tresor.PostQuery{DueBefore: g.now(), Page: tresor.Page{Limit: 100}})
	if err != nil {
		return 0, err
	}
	for _, p := range posts {
		g.publish(ctx, p)
	}
	return len(posts), nil
}

// Posts lists the posts of the company.
func (g *Gate) Posts(ctx context.Context, q tresor.PostQuery) (*tresor.List[*tresor.Post], error) {
	if _, err := g.authorize(ctx, accessConfigRead); err != nil {
		return nil, err
	}
	if err := q.Page.Normalize(); err != nil {
		return nil, err
	}
	limit := q.Limit
	q.Limit++
	rows, err := g.store.Read().Posts(ctx, q)
	if err != nil {
		return nil, err
	}
	out := &tresor.List[*tresor.Post]{Items: nonNil(rows)}
	if len(rows) > limit {
		out.Items = rows[:limit]
		out.Next = tresor.EncodeCursor(rows[limit-1].ID)
	}
	return out, nil
}

// SendSocial writes to one person on a channel. The outbound gate decides
// first: advertising needs the person's consent for exactly this network's
// direct messages or mentions (§7 UWG, as for e-mail); a reply in a
// conversation the person started on the network needs none. The message
// becomes an interaction with the person, and is audited.
func (g *Gate) SendSocial(ctx context.Context, s tresor.SocialSend) (*tresor.ReachDecision, error) {
	req, err := g.authorize(ctx, accessPurpose)
	if err != nil {
		return nil, err
	}
	text := strings.TrimSpace(s.Text)
	if text == "" || utf8.RuneCountInString(text) > 5000 {
		return nil, fieldError("message", "text", "write up to 5,000 characters")
	}
	ch, conn, err := g.channelConnector(ctx, s.ChannelID)
	if err != nil {
		return nil, err
	}
	c, err := g.contactFor(ctx, g.store.Read(), req, s.ContactID)
	if err != nil {
		return nil, err
	}
	prefix := tresor.SocialMention
	if s.Direct {
		prefix = tresor.SocialDM
	}
	channel := tresor.ConsentChannel(prefix + ch.Network)
	d, err := g.reach(ctx, req, c, channel, s.Advertising)
	if err != nil {
		return nil, err
	}
	e := g.entry(ctx, "contact.social_send", "contact", []string{c.ID}, nil, nil)
	e.Detail = fmt.Sprintf("channel=%s %s advertising=%v", ch.ID, channel, s.Advertising)
	// What is sent is recorded as an interaction: text typed by hand that
	// reveals a special category is refused before it goes out (Art. 9).
	if err := screenTyped(req, &tresor.Collection{}, typed{field: "text", text: text}); err != nil {
		e.Decision, e.Reason = tresor.Refused, string(tresor.ECSpecialCategory)
		g.recordBestEffort(ctx, e)
		return nil, err
	}
	if !d.Allowed {
		e.Decision, e.Reason = tresor.Refused, d.Reasons[0].Code
		g.recordBestEffort(ctx, e)
		r := d.Reasons[0]
		return &d, &tresor.Error{Code: tresor.ECForbidden, Message: r.Message, MessageDE: r.MessageDE}
	}
	to := ""
	for _, h := range c.SocialHandles {
		if h.Network == ch.Network {
			to = strings.TrimSpace(h.Handle)
			break
		}
	}
	if to == "" {
		r := policy.Explain(policy.RNoAddress, ch.Network)
		return nil, &tresor.Error{Code: tresor.ECConflict, Message: r.Message, MessageDE: r.MessageDE}
	}
	if err := g.noticesAtFirstContact(ctx, req, c); err != nil {
		return nil, err
	}
	sp, err := conn.Send(ctx, to, text, s.Direct, s.InReplyTo)
	if err != nil {
		return nil, connectorError(err)
	}
	in := &tresor.Interaction{Kind: tresor.KindSocialMessage, Direction: tresor.DirectionOutbound, Network: ch.Network, ContactID: c.ID,
		InteractionContent: tresor.InteractionContent{Body: text, Subject: sp.URL},
		Collection:         tresor.Collection{LegalBasis: g.basisFor(req.pu), BalancingNote: balancingSocial, Source: tresor.SourceConnector, Network: ch.Network}}
	if err := g.CreateInteraction(ctx, in); err != nil && tresor.ErrorCode(err) != tresor.ECCategoryNotAllowed {
		g.log.Error("record a sent social message", "error", err)
	}
	g.recordBestEffort(ctx, e)
	return &d, nil
}

// balancingSocial is the balancing note of messages exchanged with people on
// the company's channels.
const balancingSocial = "Messages people exchange with the company's own account; kept to answer them and for the customer relation; they chose the channel."

// basisFor picks the legal basis a purpose stores social messages on.
func (g *Gate) basisFor(pu *policy.Purpose) tresor.LegalBasis {
	for _, b := range []tresor.LegalBasis{tresor.BasisLegitimateInterest, tresor.BasisContract, tresor.BasisConsent} {
		for _, a := range pu.LegalBases {
			if a == b {
				return b
			}
		}
	}
	return tresor.BasisLegitimateInterest
}

// PollInbox reads a channel's mentions and direct messages since the last
// time. A message from a known contact (matched by the blind index of the
// handle) becomes an interaction — a direct message a service case —;
// one from someone unknown an unlinked case: never a new contact. Text that
// reveals a special category (Art. 9) is not stored. It runs under the
// service purpose.
func (g *Gate) PollInbox(ctx context.Context, channelID string) (*tresor.InboxReport, error) {
	req, err := g.authorize(ctx, accessPurpose)
	if err != nil {
		return nil, err
	}
	if req.pu.Outbound != policy.OutboundReply {
		return nil, policy.Refuse(policy.RServiceOnly, req.pu.ID)
	}
	ch, conn, err := g.channelConnector(ctx, channelID)
	if err != nil {
		return nil, err
	}
	posts, cursor, err := conn.Inbox(ctx, ch.InboxCursor)
	if err != nil {
		g.setChannelState(ctx, ch, ch.InboxCursor, publicText(connectorError(err)))
		return nil, connectorError(err)
	}
	rep := &tresor.InboxReport{Dropped: map[string]int{}}
	for _, p := range posts {
		rep.Read++
		if err := g.takeIn(ctx, req, ch, p, rep); err != nil {
			g.setChannelState(ctx, ch, ch.InboxCursor, publicText(err))
			return rep, err
		}
		ch.InboxCursor = p.ID
	}
	g.setChannelState(ctx, ch, cursor, "")
	return rep, nil
}

func (g *Gate) setChannelState(ctx context.Context, ch *tresor.SocialChannelRow, cursor, lastErr string) {
	if err := g.store.Update(context.WithoutCancel(ctx), func(tx tresor.Tx) error {
		return tx.SetChannelState(ctx, ch.ID, cursor, lastErr, tresor.Truncate(g.now()))
	}); err != nil {
		g.log.Error("store a channel's state", "channel", ch.ID, "error", err)
	}
}

// takeIn stores one message of the inbox.
func (g *Gate) takeIn(ctx context.Context, req *request, ch *tresor.SocialChannelRow, p tresor.SocialPost, rep *tresor.InboxReport) error {
	// Only what is public, or what the person sent to the company account.
	if p.Visibility != tresor.PostPublic && p.Visibility != tresor.PostUnlisted && !p.ToCompany {
		rep.Dropped["not_public"]++
		return nil
	}
	text := p.Text
	if cat, ok := policy.SpecialCategory(text); ok {
		rep.Dropped["special:"+string(cat)]++
		text = "" // the message is recorded, its content is not
	}
	coll := tresor.Collection{LegalBasis: g.basisFor(req.pu), BalancingNote: balancingSocial, Source: tresor.SourceConnector, Network: ch.Network}
	if p.Visibility == tresor.PostPublic || p.Visibility == tresor.PostUnlisted {
		coll.Visibility = tresor.VisibilityPublic
	}
	contactID := ""
	key := g.blind(tresor.LookupKey{Kind: tresor.HandleKind(ch.Network), Value: tresor.NormalizeHandle(tresor.SocialHandle{Network: ch.Network, Handle: p.Author})})
	if known, err := g.store.Read().LookupContacts(ctx, []tresor.LookupKey{key}); err != nil {
		return err
	} else if id, ok := known[key]; ok {
		contactID = id
	}
	// A restricted person's message is not taken in for a purpose that may
	// not see them (Art. 18): the data-protection officer answers them.
	if !req.pu.SeesRestricted {
		if err := personUnrestricted(ctx, g.store.Read(), contactID); tresor.ErrorCode(err) == tresor.ECRestricted {
			rep.Dropped["restricted"]++
			return nil
		} else if err != nil {
			return err
		}
	}
	sctx := tresor.WithPurpose(ctx, req.pu.ID)
	if contactID != "" && p.Visibility != tresor.PostDirect {
		in := &tresor.Interaction{Kind: tresor.KindSocialMessage, Direction: tresor.DirectionInbound, Network: ch.Network, ContactID: contactID,
			OccurredAt: p.CreatedAt, InteractionContent: tresor.InteractionContent{Subject: p.URL, Body: text}, Collection: coll}
		if err := g.CreateInteraction(sctx, in); err != nil {
			return err
		}
		rep.Interactions++
		return nil
	}
	what := "Erwähnung"
	if p.Visibility == tresor.PostDirect {
		what = "Direktnachricht"
	}
	k := &tresor.Case{Channel: tresor.ChannelSocial, Network: ch.Network, ContactID: contactID,
		CaseContent: tresor.CaseContent{Subject: fmt.Sprintf("%s über %s (%s)", what, ch.Network, p.URL), Description: text, Sender: p.Author},
		Collection:  coll}
	if err := g.CreateCase(sctx, k); err != nil {
		return err
	}
	rep.Cases++
	return nil
}

// LinkCaseSender links a case that a message from an unknown sender on a
// social network opened to an existing contact, after an agent recognised
// the person: the case becomes the contact's (sealed under their key from
// now on) and the sender's handle joins the contact's handles, so that a
// reply reaches them and their next messages find them. Tresor never
// creates a contact for a sender itself. Only a purpose that answers people
// (service) links; the contact must be one it may see and change: a
// restricted (Art. 18) or archived person is refused, as on every write.
// Both changes are audited.
func (g *Gate) LinkCaseSender(ctx context.Context, id, contactID string, ifVersion int64) (*tresor.Case, error) {
	req, err := g.authorize(ctx, accessPurpose)
	if err != nil {
		return nil, err
	}
	if req.pu.Outbound != policy.OutboundReply {
		return nil, policy.Refuse(policy.RServiceOnly, req.pu.ID)
	}
	k, err := g.Case(ctx, id)
	if err != nil {
		return nil, err
	}
	switch {
	case k.Version != ifVersion:
		return nil, tresor.Errorf(tresor.ECVersionMismatch, "The case was changed by someone else in the meantime; read it again and repeat your change.")
	case k.Channel != tresor.ChannelSocial || strings.TrimSpace(k.Sender) == "":
		return nil, fieldError("case", "contact_id", "only a case from a social network with a sender's handle is linked to a contact")
	case k.ContactID != "":
		return nil, &tresor.Error{Code: tresor.ECConflict, Message: "This case belongs to a contact already.",
			MessageDE: "Dieser Fall gehört bereits zu einem Kontakt."}
	}
	r := g.store.Read()
	c, err := g.contactFor(ctx, r, req, contactID)
	if err != nil {
		return nil, err
	}
	if err := contactWritable(ctx, r, req, c.ID); err != nil {
		return nil, err
	}
	patch, err := json.Marshal(map[string]any{"contact_id": c.ID})
	if err != nil {
		return nil, err
	}
	linked, err := g.UpdateCase(ctx, id, tresor.Update{Patch: patch, IfVersion: ifVersion})
	if err != nil {
		return nil, err
	}
	key := tresor.NormalizeHandle(tresor.SocialHandle{Network: k.Network, Handle: k.Sender})
	known := false
	for _, h := range c.SocialHandles {
		if h.Network == k.Network && tresor.NormalizeHandle(h) == key {
			known = true
		}
	}
	if !known {
		handles := append(slices.Clone(c.SocialHandles), tresor.SocialHandle{Network: k.Network, Handle: k.Sender})
		patch, err := json.Marshal(map[string]any{"social_handles": handles})
		if err != nil {
			return nil, err
		}
		if _, err := g.UpdateContact(ctx, c.ID, tresor.Update{Patch: patch, IfVersion: c.Version}); err != nil {
			return linked, err
		}
	}
	e := g.entry(ctx, "case.sender_linked", "case", []string{id, c.ID}, []tresor.Category{tresor.CatSocialHandle}, nil)
	e.Detail = fmt.Sprintf("network=%s handle_added=%v", k.Network, !known)
	if err := g.record(ctx, e); err != nil {
		return nil, err
	}
	return linked, nil
}

// SocialProfile reads a public profile through a channel, screened like an
// import: fields that reveal a special category are removed (and named in
// the second result by reason only). Nothing is stored.
func (g *Gate) SocialProfile(ctx context.Context, channelID, handle string) (*tresor.SocialProfile, []string, error) {
	req, err := g.authorize(ctx, accessPurpose)
	if err != nil {
		return nil, nil, err
	}
	if !req.pu.Allows(tresor.CatSocialProfile) {
		return nil, nil, req.pu.RefuseCategory(tresor.CatSocialProfile)
	}
	_, conn, err := g.channelConnector(ctx, channelID)
	if err != nil {
		return nil, nil, err
	}
	p, err := conn.Profile(ctx, handle)
	if err != nil {
		return nil, nil, connectorError(err)
	}
	dropped := policy.ScreenProfile(p)
	// The entry names the profile by its keyed hash, never by the handle.
	key := g.blind(tresor.LookupKey{Kind: tresor.HandleKind(p.Network), Value: tresor.NormalizeHandle(tresor.SocialHandle{Network: p.Network, Handle: p.Handle})})
	e := g.entry(ctx, "social.profile_read", "social_profile", []string{key.Value}, []tresor.Category{tresor.CatSocialProfile}, nil)
	if err := g.record(ctx, e); err != nil {
		return nil, nil, err
	}
	return p, dropped, nil
}

// publicText is an error's message fit to store and show: a Tresor error's
// own message, a fixed text for anything else.
func publicText(err error) string {
	if e := tresor.AsError(err); e != nil && e.Code != tresor.ECInternal {
		return e.Message
	}
	return "an internal error; see the server log"
}
