package gate

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"
	"unicode/utf8"

	"tresor"
	"tresor/policy"
)

var (
	_ tresor.RequestIntake          = (*Gate)(nil)
	_ tresor.RequestIdentityService = (*Gate)(nil)
)

// Requests from the public (issue [2.4] §1): a person without an account
// sends a request with the web form; a mail with a signed link goes to the
// address given; using the link (a POST from its page, never the GET a mail
// scanner makes) verifies the address and matches the request to stored
// contacts by blind index. An attacker learns nothing from it: the form
// never looks anyone up, so its answer and its timing are the same for
// every address; the matches are shown only to the DPO; the requester sees
// the same page whatever was found. Flooding is limited per client and per
// address, counted under keyed hashes (no address or IP is stored in clear).

// Limits of the public form.
const (
	requestVerifyDays  = 7    // a verification link works for a week
	requestMessageMax  = 2000 // characters of the optional message
	requestPerClient   = 5    // requests per client network per window
	requestPerAddress  = 3    // requests per e-mail address per window
	requestLimitWindow = time.Hour
	// requesterActor names the person who asked in the history and the
	// audit trail: they act without an account.
	requesterActor = "requester"
	publicActor    = "public:web_form"
	dpPurpose      = "data_protection"
)

// publicEntry is an audit entry of the public form or link: the actor is
// the requester, not a user; the purpose is the register's.
func (g *Gate) publicEntry(ctx context.Context, actor, action string, ids []string, err error) *tresor.AuditEntry {
	e := g.entry(ctx, action, "request", ids, nil, err)
	e.Actor, e.Roles, e.Purpose = actor, "", dpPurpose
	return e
}

// requestLimitKeys are the keys the form's rate limit counts under: the
// client network (an IPv6 address by its /64) and the keyed hash of the
// address. They share the table of sign-in failures under their own prefix.
func (g *Gate) requestLimitKeys(email, client string) []string {
	_, network := throttleKeys("", client)
	to := g.blind(tresor.LookupKey{Kind: "request-limit", Value: email}).Value
	return []string{"request." + network, "request.to:" + to}
}

// checkRequestLimit refuses a submission while the client or the address
// has sent its share: the count restarts after a window without requests,
// so a steady trickle stays limited too.
func (g *Gate) checkRequestLimit(ctx context.Context, keys []string, now time.Time) error {
	var wait time.Duration
	for i, k := range keys {
		limit := requestPerClient
		if i == 1 {
			limit = requestPerAddress
		}
		n, last, err := g.store.Read().LoginFailures(ctx, k)
		if err != nil {
			return err
		}
		if n >= limit && now.Sub(last) < requestLimitWindow {
			wait = max(wait, last.Add(requestLimitWindow).Sub(now))
		}
	}
	if wait == 0 {
		return nil
	}
	return &tresor.Error{Code: tresor.ECThrottled, RetryAfter: wait,
		Message:   fmt.Sprintf("Too many requests were sent from here or for this address. Try again in %s, or write to the data-protection officer directly.", humanDuration(wait)),
		MessageDE: fmt.Sprintf("Von hier oder für diese Adresse wurden zu viele Anträge gesendet. Versuchen Sie es in %s wieder oder schreiben Sie direkt an den Datenschutz.", humanDurationDE(wait))}
}

func humanDurationDE(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%d Sekunden", max(1, int(d.Seconds()+0.999)))
	}
	return fmt.Sprintf("%d Minuten", int(d.Minutes()+0.999))
}

// SubmitRequest records a request from the public form: channel web_form,
// received today, state received, due in a month; and mails the address
// the link that verifies it. The audit trail records request.submit by the
// public form. Whether the address belongs to a contact is not looked at.
func (g *Gate) SubmitRequest(ctx context.Context, s tresor.RequestSubmission) (*tresor.RequestReceipt, error) {
	now := tresor.Truncate(g.now())
	var p tresor.Problems
	if !slices.Contains(tresor.RequestKinds(), s.Kind) {
		p.Add("kind", "choose the right you exercise")
	}
	email, err := tresor.NormalizeEmail(s.Email)
	if err != nil {
		p.Add("email", "give the e-mail address we may write to: %s", err)
	}
	message := strings.TrimSpace(s.Message)
	if utf8.RuneCountInString(message) > requestMessageMax {
		p.Add("message", "may have up to %d characters", requestMessageMax)
	}
	lang := s.Language
	if lang != "en" {
		lang = "de"
	}
	if err := p.Err("request"); err != nil {
		return nil, err
	}
	if _, ok := policy.SpecialCategory(message); ok {
		err := &tresor.Error{Code: tresor.ECSpecialCategory,
			Message:   "Your message seems to tell about your health, beliefs, political or union views, origin or sex life: special categories of personal data (Art. 9 GDPR). We do not need them to handle your request, so we do not store them: leave them out and send the request again. Nothing was saved.",
			MessageDE: "Ihre Nachricht scheint etwas über Ihre Gesundheit, Weltanschauung, politische oder gewerkschaftliche Haltung, Herkunft oder Ihr Sexualleben zu sagen: besondere Kategorien personenbezogener Daten (Art. 9 DSGVO). Für Ihren Antrag brauchen wir sie nicht und speichern sie daher nicht: Lassen Sie sie weg und senden Sie den Antrag erneut. Es wurde nichts gespeichert."}
		g.recordBestEffort(ctx, g.publicEntry(ctx, publicActor, "request.submit", nil, err))
		return nil, err
	}
	keys := g.requestLimitKeys(email, s.Client)
	if err := g.checkRequestLimit(ctx, keys, now); err != nil {
		g.recordBestEffort(ctx, g.publicEntry(ctx, publicActor, "request.submit", nil, err))
		return nil, err
	}
	if g.mailer == nil {
		return nil, tresor.Errorf(tresor.ECUnavailable, "Requests cannot be taken on this site now: no mail server is configured to confirm the address. Write to the data-protection officer directly.")
	}
	today := tresor.Date(now.Format(time.DateOnly))
	r := &tresor.Request{Kind: s.Kind, Channel: tresor.ArrivedByWebForm, ReceivedAt: today, State: tresor.RequestReceived,
		Due: tresor.RequestDue(today)}
	r.Address, r.Message, r.Language = email, message, lang
	r.ID, r.CreatedAt, r.UpdatedAt, r.Version = newID(), now, now, 1
	r.History = []tresor.RequestEvent{{At: now, State: tresor.RequestReceived, By: requesterActor}}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	var entry *tresor.AuditEntry
	var mailID string
	err = g.store.Update(ctx, func(tx tresor.Tx) error {
		for _, k := range keys {
			if err := tx.AddLoginFailure(ctx, k, now, now.Add(-requestLimitWindow)); err != nil {
				return err
			}
		}
		row, err := g.requestToRow(ctx, tx, r, nil)
		if err != nil {
			return err
		}
		if err := tx.InsertDataRequest(ctx, row); err != nil {
			return err
		}
		// The link to confirm the address is queued with the request (under
		// its own key: the address belongs to no contact yet) and sent when
		// the mail server takes it.
		if mailID, err = g.queueMail(ctx, tx, mailRequestVerification, "", g.verificationMail(r, now)); err != nil {
			return err
		}
		entry = g.publicEntry(ctx, publicActor, "request.submit", []string{r.ID}, nil)
		return g.appendTx(ctx, tx, []*tresor.AuditEntry{entry})
	})
	if err != nil {
		return nil, err
	}
	g.committed([]*tresor.AuditEntry{entry})
	g.sendQueued(ctx, mailID)
	return &tresor.RequestReceipt{Kind: r.Kind, Due: r.Due, Language: lang}, nil
}

// verifySecret makes the link that verifies the address of a request:
// signed with the link key, valid until expires. It needs no storage; it
// works once because it works only while the request is received.
func (g *Gate) verifySecret(id string, expires time.Time) string {
	payload := base64.RawURLEncoding.EncodeToString([]byte(id + "|" + strconv.FormatInt(expires.Unix(), 10)))
	return "r1." + payload + "." + base64.RawURLEncoding.EncodeToString(g.verifyMAC(payload))
}

func (g *Gate) verifyMAC(payload string) []byte {
	m := hmac.New(sha256.New, g.keys.Links)
	m.Write([]byte("request-verify|" + payload))
	return m.Sum(nil)[:20]
}

// parseVerify checks a verification secret's signature and expiry and
// returns the request's id.
func (g *Gate) parseVerify(secret string) (string, error) {
	parts := strings.Split(secret, ".")
	if len(secret) > 200 || len(parts) != 3 || parts[0] != "r1" {
		return "", errLink
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, g.verifyMAC(parts[1])) {
		return "", errLink
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	id, exp, ok := strings.Cut(string(raw), "|")
	if err != nil || !ok {
		return "", errLink
	}
	unix, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || !g.now().Before(time.Unix(unix, 0)) {
		return "", errLink
	}
	return id, nil
}

// verifiableRequest returns the request of a link if it still awaits
// verification; anything else is one and the same invalid link.
func (g *Gate) verifiableRequest(ctx context.Context, r tresor.RequestReader, secret string) (*tresor.RequestRow, *tresor.Request, error) {
	id, err := g.parseVerify(secret)
	if err != nil {
		return nil, nil, err
	}
	row, err := r.DataRequest(ctx, id)
	if tresor.ErrorCode(err) == tresor.ECNotFound {
		return nil, nil, errLink
	} else if err != nil {
		return nil, nil, err
	}
	req, err := g.requestFromRow(ctx, row)
	if err != nil {
		return nil, nil, err
	}
	if req.State != tresor.RequestReceived {
		return nil, nil, errLink // used already, or settled by the DPO
	}
	return row, req, nil
}

// RequestVerification checks a verification link without using it.
func (g *Gate) RequestVerification(ctx context.Context, secret string) (*tresor.RequestReceipt, error) {
	_, r, err := g.verifiableRequest(ctx, g.store.Read(), secret)
	if err != nil {
		return nil, err
	}
	return &tresor.RequestReceipt{Kind: r.Kind, Due: r.Due, Language: r.Language}, nil
}

// VerifyRequest uses a verification link, once: the request becomes
// identity_verified (by the requester) and keeps the contacts whose
// identifiers match its address as candidates for the DPO. The answer is
// the same whatever matched. The audit trail records request.verify.
func (g *Gate) VerifyRequest(ctx context.Context, secret, client string) (*tresor.RequestReceipt, error) {
	if _, _, err := g.verifiableRequest(ctx, g.store.Read(), secret); err != nil {
		return nil, err
	}
	now := tresor.Truncate(g.now())
	var out *tresor.Request
	var entry *tresor.AuditEntry
	err := g.store.Update(ctx, func(tx tresor.Tx) error {
		row, r, err := g.verifiableRequest(ctx, tx, secret)
		if err != nil {
			return err
		}
		if r.Candidates, err = g.requestCandidates(ctx, r.Address); err != nil {
			return err
		}
		prev := r.Version
		r.State, r.Reason = tresor.RequestIdentityVerified, ""
		r.History = append(r.History, tresor.RequestEvent{At: now, State: tresor.RequestIdentityVerified, By: requesterActor})
		r.UpdatedAt, r.Version = now, prev+1
		if err := r.Validate(); err != nil {
			return err
		}
		newRow, err := g.requestToRow(ctx, tx, r, row)
		if err != nil {
			return err
		}
		if err := tx.UpdateDataRequest(ctx, newRow, prev); err != nil {
			if tresor.ErrorCode(err) == tresor.ECConflict {
				return errLink // verified in the meantime
			}
			return err
		}
		out = r
		entry = g.publicEntry(ctx, requesterActor, "request.verify", []string{r.ID}, nil)
		return g.appendTx(ctx, tx, []*tresor.AuditEntry{entry})
	})
	if err != nil {
		if tresor.ErrorCode(err) == tresor.ECLinkInvalid {
			g.recordBestEffort(ctx, g.publicEntry(ctx, requesterActor, "request.verify", nil, err))
		}
		return nil, err
	}
	g.committed([]*tresor.AuditEntry{entry})
	return &tresor.RequestReceipt{Kind: out.Kind, Due: out.Due, Language: out.Language}, nil
}

// requestCandidates finds the contacts whose e-mail address, phone number
// or handle ("network:handle") is the request's address, by blind index.
func (g *Gate) requestCandidates(ctx context.Context, address string) ([]string, error) {
	address = strings.TrimSpace(address)
	var keys []tresor.LookupKey
	if e, err := tresor.NormalizeEmail(address); err == nil {
		keys = append(keys, tresor.LookupKey{Kind: tresor.LookupEmail, Value: e})
	} else if ph, err := tresor.NormalizePhone(address); err == nil {
		keys = append(keys, tresor.LookupKey{Kind: tresor.LookupPhone, Value: ph})
	} else if network, handle, ok := strings.Cut(address, ":"); ok && network != "" && handle != "" && !strings.ContainsAny(network, " @/") {
		h := tresor.SocialHandle{Network: strings.ToLower(network), Handle: handle}
		keys = append(keys, tresor.LookupKey{Kind: tresor.HandleKind(h.Network), Value: tresor.NormalizeHandle(h)})
	}
	var out []string
	for _, k := range keys {
		ids, err := g.store.Read().LookupContactIDs(ctx, g.blind(k))
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			if !slices.Contains(out, id) {
				out = append(out, id)
			}
		}
	}
	return out, nil
}

// SendRequestVerification mails the verification link to the address of a
// received request; the audit trail records request.verification.
func (g *Gate) SendRequestVerification(ctx context.Context, id string) (*tresor.Request, error) {
	req, err := g.requestRegister(ctx, "request.verification")
	if err != nil {
		return nil, err
	}
	refuse := func(err error) (*tresor.Request, error) {
		g.recordBestEffort(ctx, g.entry(ctx, "request.verification", "request", []string{id}, nil, err))
		return nil, err
	}
	row, err := g.store.Read().DataRequest(ctx, id)
	if err != nil {
		return refuse(err)
	}
	r, err := g.requestFromRow(ctx, row)
	if err != nil {
		return refuse(err)
	}
	if r.State != tresor.RequestReceived {
		return refuse(tresor.Errorf(tresor.ECConflict, "The request is %s; a verification link is sent only while it is received.", r.State))
	}
	if _, err := tresor.NormalizeEmail(r.Address); err != nil {
		return refuse(tresor.Errorf(tresor.ECConflict, "The request's address is no e-mail address, so no link can verify it: check the identity another way and move the request on by hand."))
	}
	if g.mailer == nil {
		return refuse(tresor.Errorf(tresor.ECUnavailable, "No mail server is configured, so no verification link can be sent (TRESOR_SMTP_ADDR)."))
	}
	// The history records the link: the period in which an unverified
	// request stays open counts from it (requests_unverified.go).
	var out *tresor.Request
	var mailID string
	entry := g.entry(ctx, "request.verification", "request", []string{id}, nil, nil)
	err = g.store.Update(ctx, func(tx tresor.Tx) error {
		row, err := tx.DataRequest(ctx, id)
		if err != nil {
			return err
		}
		if out, err = g.requestFromRow(ctx, row); err != nil {
			return err
		}
		prev := out.Version
		out.History = append(out.History, tresor.RequestEvent{At: req.now, State: out.State, By: req.ownerID(),
			Action: tresor.ActionVerificationSent, Reason: fmt.Sprintf("A new verification link was mailed; it works for %d days.", requestVerifyDays)})
		out.UpdatedAt, out.Version = req.now, prev+1
		newRow, err := g.requestToRow(ctx, tx, out, row)
		if err != nil {
			return err
		}
		if err := tx.UpdateDataRequest(ctx, newRow, prev); err != nil {
			return err
		}
		if mailID, err = g.queueMail(ctx, tx, mailRequestVerification, "", g.verificationMail(out, req.now)); err != nil {
			return err
		}
		return g.appendTx(ctx, tx, []*tresor.AuditEntry{entry})
	})
	if err != nil {
		return nil, err
	}
	g.committed([]*tresor.AuditEntry{entry})
	out.Mail = g.sendQueued(ctx, mailID)
	return out, nil
}

// LinkRequestContact records that the request concerns the contact; the
// audit trail records request.link.
func (g *Gate) LinkRequestContact(ctx context.Context, id, contactID string) (*tresor.Request, error) {
	return g.changeRequest(ctx, "request.link", id, func(req *request, r *tresor.Request) error {
		if !tresor.ValidID(contactID) {
			return tresor.Errorf(tresor.ECInvalidReference, "contact_id: %q is not the id of a contact.", contactID)
		}
		if _, err := g.store.Read().Contact(ctx, contactID); tresor.ErrorCode(err) == tresor.ECNotFound {
			return tresor.Errorf(tresor.ECInvalidReference, "contact_id: the contact %s does not exist.", contactID)
		} else if err != nil {
			return err
		}
		if slices.Contains(r.ContactIDs, contactID) {
			return tresor.Errorf(tresor.ECConflict, "The contact %s is linked to this request already.", contactID)
		}
		r.ContactIDs = append(r.ContactIDs, contactID)
		return nil
	})
}

// UnlinkRequestContact removes a contact from the request; the audit trail
// records request.unlink.
func (g *Gate) UnlinkRequestContact(ctx context.Context, id, contactID string) (*tresor.Request, error) {
	return g.changeRequest(ctx, "request.unlink", id, func(req *request, r *tresor.Request) error {
		i := slices.Index(r.ContactIDs, contactID)
		if i < 0 {
			return tresor.Errorf(tresor.ECNotFound, "The contact %s is not linked to this request.", contactID)
		}
		r.ContactIDs = slices.Delete(r.ContactIDs, i, i+1)
		return nil
	})
}

// requestMails are the texts of the verification mail.
var requestMails = template.Must(template.New("request").Parse(`
{{define "subject_de"}}Bitte bestätigen Sie Ihren Antrag zum Datenschutz{{end}}
{{define "subject_en"}}Please confirm your data-protection request{{end}}
{{define "de"}}Guten Tag,

wir haben einen Antrag nach der DSGVO erhalten, der diese E-Mail-Adresse
nennt. Bitte bestätigen Sie mit diesem Link, dass er von Ihnen stammt
(gültig bis {{.Expires}}):

{{.Link}}

Erst nach der Bestätigung ordnen wir den Antrag Ihren Daten zu. Wenn Sie
den Antrag nicht gestellt haben, ignorieren Sie diese E-Mail.
{{end}}
{{define "en"}}Hello,

we received a request under the GDPR that gives this e-mail address.
Please confirm with the link below that it came from you (valid until
{{.Expires}}):

{{.Link}}

Only after confirmation do we match the request to your data. If you did
not send it, ignore this e-mail.
{{end}}
`))

// verificationMail asks the requester to confirm the address of a request.
func (g *Gate) verificationMail(r *tresor.Request, now time.Time) *tresor.Mail {
	lang := r.Language
	if lang != "en" {
		lang = "de"
	}
	expires := now.Add(requestVerifyDays * 24 * time.Hour)
	data := map[string]string{"Expires": expires.UTC().Format("2006-01-02 15:04 UTC"),
		"Link": g.publicURL + "/requests/verify?token=" + g.verifySecret(r.ID, expires)}
	text := func(name string) string {
		var b strings.Builder
		if err := requestMails.ExecuteTemplate(&b, name, data); err != nil {
			panic(err) // the templates are fixed and checked by the tests
		}
		return strings.TrimLeft(b.String(), "\n")
	}
	return &tresor.Mail{To: r.Address, Subject: text("subject_" + lang), Text: text(lang)}
}
