package server

import (
	"bytes"
	"context"
	"encoding"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"tresor"
	"tresor/gate"
	"tresor/importer"
	"tresor/policy"
)

// The tests below keep openapi.json true to the code: the routes, their
// permissions, the list parameters, the schemas of the domain types and the
// references inside the document.

const (
	testToken      = "test-token"    // a sales user's API token
	adminToken     = "admin-token"   // an administrator's API token
	auditorToken   = "auditor-token" // an auditor's API token
	testSession    = "test-session"  // a signed-in browser's session cookie
	pendingSession = "test-pending"  // a session still waiting for its second factor
	testCSRF       = "test-csrf"     // the form token of testSession
	testUserID     = "0190f5a4-0000-7000-8000-000000000001"
	adminUserID    = "0190f5a4-0000-7000-8000-000000000003"
	auditorUserID  = "0190f5a4-0000-7000-8000-000000000007"
	testID         = "0190f5a4-7c3e-7a51-9b0e-3f1c2d4e5a6b"
	refusedID      = "0190f5a4-7c3e-7a51-9b0e-3f1c2d4e5a6c" // the fakes refuse with an explanation
	mailless       = "0190f5a4-7c3e-7a51-9b0e-3f1c2d4e5a6d" // the fakes have no mail server for it
	emptyID        = "0190f5a4-7c3e-7a51-9b0e-3f1c2d4e5a6e" // the fakes answer with empty lists and maps
	erasedID       = "0190f5a4-7c3e-7a51-9b0e-3f1c2d4e5a6f" // the fakes answer as for an erased contact
	unknownID      = "0190f5a4-7c3e-7a51-9b0e-3f1c2d4e5a70" // the fakes know no channel or contact with it
	offlineID      = "0190f5a4-7c3e-7a51-9b0e-3f1c2d4e5a71" // the fakes' channel whose network does not answer
)

// fakeServices stands in for the gate. Only the calls the tests make are
// implemented; the others are the embedded nil interfaces and would panic.
// (New takes method values of the services, so nil services do not do.)
type fakeServices struct {
	tresor.ContactService
	tresor.OrganizationService
	tresor.InteractionService
	tresor.DealService
	tresor.CaseService
	tresor.SessionService
	tresor.ConsentService
	tresor.CampaignService
	tresor.TaskService

	filter      any                        // the filter of the last list call
	submitted   []tresor.RequestSubmission // requests sent with the public form
	verified    bool                       // the link good-link was used
	noMailer    bool                       // answer as the gate does when no mail server is configured
	mailRefused bool                       // answer as the gate does when the mail server refuses a notice
	noConnector bool                       // answer as the gate does when the server has no connectors for social networks
}

var (
	_ tresor.ProtectionService = (*fakeServices)(nil)
	_ tresor.AuditService      = (*fakeServices)(nil)
	_ tresor.ImportService     = (*fakeServices)(nil)
	_ tresor.NoticeService     = (*fakeServices)(nil)
	_ tresor.SocialService     = (*fakeServices)(nil)
)

func (f *fakeServices) AuthenticateToken(ctx context.Context, secret string) (*tresor.Actor, error) {
	switch secret {
	case testToken:
		return &tresor.Actor{Kind: tresor.ActorToken, UserID: testUserID, Email: "ada@example.org",
			Roles: []tresor.Role{tresor.RoleSales}, TokenID: "0190f5a4-0000-7000-8000-000000000002", Purposes: []string{"sales"}}, nil
	case adminToken:
		return &tresor.Actor{Kind: tresor.ActorToken, UserID: adminUserID, Email: "root@example.org",
			Roles: []tresor.Role{tresor.RoleAdmin}, TokenID: "0190f5a4-0000-7000-8000-000000000004", Purposes: []string{}}, nil
	case auditorToken:
		return &tresor.Actor{Kind: tresor.ActorToken, UserID: auditorUserID, Email: "audit@example.org",
			Roles: []tresor.Role{tresor.RoleAuditor}, TokenID: "0190f5a4-0000-7000-8000-000000000008", Purposes: []string{}}, nil
	}
	return nil, tresor.Errorf(tresor.ECUnauthenticated, "Unknown token.")
}

func (f *fakeServices) AuthenticateSession(ctx context.Context, secret string) (*tresor.Actor, *tresor.Session, error) {
	switch secret {
	case testSession:
		return &tresor.Actor{Kind: tresor.ActorUser, UserID: testUserID, Email: "ada@example.org",
				Roles: []tresor.Role{tresor.RoleSales}, SessionID: "0190f5a4-0000-7000-8000-000000000005"},
			&tresor.Session{ID: "0190f5a4-0000-7000-8000-000000000005", UserID: testUserID, Stage: tresor.StageFull, CSRF: testCSRF}, nil
	case pendingSession:
		return nil, &tresor.Session{ID: "0190f5a4-0000-7000-8000-000000000006", UserID: testUserID, Stage: tresor.StageMFA, CSRF: testCSRF}, nil
	}
	return nil, nil, tresor.Errorf(tresor.ECUnauthenticated, "No such session.")
}

func (f *fakeServices) Ready(ctx context.Context) error { return nil }
func (f *fakeServices) PoolStats() []tresor.PoolStats   { return nil }
func (f *fakeServices) Leading() bool                   { return true }

func (f *fakeServices) Contacts(ctx context.Context, fl tresor.ContactFilter) (*tresor.List[*tresor.Contact], error) {
	f.filter = fl
	return &tresor.List[*tresor.Contact]{Items: []*tresor.Contact{}}, nil
}

func (f *fakeServices) Organizations(ctx context.Context, fl tresor.OrganizationFilter) (*tresor.List[*tresor.Organization], error) {
	f.filter = fl
	return &tresor.List[*tresor.Organization]{Items: []*tresor.Organization{}}, nil
}

func (f *fakeServices) Interactions(ctx context.Context, fl tresor.InteractionFilter) (*tresor.List[*tresor.Interaction], error) {
	f.filter = fl
	return &tresor.List[*tresor.Interaction]{Items: []*tresor.Interaction{}}, nil
}

func (f *fakeServices) Deals(ctx context.Context, fl tresor.DealFilter) (*tresor.List[*tresor.Deal], error) {
	f.filter = fl
	return &tresor.List[*tresor.Deal]{Items: []*tresor.Deal{}}, nil
}

func (f *fakeServices) Pipelines(ctx context.Context, p tresor.Page) (*tresor.List[*tresor.Pipeline], error) {
	f.filter = p
	return &tresor.List[*tresor.Pipeline]{Items: []*tresor.Pipeline{}}, nil
}

func (f *fakeServices) Cases(ctx context.Context, fl tresor.CaseFilter) (*tresor.List[*tresor.Case], error) {
	f.filter = fl
	return &tresor.List[*tresor.Case]{Items: []*tresor.Case{}}, nil
}

func (f *fakeServices) Campaigns(ctx context.Context, fl tresor.CampaignFilter) (*tresor.List[*tresor.Campaign], error) {
	f.filter = fl
	m := fakeCampaign
	return &tresor.List[*tresor.Campaign]{Items: []*tresor.Campaign{&m}, Next: tresor.EncodeCursor(m.ID)}, nil
}

func (f *fakeServices) Campaign(ctx context.Context, id string) (*tresor.Campaign, error) {
	m := fakeCampaign
	m.ID = id
	return &m, nil
}

// reachQuery is what the outbound gate was asked, for TestOpenAPIListParameters.
type reachQuery struct {
	Purpose     string
	Channel     tresor.ConsentChannel
	Advertising bool
}

// errRestricted is a refusal of the privacy policy, with its rule in both languages.
var errRestricted = &tresor.Error{Code: tresor.ECRestricted, Message: "The processing of this person's data is restricted (Art. 18 GDPR).",
	MessageDE: "Die Verarbeitung der Daten dieser Person ist eingeschränkt (Art. 18 DSGVO)."}

func (f *fakeServices) RecordConsent(ctx context.Context, contactID string, r tresor.ConsentRequest) (*tresor.ConsentStatus, error) {
	if contactID == refusedID {
		return nil, errRestricted
	}
	if contactID == mailless && r.Method == tresor.MethodDoubleOptIn {
		return nil, tresor.Errorf(tresor.ECUnavailable, "No mail server is configured.")
	}
	st := tresor.ConsentStatus{Purpose: r.Purpose, Channel: tresor.ConsentChannel(r.Channel), State: tresor.ConsentGranted, Since: fakeTime}
	switch {
	case r.Method == tresor.MethodDoubleOptIn:
		st.State = tresor.ConsentPending
	case r.Action == tresor.ConsentWithdraw:
		st.State = tresor.ConsentWithdrawn
	}
	return &st, nil
}

func (f *fakeServices) Consents(ctx context.Context, contactID string) (*tresor.ConsentHistory, error) {
	return &tresor.ConsentHistory{
		States: []tresor.ConsentStatus{{Purpose: "marketing", Channel: tresor.ChannelEmailMsg, State: tresor.ConsentExpired, Since: fakeTime}},
		Events: []tresor.ConsentEvent{{ID: testID, ContactID: contactID, Purpose: "marketing", Channel: tresor.ChannelEmailMsg,
			Action: tresor.ConsentAsk, Method: tresor.MethodDoubleOptIn, TextHash: strings.Repeat("ab", 32), IP: "192.0.2.10",
			Actor: "user:" + testUserID, At: fakeTime}},
	}, nil
}

func (f *fakeServices) Reach(ctx context.Context, contactID, purpose string, channel tresor.ConsentChannel, advertising bool) (*tresor.ReachDecision, error) {
	f.filter = reachQuery{Purpose: purpose, Channel: channel, Advertising: advertising}
	return &tresor.ReachDecision{Allowed: false, Reasons: []tresor.Reason{fakeReason}}, nil
}

func (f *fakeServices) ConsentLink(ctx context.Context, secret string) (*tresor.ConsentLink, error) {
	return nil, tresor.Errorf(tresor.ECLinkInvalid, "This link is not valid.")
}

func (f *fakeServices) ConfirmConsent(ctx context.Context, secret, ip string) (*tresor.ConsentLink, error) {
	return nil, tresor.Errorf(tresor.ECLinkInvalid, "This link is not valid.")
}

func (f *fakeServices) WithdrawConsent(ctx context.Context, secret, ip string) (*tresor.ConsentLink, error) {
	return nil, tresor.Errorf(tresor.ECLinkInvalid, "This link is not valid.")
}

func (f *fakeServices) Object(ctx context.Context, contactID string) (*tresor.Contact, error) {
	if contactID == refusedID {
		return nil, errRestricted
	}
	return fakeContact(), nil
}

func (f *fakeServices) LiftRestriction(ctx context.Context, contactID, reason string) (*tresor.Contact, error) {
	if contactID == refusedID {
		return nil, errRestricted
	}
	if reason == "" {
		return nil, tresor.Errorf(tresor.ECValidation, "A restriction is lifted only for a recorded reason.")
	}
	c := fakeContact()
	c.RestrictedAt = nil
	return c, nil
}

func (f *fakeServices) Restrict(ctx context.Context, contactID string, restricted bool) (*tresor.Contact, error) {
	if contactID == refusedID {
		return nil, errRestricted
	}
	c := fakeContact()
	if !restricted {
		return nil, tresor.Errorf(tresor.ECValidation, "A restriction is lifted only for a recorded reason.")
	}
	return c, nil
}

func (f *fakeServices) Audience(ctx context.Context, id string) (*tresor.Audience, error) {
	if id == emptyID { // as the gate answers when nobody is left out
		return &tresor.Audience{Recipients: []string{}, Excluded: map[string]int{}, Reasons: []tresor.Reason{}}, nil
	}
	return &tresor.Audience{Eligible: 1, Recipients: []string{testID}, Excluded: map[string]int{fakeReason.Code: 2},
		Reasons: []tresor.Reason{fakeReason}}, nil
}

func (f *fakeServices) SendCampaign(ctx context.Context, id string) (*tresor.SendReport, error) {
	if id == mailless {
		return nil, tresor.Errorf(tresor.ECUnavailable, "No mail server is configured.")
	}
	return &tresor.SendReport{Sent: 1, Failed: 1, Excluded: map[string]int{fakeReason.Code: 2}}, nil
}

// dataProtectionOnly refuses like the gate when the declared purpose is not
// data_protection: erasure, legal holds and retention are its duties.
func dataProtectionOnly(ctx context.Context) error {
	if p := tresor.PurposeFrom(ctx); p != "data_protection" {
		return policy.Refuse(policy.RDataProtectionOnly, p)
	}
	return nil
}

// contactGone answers for erasedID like the gate for an erased contact.
func contactGone(id string) error {
	if id == erasedID {
		return policy.Refuse(policy.RErased, id, fakeTime.Format(time.DateOnly))
	}
	return nil
}

func (f *fakeServices) EraseContact(ctx context.Context, id string, r tresor.EraseRequest) (*tresor.Erasure, error) {
	if err := dataProtectionOnly(ctx); err != nil {
		return nil, err
	}
	if err := contactGone(id); err != nil {
		return nil, err
	}
	switch {
	case id == refusedID:
		return nil, policy.Refuse(policy.RLegalHold, fakeHold.Reason)
	case strings.Contains(r.Reason, "Lovelace"):
		return nil, policy.Refuse(policy.RReasonUnsafe, "name")
	}
	e := fakeErasure
	e.ContactID, e.Reason = id, r.Reason
	return &e, nil
}

func (f *fakeServices) ContactErasure(ctx context.Context, id string) (*tresor.Erasure, error) {
	if err := dataProtectionOnly(ctx); err != nil {
		return nil, err
	}
	if id != erasedID {
		return nil, tresor.Errorf(tresor.ECNotFound, "No erasure of %s.", id)
	}
	e := fakeErasure
	e.ContactID = id
	return &e, nil
}

func (f *fakeServices) PlaceHold(ctx context.Context, contactID, reason string) (*tresor.LegalHold, error) {
	if err := dataProtectionOnly(ctx); err != nil {
		return nil, err
	}
	if err := contactGone(contactID); err != nil {
		return nil, err
	}
	h := fakeHold
	h.ContactID, h.Reason = contactID, reason
	return &h, nil
}

func (f *fakeServices) Holds(ctx context.Context, contactID string) ([]tresor.LegalHold, error) {
	if err := dataProtectionOnly(ctx); err != nil {
		return nil, err
	}
	if err := contactGone(contactID); err != nil {
		return nil, err
	}
	if contactID == emptyID {
		return []tresor.LegalHold{}, nil
	}
	active, released := fakeHold, fakeHold
	released.ID, released.ReleasedBy, released.ReleasedAt = refusedID, "user:"+adminUserID, &fakeTime
	return []tresor.LegalHold{released, active}, nil
}

func (f *fakeServices) ReleaseHold(ctx context.Context, id string) (*tresor.LegalHold, error) {
	if err := dataProtectionOnly(ctx); err != nil {
		return nil, err
	}
	if id == refusedID {
		return nil, tresor.Errorf(tresor.ECConflict, "The legal hold %s was released already.", id)
	}
	h := fakeHold
	h.ID, h.ReleasedBy, h.ReleasedAt = id, "user:"+testUserID, &fakeTime
	return &h, nil
}

func (f *fakeServices) CloseContact(ctx context.Context, id string) (*tresor.Contact, error) {
	if err := contactGone(id); err != nil {
		return nil, err
	}
	if id == refusedID { // closed already
		return nil, policy.Refuse(policy.RArchived, fakeTime.Format(time.DateOnly))
	}
	if tresor.PurposeFrom(ctx) != "data_protection" {
		return nil, nil // archived: the purpose no longer sees it
	}
	c := fakeContact()
	c.ArchivedAt = &fakeTime
	return c, nil
}

func (f *fakeServices) RunRetention(ctx context.Context, dryRun bool) (*tresor.RetentionReport, error) {
	if err := dataProtectionOnly(ctx); err != nil {
		return nil, err
	}
	return &tresor.RetentionReport{ID: testID, DryRun: dryRun, StartedAt: fakeTime, FinishedAt: fakeTime, Checked: 3,
		Erased: []tresor.RetentionAction{{ContactID: testID, Rule: "sales: contact.name kept 1095 days after the last interaction"}},
		Stripped: []tresor.RetentionAction{{ContactID: emptyID, Rule: "marketing: professional.position kept 365 days after the last interaction",
			Categories: []tresor.Category{tresor.CatPosition}}},
		RecordsExpired: 2, Held: []string{refusedID}, Errors: []string{"contact " + mailless + ": an internal error; see the server log"}}, nil
}

// AuditLog answers like the gate: newest first, an empty page (no items at
// all) when nothing matches, and invalid_cursor for a cursor that names no
// entry.
func (f *fakeServices) AuditLog(ctx context.Context, fl tresor.AuditFilter) (*tresor.List[*tresor.AuditEntry], error) {
	f.filter = fl
	if fl.After != "" {
		if seq, err := strconv.ParseInt(fl.After, 10, 64); err != nil || seq < 1 {
			return nil, tresor.Errorf(tresor.ECInvalidCursor, "The cursor is not one this server issued.")
		}
	}
	if fl.ContactID == emptyID {
		return &tresor.List[*tresor.AuditEntry]{Items: []*tresor.AuditEntry{}}, nil
	}
	refused, read := fakeRefusalEntry, fakeReadEntry
	return &tresor.List[*tresor.AuditEntry]{Items: []*tresor.AuditEntry{&refused, &read}, Next: tresor.EncodeCursor("41")}, nil
}

// exportQuery is what the audit export was asked, for TestOpenAPIListParameters.
type exportQuery struct {
	Actor        string
	Since, Until time.Time
}

// AuditExport answers like the gate: only under data_protection, only for
// an actor and a window, with the columns of gate.AuditExport.
func (f *fakeServices) MyRefusals(ctx context.Context, limit int) ([]*tresor.AuditEntry, error) {
	return nil, nil
}

func (f *fakeServices) AuditExport(ctx context.Context, fl tresor.AuditFilter, w io.Writer) error {
	f.filter = exportQuery{Actor: fl.Actor, Since: fl.Since, Until: fl.Until}
	if err := dataProtectionOnly(ctx); err != nil {
		return err
	}
	if fl.Actor == "" || fl.Since.IsZero() || fl.Until.IsZero() || !fl.Until.After(fl.Since) {
		return tresor.Errorf(tresor.ECInvalidParameter, "Name the actor (user:ID or token:ID) and the window (since < until).")
	}
	at := fakeTime.Format(time.RFC3339)
	_, err := io.WriteString(w, "contact_id,state,given_name,family_name,emails,first_access,last_access,entries\n"+
		testID+",present,Ada,Lovelace,ada@example.org ada@analytical.example,"+at+","+at+",3\n"+
		erasedID+",erased,,,,"+at+","+at+",1\n")
	return err
}

// fakePolicy is the default policy, with which the fake import refuses
// purposes and legal bases as the gate does.
var fakePolicy = policy.Default()

// Import answers like the gate's ingestion gate: the mapping, the purpose,
// the format and network, the legal basis and the file are checked in the
// gate's order; the report counts a bit of everything and, like the gate's,
// its examples name rows and rules, never the data.
func (f *fakeServices) Import(ctx context.Context, r io.Reader, req tresor.ImportRequest) (*tresor.ImportReport, error) {
	if req.Mapping != "" {
		if _, err := importer.ParseMapping(strings.NewReader(req.Mapping)); err != nil {
			return nil, tresor.Errorf(tresor.ECValidation, "The column mapping is invalid: %s", err)
		}
	}
	pu, err := fakePolicy.PermitIndividual(tresor.ActorFrom(ctx), tresor.PurposeFrom(ctx))
	if err != nil {
		return nil, err
	}
	network := req.Network
	switch importer.Format(req.Format) {
	case importer.LinkedIn:
		network = "linkedin"
	case importer.MastodonFollowing:
		network = "mastodon"
	case importer.VCard, importer.CSV:
		if network != "" && !tresor.ValidNetwork(network) {
			return nil, tresor.Errorf(tresor.ECInvalidParameter, "%q is not a network Tresor knows.", network)
		}
	default:
		return nil, tresor.Errorf(tresor.ECInvalidParameter, "The format %q is unknown; the formats are linkedin, vcard, mastodon-following, csv.", req.Format)
	}
	if err := fakePolicy.CheckBasis(pu, req.LegalBasis, req.BalancingNote); err != nil {
		return nil, err
	}
	if importer.Format(req.Format) == importer.CSV && req.Mapping == "" {
		return nil, tresor.Errorf(tresor.ECValidation, "The file cannot be read as csv: importer: the csv format needs a mapping")
	}
	if _, err := io.Copy(io.Discard, r); err != nil { // wrapped, as the gate does: the server finds a body over the limit in it
		return nil, &tresor.Error{Code: tresor.ECValidation, Message: "The file cannot be read further.", Err: err}
	}
	return &tresor.ImportReport{ID: testID, Format: req.Format, Network: network, Purpose: pu.ID, DryRun: req.DryRun,
		StartedAt: fakeTime, FinishedAt: fakeTime, Rows: 6, Created: 1, Duplicates: 1,
		Refused: map[string]int{"no_identifier": 1, "suppressed": 1},
		Dropped: map[string]int{"not_public": 1, "private:personal.birthday": 1, "special:special.health": 1},
		Errors:  []tresor.ImportRowError{{Row: 5, Msg: "the card has no name"}, {Row: 6, Msg: "invalid emails[0]"}},
		Examples: []string{"row 2: a birthday is private and is not stored",
			"row 3: no e-mail address, phone number or handle the purpose may store: the person could not be matched again"},
		Explained: []tresor.ImportExplained{
			{Reason: "private:personal.birthday", Message: "a birthday is private and is not stored", Count: 1, Rows: []tresor.ImportRowRange{{From: 2, To: 2}}},
			{Reason: "malformed", Refused: true, Message: "the card has no name", Count: 1, Rows: []tresor.ImportRowRange{{From: 5, To: 5}}}},
		Notices: 1}, nil
}

// ActiveHolds and FlaggedContacts answer like the gate: only under
// data_protection, with empty lists (no API route reaches them).
func (f *fakeServices) ActiveHolds(ctx context.Context, p tresor.Page) (*tresor.List[tresor.LegalHold], error) {
	if err := dataProtectionOnly(ctx); err != nil {
		return nil, err
	}
	return &tresor.List[tresor.LegalHold]{Items: []tresor.LegalHold{}}, nil
}

func (f *fakeServices) FlaggedContacts(ctx context.Context, flag tresor.ContactFlag, p tresor.Page) (*tresor.List[*tresor.Contact], error) {
	if err := dataProtectionOnly(ctx); err != nil {
		return nil, err
	}
	return &tresor.List[*tresor.Contact]{Items: []*tresor.Contact{}}, nil
}

// fakeImportRecord is the record of the fakes' import.
func fakeImportRecord(purpose string) *tresor.ImportRecord {
	done := fakeTime
	return &tresor.ImportRecord{ID: testID, Format: "linkedin", Network: "linkedin", Purpose: purpose, LegalBasis: tresor.BasisContract,
		FileName: "Connections.csv", Actor: "user:" + testID, ActorName: "ines@example.org", State: tresor.ImportDone,
		Rows: 6, Created: 1, Duplicates: 1, Refused: 2, RefusedBy: map[string]int{"no_identifier": 1, "suppressed": 1},
		Dropped: map[string]int{"not_public": 1}, StartedAt: fakeTime, UpdatedAt: fakeTime, FinishedAt: &done}
}

// Imports answers like the gate: a purpose sees its own imports, data
// protection those of any purpose; an empty page for another purpose asked
// for by data protection.
func (f *fakeServices) Imports(ctx context.Context, q tresor.ImportQuery) (*tresor.List[*tresor.ImportRecord], error) {
	f.filter = q
	if err := q.Page.Normalize(); err != nil {
		return nil, err
	}
	if dataProtectionOnly(ctx) != nil { // the fakes' tokens hold data_protection without its role
		pu, err := fakePolicy.PermitIndividual(tresor.ActorFrom(ctx), tresor.PurposeFrom(ctx))
		if err != nil {
			return nil, err
		}
		if q.Purpose != "" && q.Purpose != pu.ID {
			return nil, tresor.Errorf(tresor.ECForbidden, "The imports of the purpose %s are seen under that purpose or data_protection.", q.Purpose)
		}
		q.Purpose = pu.ID
	}
	if q.Purpose == "" {
		q.Purpose = "sales"
	}
	if q.Purpose != "sales" {
		return &tresor.List[*tresor.ImportRecord]{Items: []*tresor.ImportRecord{}}, nil
	}
	return &tresor.List[*tresor.ImportRecord]{Items: []*tresor.ImportRecord{fakeImportRecord(q.Purpose)}}, nil
}

// ImportRecord answers like the gate: the record of testID under sales or
// data protection, a running one with its progress for emptyID.
func (f *fakeServices) ImportRecord(ctx context.Context, id string) (*tresor.ImportRecord, error) {
	if dataProtectionOnly(ctx) != nil {
		if _, err := fakePolicy.PermitIndividual(tresor.ActorFrom(ctx), tresor.PurposeFrom(ctx)); err != nil {
			return nil, err
		}
	}
	if id == emptyID {
		r := fakeImportRecord("sales")
		r.ID, r.State, r.FinishedAt, r.Progress = emptyID, tresor.ImportRunning, nil, &tresor.ImportProgress{Rows: 3000, Read: 1 << 20, Bytes: 4 << 20}
		return r, nil
	}
	if id != testID {
		return nil, tresor.Errorf(tresor.ECNotFound, "There is no import with id %q.", id)
	}
	return fakeImportRecord("sales"), nil
}

// StartImport is not reached over the API.
func (f *fakeServices) StartImport(ctx context.Context, r io.ReadCloser, size int64, req tresor.ImportRequest) (*tresor.ImportRecord, error) {
	return nil, tresor.Errorf(tresor.ECInvalidParameter, "not over the API")
}

// Notices answers like the gate: only under data_protection, an empty page
// for emptyID.
func (f *fakeServices) Notices(ctx context.Context, q tresor.NoticeQuery) (*tresor.List[*tresor.Notice], error) {
	f.filter = q
	if err := dataProtectionOnly(ctx); err != nil {
		return nil, err
	}
	if q.ContactID == emptyID {
		return &tresor.List[*tresor.Notice]{Items: []*tresor.Notice{}}, nil
	}
	open, sent := fakeNotice, fakeNotice
	sent.ID, sent.Source, sent.Network, sent.ImportID, sent.SentAt, sent.Channel = refusedID, "connector", "mastodon", "", &fakeTime, "email"
	return &tresor.List[*tresor.Notice]{Items: []*tresor.Notice{&sent, &open}, Next: tresor.EncodeCursor(open.ID)}, nil
}

// SendNotices answers like the gate: only under data_protection, only
// with a mail server, and stopping at a notice the mail server refuses.
func (f *fakeServices) SendNotices(ctx context.Context, due time.Time) (sent, other int, err error) {
	if err := dataProtectionOnly(ctx); err != nil {
		return 0, 0, err
	}
	if f.noMailer {
		return 0, 0, tresor.Errorf(tresor.ECUnavailable, "No mail server is configured (TRESOR_SMTP_ADDR).")
	}
	if f.mailRefused {
		return 1, 0, tresor.Errorf(tresor.ECUnavailable, "The mail server refused a notice; it stays open. Try again later.")
	}
	return 2, 1, nil
}

// MarkNoticeGiven answers like the gate: only under data_protection, only
// for the channels the gate knows, and not_found for refusedID (the notice
// the fake list shows as sent already).
func (f *fakeServices) MarkNoticeGiven(ctx context.Context, id, channel string) error {
	if err := dataProtectionOnly(ctx); err != nil {
		return err
	}
	if !slices.Contains([]string{"postal", "phone", "in_person", "email"}, channel) {
		var p tresor.Problems
		p.Add("channel", "must be postal, phone, in_person or email")
		return p.Err("notice")
	}
	if id == refusedID {
		return tresor.Errorf(tresor.ECNotFound, "There is no open notice %s.", id)
	}
	return nil
}

// declaredPurpose returns the declared purpose, refused like the gate when
// it is missing or unknown or sees only aggregates. The roles are not
// checked: like the other fakes, these let any caller declare any purpose.
func declaredPurpose(ctx context.Context) (*policy.Purpose, error) {
	return fakePolicy.PermitIndividual(&tresor.Actor{Kind: tresor.ActorSystem}, tresor.PurposeFrom(ctx))
}

// fakeChannelOf returns the fakes' channels: testID on Mastodon, emptyID on
// Bluesky (where the fakes' contact has no handle), offlineID on a Mastodon
// server that does not answer. Any other id names no channel.
func fakeChannelOf(id string) (*tresor.SocialChannel, error) {
	ch := tresor.SocialChannel{ID: id, Network: "mastodon", Name: "Support on Mastodon", Account: "@tresor@social.example",
		CreatedAt: fakeTime, UpdatedAt: fakeTime}
	switch id {
	case testID:
	case emptyID:
		ch.Network, ch.Name, ch.Account = "bluesky", "News on Bluesky", "@tresor.example"
	case offlineID:
		ch.Name, ch.Account, ch.LastError = "Sales on Mastodon", "@sales@down.example", offlineText("mastodon", "inbox")
	default:
		return nil, tresor.Errorf(tresor.ECNotFound, "There is no channel %s.", id)
	}
	return &ch, nil
}

// offlineText is the gate's text for a network that did not answer.
func offlineText(network, op string) string {
	return fmt.Sprintf("%s did not answer as expected (%s); try again later.", network, op)
}

// reachable answers like the gate when a channel's network cannot be
// reached: unavailable without connectors, and for offlineID, whose network
// does not answer.
func (f *fakeServices) reachable(ch *tresor.SocialChannel, op string) error {
	if f.noConnector {
		return tresor.Errorf(tresor.ECUnavailable, "This server has no connectors for social networks.")
	}
	if ch.ID == offlineID {
		return tresor.Errorf(tresor.ECUnavailable, "%s", offlineText(ch.Network, op))
	}
	return nil
}

// decodeCredentials reads a connector's credentials strictly.
func decodeCredentials(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// fakeAccount stands in for the connectors of Mastodon and Bluesky: it reads
// their credentials, refusing those that do not fit, and answers with the
// company account's handle. The Mastodon server down.example does not answer.
func fakeAccount(network string, creds []byte) (string, error) {
	unfit := func(why string) error {
		return tresor.Errorf(tresor.ECValidation, "The credentials do not fit the %s connector: %s", network, why)
	}
	switch network {
	case "mastodon":
		var c struct {
			Server       string `json:"server"`
			ClientID     string `json:"client_id"`
			ClientSecret string `json:"client_secret"`
			AccessToken  string `json:"access_token"`
		}
		if err := decodeCredentials(creds, &c); err != nil {
			return "", unfit(err.Error())
		}
		u, err := url.Parse(c.Server)
		if err != nil || u.Host == "" || c.AccessToken == "" {
			return "", unfit("they need the server's URL and an access token")
		}
		if u.Host == "down.example" {
			return "", tresor.Errorf(tresor.ECUnavailable, "%s", offlineText(network, "account"))
		}
		return "@tresor@" + u.Host, nil
	case "bluesky":
		var c struct {
			Service     string `json:"service"`
			Handle      string `json:"handle"`
			AppPassword string `json:"app_password"`
		}
		if err := decodeCredentials(creds, &c); err != nil {
			return "", unfit(err.Error())
		}
		if c.Handle == "" || c.AppPassword == "" {
			return "", unfit("they need the handle and an app password")
		}
		return "@" + strings.TrimPrefix(c.Handle, "@"), nil
	}
	return "", unfit("this server has no connector for " + network)
}

// CreateChannel answers like the gate: the request is checked, then the
// connector is built and asked for the account.
func (f *fakeServices) CreateChannel(ctx context.Context, r tresor.SocialChannelRequest) (*tresor.SocialChannel, error) {
	if err := r.Check(); err != nil {
		return nil, err
	}
	if f.noConnector {
		return nil, tresor.Errorf(tresor.ECUnavailable, "This server has no connectors for social networks.")
	}
	account, err := fakeAccount(r.Network, r.Credentials)
	if err != nil {
		return nil, err
	}
	return &tresor.SocialChannel{ID: testID, Network: r.Network, Name: strings.TrimSpace(r.Name), Account: account,
		CreatedAt: fakeTime, UpdatedAt: fakeTime}, nil
}

func (f *fakeServices) Channels(ctx context.Context) ([]tresor.SocialChannel, error) {
	var out []tresor.SocialChannel
	for _, id := range []string{testID, emptyID, offlineID} {
		ch, _ := fakeChannelOf(id)
		out = append(out, *ch)
	}
	return out, nil
}

func (f *fakeServices) DeleteChannel(ctx context.Context, id string) error {
	_, err := fakeChannelOf(id)
	return err
}

// mentionRE finds what the gate takes for a mention: "@" at the start of a
// word, followed by more than a space.
var mentionRE = regexp.MustCompile(`(^|[ \n])@[^ ]`)

// SchedulePost answers like the gate, with fakeTime as the present: only
// purposes that advertise publish, a post names nobody, and it goes out at
// once unless publish_at is later; the network of offlineID refuses it.
func (f *fakeServices) SchedulePost(ctx context.Context, p *tresor.Post) (*tresor.Post, error) {
	pu, err := declaredPurpose(ctx)
	if err != nil {
		return nil, err
	}
	if pu.Outbound != policy.OutboundAdvertising {
		return nil, policy.Refuse(policy.RPublishing, pu.ID)
	}
	text := strings.TrimSpace(p.Text)
	var probs tresor.Problems
	if text == "" || utf8.RuneCountInString(text) > 5000 {
		probs.Add("text", "write up to 5,000 characters")
	}
	if mentionRE.MatchString(text) {
		probs.Add("text", "names a person (@…): write to people with a message, which checks their consent")
	}
	if err := probs.Err("post"); err != nil {
		return nil, err
	}
	ch, err := fakeChannelOf(p.ChannelID)
	if err != nil {
		return nil, err
	}
	post := &tresor.Post{ID: testID, ChannelID: ch.ID, Text: text, PublishAt: p.PublishAt, CreatedBy: tresor.ActorFrom(ctx).String(),
		CreatedAt: fakeTime}
	if post.PublishAt.Before(fakeTime) {
		post.PublishAt = fakeTime
	}
	if post.PublishAt.After(fakeTime) {
		return post, nil // published when its time has come
	}
	if err := f.reachable(ch, "publish"); err != nil {
		post.Error = tresor.ErrorMessage(err)
		return post, nil
	}
	post.PublishedAt, post.RemoteID = &fakeTime, "113380195485020427"
	post.URL = "https://social.example/@tresor/" + post.RemoteID
	return post, nil
}

// Posts answers like the gate: a published, a failed and a waiting post,
// oldest first; an empty page for emptyID.
func (f *fakeServices) Posts(ctx context.Context, q tresor.PostQuery) (*tresor.List[*tresor.Post], error) {
	f.filter = q
	if q.ChannelID == emptyID {
		return &tresor.List[*tresor.Post]{Items: []*tresor.Post{}}, nil
	}
	published := &tresor.Post{ID: testID, ChannelID: q.ChannelID, Text: "Tresor 1.2 is out.", PublishAt: fakeTime, PublishedAt: &fakeTime,
		RemoteID: "113380195485020427", URL: "https://social.example/@tresor/113380195485020427", CreatedBy: "user:" + testUserID,
		CreatedAt: fakeTime}
	failed, waiting := *published, *published
	failed.ID, failed.PublishedAt, failed.RemoteID, failed.URL = refusedID, nil, "", ""
	failed.Error = offlineText("mastodon", "publish")
	waiting.ID, waiting.PublishAt, waiting.PublishedAt, waiting.RemoteID, waiting.URL = emptyID, fakeTime.AddDate(0, 0, 7), nil, "", ""
	return &tresor.List[*tresor.Post]{Items: []*tresor.Post{published, &failed, &waiting}, Next: tresor.EncodeCursor(waiting.ID)}, nil
}

// SendSocial answers like the gate, deciding with the policy's outbound
// gate on the fakes' facts: the contact testID has a handle on Mastodon
// only, has consented to marketing by Mastodon direct message, and started
// the conversation a message answers (in_reply_to). refusedID is a
// restricted contact; any other id names no contact.
func (f *fakeServices) SendSocial(ctx context.Context, s tresor.SocialSend) (*tresor.ReachDecision, error) {
	pu, err := declaredPurpose(ctx)
	if err != nil {
		return nil, err
	}
	if text := strings.TrimSpace(s.Text); text == "" || utf8.RuneCountInString(text) > 5000 {
		var p tresor.Problems
		p.Add("text", "write up to 5,000 characters")
		return nil, p.Err("message")
	}
	ch, err := fakeChannelOf(s.ChannelID)
	if err != nil {
		return nil, err
	}
	switch s.ContactID {
	case testID:
	case refusedID:
		return nil, errRestricted
	default:
		return nil, tresor.Errorf(tresor.ECNotFound, "There is no contact %s.", s.ContactID)
	}
	prefix := tresor.SocialMention
	if s.Direct {
		prefix = tresor.SocialDM
	}
	channel := tresor.ConsentChannel(prefix + ch.Network)
	consent := tresor.ConsentUnknown
	if channel == tresor.SocialDM+"mastodon" {
		consent = tresor.ConsentGranted
	}
	d := fakePolicy.DecideReach(policy.ReachFacts{Purpose: pu, Channel: channel, Advertising: s.Advertising,
		HasAddress: ch.Network == "mastodon", Consent: consent, ExpiryDays: fakePolicy.Consent.ExpiryDays,
		InboundConversation: s.InReplyTo != ""})
	if !d.Allowed {
		r := d.Reasons[0]
		return &d, &tresor.Error{Code: tresor.ECForbidden, Message: r.Message, MessageDE: r.MessageDE}
	}
	if err := f.reachable(ch, "send"); err != nil {
		return nil, err
	}
	return &d, nil
}

// PollInbox answers like the gate: only purposes that answer people read
// the inbox; emptyID's inbox is empty.
func (f *fakeServices) PollInbox(ctx context.Context, channelID string) (*tresor.InboxReport, error) {
	pu, err := declaredPurpose(ctx)
	if err != nil {
		return nil, err
	}
	if pu.Outbound != policy.OutboundReply {
		return nil, policy.Refuse(policy.RServiceOnly, pu.ID)
	}
	ch, err := fakeChannelOf(channelID)
	if err != nil {
		return nil, err
	}
	if err := f.reachable(ch, "inbox"); err != nil {
		return nil, err
	}
	if ch.ID == emptyID {
		return &tresor.InboxReport{Dropped: map[string]int{}}, nil
	}
	// A followers-only post dropped, a mention by a contact, two direct
	// messages, one of which revealed a special category.
	return &tresor.InboxReport{Read: 4, Interactions: 1, Cases: 2, Dropped: map[string]int{"not_public": 1, "special:special.health": 1}}, nil
}

// profileQuery is what the profile was asked, for TestOpenAPIListParameters.
type profileQuery struct {
	Channel, Handle string
}

// SocialProfile answers like the gate: only purposes that may see social
// profiles read them, and the profile is screened by the policy's lexicon
// of special categories. On Mastodon the fakes' profile reveals a trade
// union membership in its bio and a religion in a field.
func (f *fakeServices) SocialProfile(ctx context.Context, channelID, handle string) (*tresor.SocialProfile, []string, error) {
	f.filter = profileQuery{Channel: channelID, Handle: handle}
	pu, err := declaredPurpose(ctx)
	if err != nil {
		return nil, nil, err
	}
	if !pu.Allows(tresor.CatSocialProfile) {
		return nil, nil, pu.RefuseCategory(tresor.CatSocialProfile)
	}
	ch, err := fakeChannelOf(channelID)
	if err != nil {
		return nil, nil, err
	}
	if err := f.reachable(ch, "profile"); err != nil {
		return nil, nil, err
	}
	p := &tresor.SocialProfile{Network: ch.Network, Handle: handle, DisplayName: "Erika Mustermann",
		Bio: "Works council, Gewerkschaft ver.di", URL: "https://social.example/@erika",
		Fields: []tresor.ProfileField{{Name: "Website", Value: "https://erika.example"}, {Name: "Ehrenamt", Value: "Kirchengemeinde St. Marien"}},
		Locked: true, Bot: false}
	if ch.Network != "mastodon" {
		p.Bio, p.URL, p.Locked = "Product designer", "https://bsky.app/profile/"+strings.TrimPrefix(handle, "@"), false
		p.Fields = []tresor.ProfileField{{Name: "Website", Value: "https://erika.example"}}
	}
	dropped := policy.ScreenProfile(p)
	return p, dropped, nil
}

// The objects the fakes answer with have every field set, so that the live
// checks see every member the JSON can have.
var (
	fakeCollection = tresor.Collection{LegalBasis: tresor.BasisLegitimateInterest, BalancingNote: "Existing customer; asked for offers.",
		Source: tresor.SourceConnector, ImportID: "import-7", Network: "mastodon", Visibility: tresor.VisibilityPublic}
	fakeReason = tresor.Reason{Code: "consent_missing", Message: "Advertising by e-mail needs the person's prior consent.",
		MessageDE: "Werbung per E-Mail braucht eine vorherige Einwilligung der Person."}
	fakeCampaign = tresor.Campaign{Meta: tresor.Meta{ID: testID, CreatedAt: fakeTime, UpdatedAt: fakeTime, Version: 2},
		Name: "Spring news", Purpose: "marketing", Channel: tresor.ChannelEmailMsg,
		Segment: tresor.Segment{OwnerID: testUserID, OrganizationID: testID},
		Content: tresor.CampaignContent{SubjectDE: "Neuigkeiten", SubjectEN: "News", BodyDE: "Hallo", BodyEN: "Hello"},
		OwnerID: testUserID, SentAt: &fakeTime}
	// An erasure as under the default policy: interactions erased, cases anonymised.
	fakeErasure = tresor.Erasure{ContactID: testID, ErasedAt: fakeTime, Actor: "user:" + adminUserID, Origin: tresor.ErasureRequest,
		Reason: "Erasure request, ticket 2026-17", Records: tresor.ErasedRecords{Interactions: 3, InteractionsRetained: 1,
			CasesAnonymised: 2, DealsDetached: 1, ConsentEvents: 4}}
	// An open information duty of an imported contact.
	fakeNotice = tresor.Notice{ID: testID, ContactID: testID, Source: "vcard", Network: "xing", ImportID: emptyID, Purpose: "sales",
		CreatedAt: fakeTime, DueAt: fakeTime.AddDate(0, 0, 30)}
	fakeHold = tresor.LegalHold{ID: testID, ContactID: testID, Reason: "Claim 4711", PlacedBy: "user:" + adminUserID, PlacedAt: fakeTime}
	// Two audit entries, newest first: a refused read of a restricted
	// contact, and the auditor's reading of the trail before it.
	fakeRefusalEntry = tresor.AuditEntry{Seq: 42, At: fakeTime, Actor: "token:0190f5a4-0000-7000-8000-000000000002", Roles: "sales,marketing",
		Purpose: "sales", Action: "contact.read", ObjectType: "contact", ObjectIDs: []string{refusedID},
		Categories: []tresor.Category{tresor.CatContactName, tresor.CatContactEmail}, Decision: tresor.Refused,
		Reason: string(tresor.ECRestricted), RequestID: "9f86d081884c7d65", Client: "192.0.2.0/24", Hash: bytes.Repeat([]byte{0xab}, 32)}
	fakeReadEntry = tresor.AuditEntry{Seq: 41, At: fakeTime, Actor: "user:" + auditorUserID, Roles: "auditor", Action: "audit.read",
		Decision: tresor.Allowed, RequestID: "2c26b46b68ffc68f", Client: "2001:db8:1::/48",
		Detail: "contact=" + refusedID + " since=2026-01-01T00:00:00Z", Hash: bytes.Repeat([]byte{0xcd}, 32)}
	fakeCatalogue = []tresor.PurposeInfo{
		{ID: "sales", NameDE: "Vertrieb", NameEN: "Sales", DescriptionDE: "Verträge anbahnen", DescriptionEN: "Preparing contracts",
			Categories: []tresor.Category{tresor.CatContactName, tresor.CatContactEmail}, LegalBases: []tresor.LegalBasis{tresor.BasisContract},
			RetentionDays: 1095, Outbound: string(policy.OutboundAdvertising)},
		{ID: "analytics", NameDE: "Analyse", NameEN: "Analytics", DescriptionDE: "Auswertungen über Gruppen", DescriptionEN: "Analyses of groups",
			Categories: []tresor.Category{tresor.CatContactLanguage}, LegalBases: []tresor.LegalBasis{tresor.BasisLegitimateInterest},
			RetentionDays: 365, AggregatesOnly: true, Outbound: string(policy.OutboundNone)},
	}
)

func fakeContact() *tresor.Contact {
	return &tresor.Contact{Meta: tresor.Meta{ID: testID, CreatedAt: fakeTime, UpdatedAt: fakeTime, Version: 3},
		OwnerID: testUserID, OrganizationID: testID,
		ContactDetails: tresor.ContactDetails{GivenName: "Ada", FamilyName: "Lovelace", Emails: []string{"ada@example.org"},
			Phones: []string{"+49301234567"}, PostalAddress: &tresor.PostalAddress{Street: "Unter den Linden 1", PostalCode: "10117",
				City: "Berlin", Region: "Berlin", Country: "DE"}, SocialHandles: []tresor.SocialHandle{{Network: "mastodon", Handle: "@ada@example.social"}},
			Organization: "Analytical Engines", Position: "CTO", PreferredLanguage: "en"},
		Collection:   fakeCollection,
		Provenance:   tresor.NewProvenance([]tresor.ProvenanceRecord{fakeCollection.Record([]string{"given_name", "emails"}, "sales", fakeTime, "user:"+testUserID)}),
		RestrictedAt: &fakeTime, ObjectedAt: &fakeTime, LastInteractionAt: &fakeTime,
		Withheld: []tresor.Category{tresor.CatContactPhone}}
}

// The user and token the fakes answer with have every field set, so that the
// live checks see every member the JSON can have.
var (
	fakeTime = time.Date(2026, 1, 31, 8, 0, 0, 0, time.UTC)
	fakeUser = tresor.User{ID: testUserID, Email: "ada@example.org", Roles: []tresor.Role{tresor.RoleSales},
		CreatedAt: fakeTime, UpdatedAt: fakeTime, DisabledAt: &fakeTime, MFAEnabledAt: &fakeTime,
		ExternalIssuer: "https://id.example.org", ExternalSubject: "248289761001",
		PasswordHash: "not-for-json", TOTPSecret: "NOTFORJSON", TOTPLastStep: 1}
	fakeGrant = tresor.RoleGrant{ID: testID, UserID: testUserID, Roles: []tresor.Role{tresor.RoleSales}, State: tresor.GrantPending,
		RequestedBy: "user:" + adminUserID, RequestedAt: fakeTime, ExpiresAt: fakeTime}
	fakeToken = tresor.Token{ID: testID, UserID: testUserID, Name: "newsletter sync", Purposes: []string{"sales"},
		Hash: []byte("not-for-json"), CreatedAt: fakeTime, ExpiresAt: &fakeTime, LastUsedAt: &fakeTime, RevokedAt: &fakeTime}
)

func (f *fakeServices) CreateUser(ctx context.Context, email string, roles []tresor.Role) (*tresor.User, string, error) {
	u := fakeUser
	u.Email, u.Roles = email, roles
	return &u, "generated-password", nil
}

func (f *fakeServices) User(ctx context.Context, idOrEmail string) (*tresor.User, error) {
	u := fakeUser
	return &u, nil
}

func (f *fakeServices) Users(ctx context.Context, p tresor.Page) (*tresor.List[*tresor.User], error) {
	f.filter = p
	u := fakeUser
	return &tresor.List[*tresor.User]{Items: []*tresor.User{&u}, Next: tresor.EncodeCursor(u.ID)}, nil
}

func (f *fakeServices) SetRoles(ctx context.Context, idOrEmail string, roles []tresor.Role) (*tresor.User, error) {
	u := fakeUser
	u.Roles = roles
	return &u, nil
}

func (f *fakeServices) SetRolesIf(ctx context.Context, idOrEmail string, roles []tresor.Role, _ int64) (*tresor.User, error) {
	return f.SetRoles(ctx, idOrEmail, roles)
}

func (f *fakeServices) SetDisabledIf(ctx context.Context, idOrEmail string, disabled bool, _ int64) (*tresor.User, error) {
	return f.SetDisabled(ctx, idOrEmail, disabled)
}

func (f *fakeServices) SetDisabled(ctx context.Context, idOrEmail string, disabled bool) (*tresor.User, error) {
	u := fakeUser
	if !disabled {
		u.DisabledAt = nil
	}
	return &u, nil
}

func (f *fakeServices) CreatePasswordReset(ctx context.Context, idOrEmail string) (string, time.Time, error) {
	return "reset-secret", fakeTime, nil
}

func (f *fakeServices) InviteUser(ctx context.Context, email string, roles []tresor.Role) (*tresor.User, time.Time, error) {
	if f.noMailer {
		return nil, time.Time{}, tresor.Errorf(tresor.ECMailUnavailable, "No mail server is configured.")
	}
	u := fakeUser
	u.Email, u.Roles = email, []tresor.Role{}
	g := fakeGrant
	u.PendingGrant = &g
	return &u, fakeTime, nil
}

func (f *fakeServices) SendPasswordReset(ctx context.Context, idOrEmail string) (time.Time, error) {
	if f.noMailer || idOrEmail == mailless {
		return time.Time{}, tresor.Errorf(tresor.ECMailUnavailable, "No mail server is configured.")
	}
	return fakeTime, nil
}

func (f *fakeServices) RoleGrants(ctx context.Context, state tresor.GrantState) ([]*tresor.RoleGrant, error) {
	f.filter = state
	g := fakeGrant
	return []*tresor.RoleGrant{&g}, nil
}

func (f *fakeServices) DecideRoleGrant(ctx context.Context, id string, approve bool) (*tresor.RoleGrant, error) {
	if id == refusedID {
		return nil, tresor.Errorf(tresor.ECFourEyes, "A second person decides.")
	}
	g := fakeGrant
	g.State, g.DecidedBy, g.DecidedAt = tresor.GrantApproved, "user:"+adminUserID, &fakeTime
	if !approve {
		g.State = tresor.GrantRejected
	}
	return &g, nil
}

func (f *fakeServices) CountUsers(ctx context.Context) (int, error) { return 1, nil }

func (f *fakeServices) Stats(ctx context.Context) (*tresor.Stats, error) {
	return &tresor.Stats{Contacts: 1, Organizations: 2, Interactions: 3, Deals: 4, Cases: 5, Users: 6}, nil
}

func (f *fakeServices) CreateToken(ctx context.Context, r tresor.TokenRequest) (*tresor.Token, string, error) {
	t := fakeToken
	t.Name, t.Purposes, t.LastUsedAt, t.RevokedAt = r.Name, r.Purposes, nil, nil
	return &t, "tresor_secret", nil
}

func (f *fakeServices) Tokens(ctx context.Context, userIDOrEmail string) ([]*tresor.Token, error) {
	f.filter = userIDOrEmail
	t := fakeToken
	return []*tresor.Token{&t}, nil
}

func (f *fakeServices) RevokeToken(ctx context.Context, id string) error { return nil }

func (f *fakeServices) LogoutEverywhere(ctx context.Context) error { return nil }

func newTestServer(t *testing.T) (*Server, *fakeServices) {
	t.Helper()
	f := &fakeServices{}
	s := New(Services{Contacts: f, Organizations: f, Interactions: f, Deals: f, Cases: f, Auth: f,
		Users: f, Tokens: f, Sessions: f, Consents: f, Campaigns: f, Protection: f, Audit: f, Imports: f, Notices: f, Social: f, Health: f, Tasks: f, Mail: f},
		Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Catalogue: fakeCatalogue, Record: f.record})
	return s, f
}

// inAPIDocument reports whether openapi.json describes the routes of a
// pattern: the JSON API and the operational endpoints. The HTML pages are not
// described there.
func inAPIDocument(pattern string) bool {
	return strings.HasPrefix(pattern, "/api/") || pattern == "/healthz" || pattern == "/readyz" || pattern == "/metrics"
}

// documentedRoutes are the routes openapi.json must describe.
func documentedRoutes(s *Server) []RouteInfo {
	var out []RouteInfo
	for _, r := range s.Routes() {
		if inAPIDocument(r.Pattern) {
			out = append(out, r)
		}
	}
	return out
}

// webPages are the HTML pages for browsers (server/web.go, server/consentpages.go), which openapi.json
// leaves out. A new route is either under /api/ and documented, or added here.
var webPages = []string{
	"GET /requests/new",
	"POST /requests/new",
	"GET /requests/verify",
	"POST /requests/verify",
	"GET /subject-export",
	"POST /subject-export",
	"GET /{$}",
	"GET /static/{file...}",
	"POST /purpose",
	"GET /lang/{lang}",
	"GET /contacts/duplicates",
	"GET /contacts/duplicates/merge",
	"POST /contacts/{id}/merge",
	"GET /login",
	"POST /login",
	"GET /login/mfa",
	"POST /login/mfa",
	"GET /account/mfa",
	"POST /account/mfa",
	"POST /logout",
	"GET /reset-password",
	"POST /reset-password",
	"GET /account",
	"POST /account/password",
	"POST /account/tokens",
	"POST /account/tokens/{id}/revoke",
	"POST /logout/all",
	"GET /auth/oidc/login",
	"GET /auth/oidc/callback",
	"GET /consent/confirm",
	"POST /consent/confirm",
	"GET /consent/withdraw",
	"POST /consent/withdraw",
}

// crudBases returns the collections crud registers: the bases with all five
// routes. Their operations get the checks of TestOpenAPICRUDOperations.
func crudBases(routes []RouteInfo) map[string]bool {
	have := map[string]bool{}
	for _, r := range routes {
		have[r.Method+" "+r.Pattern] = true
	}
	out := map[string]bool{}
	for _, r := range routes {
		b, item := r.Pattern, r.Pattern+"/{id}"
		if r.Method == http.MethodPost && have["GET "+b] && have["GET "+item] && have["PATCH "+item] && have["DELETE "+item] {
			out[b] = true
		}
	}
	return out
}

func inCRUD(bases map[string]bool, pattern string) bool {
	base, isItem := strings.CutSuffix(pattern, "/{id}")
	return bases[pattern] || (isItem && bases[base])
}

// ---- reading the document

type object = map[string]any

func loadOpenAPI(t *testing.T) object {
	t.Helper()
	var doc object
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("openapi.json is not valid JSON: %v", err)
	}
	return doc
}

// pointer resolves a local reference such as "#/components/schemas/Contact".
func pointer(doc any, ref string) (any, error) {
	frag, ok := strings.CutPrefix(ref, "#")
	if !ok {
		return nil, fmt.Errorf("%s does not point into this document", ref)
	}
	frag, err := url.PathUnescape(frag)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", ref, err)
	}
	if frag == "" {
		return doc, nil
	}
	if !strings.HasPrefix(frag, "/") {
		return nil, fmt.Errorf("%s is not a JSON pointer", ref)
	}
	cur := doc
	for _, tok := range strings.Split(frag[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case object:
			v, ok := c[tok]
			if !ok {
				return nil, fmt.Errorf("%s: there is no %q", ref, tok)
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil, fmt.Errorf("%s: there is no element %q", ref, tok)
			}
			cur = c[i]
		default:
			return nil, fmt.Errorf("%s: %q is inside a scalar", ref, tok)
		}
	}
	return cur, nil
}

// deref follows $ref until it reaches an object without one.
func deref(t *testing.T, doc object, v any) object {
	t.Helper()
	for range 32 {
		m, ok := v.(object)
		if !ok {
			return nil
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return m
		}
		if v, _ = pointer(doc, ref); v == nil {
			t.Errorf("dangling reference %s", ref)
			return nil
		}
	}
	t.Errorf("reference cycle at %v", v)
	return nil
}

func member(v any, keys ...string) object {
	m, _ := v.(object)
	for _, k := range keys {
		m, _ = m[k].(object)
	}
	return m
}

func schemaOf(doc object, name string) object { return member(doc, "components", "schemas", name) }

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// operation is one documented method of a path.
type operation struct {
	key      string // "GET /api/v1/contacts"
	path     string
	pathItem object
	op       object
}

func operations(doc object) map[string]operation {
	out := map[string]operation{}
	for path, item := range member(doc, "paths") {
		pi, _ := item.(object)
		for _, m := range httpMethods {
			if op, ok := pi[m].(object); ok {
				key := strings.ToUpper(m) + " " + path
				out[key] = operation{key: key, path: path, pathItem: pi, op: op}
			}
		}
	}
	return out
}

// parameters returns the resolved parameters of an operation, its path's first.
func (o operation) parameters(t *testing.T, doc object) []object {
	var out []object
	for _, list := range []any{o.pathItem["parameters"], o.op["parameters"]} {
		ps, _ := list.([]any)
		for _, p := range ps {
			if r := deref(t, doc, p); r != nil {
				out = append(out, r)
			}
		}
	}
	return out
}

func (o operation) response(t *testing.T, doc object, status string) object {
	r, ok := member(o.op, "responses")[status]
	if !ok {
		return nil
	}
	return deref(t, doc, r)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// header returns the resolved header parameter of an operation with the name.
func (o operation) header(t *testing.T, doc object, name string) object {
	for _, p := range o.parameters(t, doc) {
		if n, _ := p["name"].(string); p["in"] == "header" && strings.EqualFold(n, name) {
			return p
		}
	}
	return nil
}

// properties returns the properties and required members of an object
// schema, those of its allOf parts merged in; ok is false for a schema that
// declares no properties (a free-form object).
func properties(t *testing.T, doc object, sch object) (props object, required []string, ok bool) {
	props = object{}
	for k, v := range member(sch, "properties") {
		props[k] = v
		ok = true
	}
	req, _ := sch["required"].([]any)
	for _, r := range req {
		required = append(required, fmt.Sprint(r))
	}
	all, _ := sch["allOf"].([]any)
	for _, part := range all {
		p, r, partOK := properties(t, doc, deref(t, doc, part))
		for k, v := range p {
			props[k] = v
		}
		required = append(required, r...)
		ok = ok || partOK
	}
	return props, required, ok
}

// conforms checks a decoded JSON value against a schema of the document: its
// type, const and enum, and for an object the members, none undocumented and
// none required missing, down through arrays and nested objects. anyOf and
// oneOf are not followed.
func conforms(t *testing.T, doc object, key string, sch any, v any, at string) {
	t.Helper()
	s := deref(t, doc, sch)
	if s == nil {
		return
	}
	if c, ok := s["const"]; ok && !reflect.DeepEqual(c, v) {
		t.Errorf("%s: %s is %v, documented as %v", key, at, v, c)
	}
	if e, ok := s["enum"].([]any); ok && !slices.ContainsFunc(e, func(x any) bool { return reflect.DeepEqual(x, v) }) {
		t.Errorf("%s: %s is %v, not one of the documented %v", key, at, v, e)
	}
	if ty, ok := s["type"]; ok && !jsonTypeIs(v, ty) {
		t.Errorf("%s: %s is %#v, documented as type %v", key, at, v, ty)
		return
	}
	switch v := v.(type) {
	case object:
		props, required, ok := properties(t, doc, s)
		if !ok {
			return
		}
		for _, k := range sortedKeys(v) {
			if p, ok := props[k]; !ok {
				t.Errorf("%s: the member %s.%s is not documented", key, at, k)
			} else {
				conforms(t, doc, key, p, v[k], at+"."+k)
			}
		}
		for _, k := range required {
			if _, ok := v[k]; !ok {
				t.Errorf("%s: the required member %s.%s is missing", key, at, k)
			}
		}
	case []any:
		if items, ok := s["items"]; ok {
			for i, e := range v {
				conforms(t, doc, key, items, e, fmt.Sprintf("%s[%d]", at, i))
			}
		}
	}
}

// jsonTypeIs reports whether a decoded JSON value has the type, or one of the types, of a schema.
func jsonTypeIs(v any, ty any) bool {
	types, isList := ty.([]any)
	if !isList {
		types = []any{ty}
	}
	for _, want := range types {
		switch x := v.(type) {
		case nil:
			if want == "null" {
				return true
			}
		case bool:
			if want == "boolean" {
				return true
			}
		case float64:
			if want == "number" || (want == "integer" && x == math.Trunc(x)) {
				return true
			}
		case string:
			if want == "string" {
				return true
			}
		case []any:
			if want == "array" {
				return true
			}
		case object:
			if want == "object" {
				return true
			}
		}
	}
	return false
}

// ---- the tests

func TestOpenAPIVersion(t *testing.T) {
	doc := loadOpenAPI(t)
	v, _ := doc["openapi"].(string)
	if !strings.HasPrefix(v, "3.1") {
		t.Errorf("openapi is %q, want 3.1.x", v)
	}
	if member(doc, "info")["title"] == nil || member(doc, "info")["version"] == nil {
		t.Error("info needs a title and a version")
	}
}

// TestOpenAPIMatchesRoutes compares the routes of the JSON API and the
// operational endpoints with the documented operations in both directions.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc := loadOpenAPI(t)
	s, _ := newTestServer(t)
	registered := map[string]bool{}
	for _, r := range documentedRoutes(s) {
		registered[r.Method+" "+r.Pattern] = true
	}
	documented := operations(doc)
	for _, k := range sortedKeys(registered) {
		if _, ok := documented[k]; !ok {
			t.Errorf("route %s is registered but not in openapi.json", k)
		}
	}
	for _, k := range sortedKeys(documented) {
		if !registered[k] {
			t.Errorf("openapi.json documents %s, but no such API route is registered", k)
		}
	}

	ids := map[string]string{}
	for _, k := range sortedKeys(documented) {
		o := documented[k]
		id, _ := o.op["operationId"].(string)
		if id == "" {
			t.Errorf("%s has no operationId", k)
		} else if prev, dup := ids[id]; dup {
			t.Errorf("%s and %s share the operationId %q", prev, k, id)
		}
		ids[id] = k
		// Every template variable is a required path parameter, and back.
		inPath := map[string]bool{}
		for _, seg := range strings.Split(o.path, "/") {
			if name, ok := strings.CutPrefix(seg, "{"); ok {
				inPath[strings.TrimSuffix(name, "}")] = true
			}
		}
		declared := map[string]bool{}
		for _, p := range o.parameters(t, doc) {
			if p["in"] != "path" {
				continue
			}
			name, _ := p["name"].(string)
			declared[name] = true
			if !inPath[name] {
				t.Errorf("%s declares the path parameter %q, which the path does not have", k, name)
			}
			if p["required"] != true {
				t.Errorf("%s: the path parameter %q must be required", k, name)
			}
		}
		for _, name := range sortedKeys(inPath) {
			if !declared[name] {
				t.Errorf("%s does not declare the path parameter %q", k, name)
			}
		}
		if len(member(o.op, "responses")) == 0 {
			t.Errorf("%s documents no responses", k)
		}
	}
}

// workspaceAreas are the paths of the workspace's areas (server/workspace.go):
// their routes are pages for browsers.
var workspaceAreas = []string{"/contacts", "/organizations", "/deals", "/cases", "/campaigns", "/imports", "/channels", "/dpo", "/admin", "/tasks", "/segments", "/listening"}

func isWorkspacePage(route string) bool {
	_, pattern, _ := strings.Cut(route, " ")
	for _, a := range workspaceAreas {
		if pattern == a || strings.HasPrefix(pattern, a+"/") {
			return true
		}
	}
	return false
}

// TestOpenAPILeavesOutPages checks that every route openapi.json leaves out
// is a known HTML page, and that it answers a browser without credentials
// with a page or a redirect, never with JSON.
func TestOpenAPILeavesOutPages(t *testing.T) {
	s, _ := newTestServer(t)
	known := map[string]bool{}
	for _, p := range webPages {
		known[p] = true
	}
	pages := map[string]bool{}
	for _, r := range s.Routes() {
		if !inAPIDocument(r.Pattern) {
			pages[r.Method+" "+r.Pattern] = true
		}
	}
	for _, k := range sortedKeys(pages) {
		if !known[k] && !isWorkspacePage(k) {
			t.Errorf("route %s is neither in the API (under /api/, documented in openapi.json) nor a known page: classify it", k)
		}
	}
	for _, k := range sortedKeys(known) {
		if !pages[k] {
			t.Errorf("the page %s is not registered (or moved under /api/); update webPages", k)
		}
	}

	for _, r := range s.Routes() {
		if inAPIDocument(r.Pattern) {
			continue
		}
		key := r.Method + " " + r.Pattern
		target := strings.ReplaceAll(strings.ReplaceAll(r.Pattern, "{$}", ""), "{id}", testID)
		req := httptest.NewRequest(r.Method, target, nil)
		if r.Method == http.MethodPost {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, req)
		mt, _, _ := mime.ParseMediaType(w.Header().Get("Content-Type"))
		want := "text/html"
		if strings.HasPrefix(r.Pattern, "/static/") && strings.HasSuffix(r.Pattern, ".css") {
			want = "text/css"
		}
		switch {
		case w.Code == http.StatusSeeOther || w.Code == http.StatusFound:
			if w.Header().Get("Location") == "" {
				t.Errorf("%s redirects without a Location", key)
			}
		case w.Code >= 500:
			t.Errorf("%s without credentials: status %d: %s", key, w.Code, w.Body)
		case mt != want:
			t.Errorf("%s without credentials: status %d with %q, want a redirect or %s", key, w.Code, mt, want)
		}
	}
}

// TestOpenAPIPermissions checks the purpose header, the security, the CSRF
// header and the 401 and 403 responses of every route against its permission.
func TestOpenAPIPermissions(t *testing.T) {
	doc := loadOpenAPI(t)
	s, _ := newTestServer(t)
	ops := operations(doc)
	schemes := member(doc, "components", "securitySchemes")

	// The schemes: an API token, or the session cookie under its plain-HTTP
	// name (the description names the one used under HTTPS).
	kindOf := map[string]string{} // scheme name -> "bearer" or "session"
	for _, name := range sortedKeys(schemes) {
		sch := member(schemes, name)
		switch {
		case sch["type"] == "http" && strings.EqualFold(fmt.Sprint(sch["scheme"]), "bearer"):
			kindOf[name] = "bearer"
		case sch["type"] == "apiKey" && sch["in"] == "cookie":
			kindOf[name] = "session"
			if sch["name"] != s.cookieName() {
				t.Errorf("security scheme %q names the cookie %v; the server sets %s", name, sch["name"], s.cookieName())
			}
			tlsName := (&Server{tls: true}).cookieName()
			if desc, _ := sch["description"].(string); !strings.Contains(desc, tlsName) {
				t.Errorf("security scheme %q does not mention the cookie name under HTTPS, %s", name, tlsName)
			}
		default:
			t.Errorf("security scheme %q is neither HTTP bearer nor the session cookie", name)
		}
	}

	for _, r := range documentedRoutes(s) {
		key := r.Method + " " + r.Pattern
		o, ok := ops[key]
		if !ok {
			continue // reported by TestOpenAPIMatchesRoutes
		}
		purpose := o.header(t, doc, PurposeHeader)
		switch {
		case r.Permission == Purpose && purpose == nil:
			t.Errorf("%s needs a purpose but does not declare the %s header", key, PurposeHeader)
		case r.Permission == Purpose && purpose["required"] != true:
			t.Errorf("%s: the %s header must be required", key, PurposeHeader)
		case r.Permission != Purpose && purpose != nil:
			t.Errorf("%s is %s and needs no purpose, but declares the %s header", key, r.Permission, PurposeHeader)
		}

		// Changes made with the session cookie need the session's form token.
		csrf := o.header(t, doc, CSRFHeader)
		needsCSRF := r.Permission != Public && unsafeMethod(r.Method)
		switch {
		case needsCSRF && csrf == nil:
			t.Errorf("%s changes state with a session but does not declare the %s header", key, CSRFHeader)
		case needsCSRF && csrf["required"] == true:
			t.Errorf("%s: the %s header is optional (API tokens need none)", key, CSRFHeader)
		case !needsCSRF && csrf != nil:
			t.Errorf("%s declares the %s header, which it does not check", key, CSRFHeader)
		}

		sec, explicit := o.op["security"]
		if !explicit {
			sec = doc["security"]
		}
		reqs, isList := sec.([]any)
		if sec != nil && !isList {
			t.Errorf("%s: security is not a list", key)
			continue
		}
		if r.Permission == Public {
			if len(reqs) != 0 {
				t.Errorf("%s is public but its security is %v; want []", key, sec)
			}
			continue
		}
		// Either credential alone: [{bearer: []}, {session: []}].
		offered := map[string]bool{}
		for _, req := range reqs {
			m, _ := req.(object)
			if len(m) != 1 {
				t.Errorf("%s: the security requirement %v must name exactly one scheme (an empty one makes authentication optional, two would require both)", key, req)
			}
			for name := range m {
				if kind, ok := kindOf[name]; !ok {
					t.Errorf("%s: unknown security scheme %q", key, name)
				} else {
					offered[kind] = true
				}
			}
		}
		if !offered["bearer"] || !offered["session"] {
			t.Errorf("%s accepts an API token or a session cookie, but its security is %v", key, sec)
		}
		if o.response(t, doc, "401") == nil {
			t.Errorf("%s needs authentication but does not document 401", key)
		}
		var why string
		switch {
		case r.Permission == Purpose:
			why = "the roles must permit the purpose (purpose_not_permitted)"
		case len(r.Permission.Roles()) > 0:
			why = "it needs one of the roles " + strings.TrimPrefix(string(r.Permission), "roles:") + " (forbidden)"
		case unsafeMethod(r.Method):
			why = "a change with the session cookie but without " + CSRFHeader + " is refused (csrf_failed)"
		default:
			why = "a session still waiting for its second factor is refused (mfa_required)"
		}
		if o.response(t, doc, "403") == nil {
			t.Errorf("%s does not document 403: %s", key, why)
		}
	}
}

// TestOpenAPICRUDOperations checks what crud does for every collection:
// If-Match, merge-patch bodies, ETag and Location; and for every operation
// problem+json errors and required request bodies.
// readsIfMatch are routes outside the generic CRUD that read If-Match.
var readsIfMatch = map[string]bool{"PATCH /api/v1/breaches/{id}": true, "POST /api/v1/breaches/{id}/state": true}

func TestOpenAPICRUDOperations(t *testing.T) {
	doc := loadOpenAPI(t)
	s, _ := newTestServer(t)
	ops := operations(doc)
	routes := documentedRoutes(s)
	bases := crudBases(routes)
	for _, b := range []string{"/api/v1/contacts", "/api/v1/organizations", "/api/v1/interactions", "/api/v1/deals", "/api/v1/cases", "/api/v1/pipelines", "/api/v1/campaigns"} {
		if !bases[b] {
			t.Errorf("%s is not recognised as a collection of crud", b)
		}
	}
	for _, r := range routes {
		key := r.Method + " " + r.Pattern
		o, ok := ops[key]
		if !ok {
			continue
		}
		crudRoute := inCRUD(bases, r.Pattern)
		item := strings.HasSuffix(r.Pattern, "/{id}")
		ifMatch := o.header(t, doc, "If-Match")
		conditional := crudRoute && item && (r.Method == http.MethodPatch || r.Method == http.MethodDelete) || readsIfMatch[key]
		switch {
		case conditional && ifMatch == nil:
			t.Errorf("%s does not declare the If-Match header", key)
		case conditional && ifMatch["required"] == true:
			t.Errorf("%s: If-Match is optional", key)
		case !conditional && ifMatch != nil:
			t.Errorf("%s declares If-Match, which it does not read", key)
		}

		body := deref(t, doc, o.op["requestBody"])
		var media []string
		for mt := range member(body, "content") {
			media = append(media, mt)
		}
		sort.Strings(media)
		if body != nil && body["required"] != true {
			t.Errorf("%s: the request body is required", key)
		}
		if body != nil && len(media) == 0 {
			t.Errorf("%s: the request body names no media type", key)
		}
		for _, mt := range media {
			if mt != "application/json" && mt != "application/merge-patch+json" && !fileBodies[key] {
				t.Errorf("%s: the request body is JSON, not %s", key, mt)
			}
		}

		for status, resp := range member(o.op, "responses") {
			if n, _ := strconv.Atoi(status); n < 400 {
				continue
			}
			content := member(deref(t, doc, resp), "content")
			ref := member(content, "application/problem+json", "schema")["$ref"]
			if len(content) != 1 || ref != "#/components/schemas/Problem" {
				t.Errorf("%s: response %s must be application/problem+json with the Problem schema", key, status)
			}
		}

		if !crudRoute {
			continue // the identity operations are checked live in TestOpenAPIDescribesResponses
		}
		wantHeaders := map[string]string{} // status -> header
		var wantMedia []string
		switch {
		case r.Method == http.MethodPost:
			wantHeaders["201"] = "ETag Location"
			wantMedia = []string{"application/json"}
		case item && r.Method == http.MethodGet:
			wantHeaders["200"] = "ETag"
		case item && r.Method == http.MethodPatch:
			wantHeaders["200"] = "ETag"
			wantMedia = []string{"application/json", "application/merge-patch+json"}
		case item && r.Method == http.MethodDelete:
			if o.response(t, doc, "204") == nil {
				t.Errorf("%s does not document 204", key)
			}
		}
		for status, hs := range wantHeaders {
			resp := o.response(t, doc, status)
			if resp == nil {
				t.Errorf("%s does not document %s", key, status)
				continue
			}
			for _, h := range strings.Fields(hs) {
				if member(resp, "headers", h) == nil {
					t.Errorf("%s: response %s does not document the %s header", key, status, h)
				}
			}
		}
		if !slices.Equal(media, wantMedia) {
			t.Errorf("%s: request body media types are %v, want %v", key, media, wantMedia)
		}
	}
}

// fileBodies are the operations whose request body is a file in a format of
// its own, read as it comes whatever its media type, not JSON.
var fileBodies = map[string]bool{"POST /api/v1/imports": true}

// jsonField is a member of the JSON of a struct type.
type jsonField struct {
	name string
	typ  reflect.Type
}

// jsonFieldsOf returns the JSON members of a struct type as encoding/json
// writes them: embedded structs flattened, `json:"-"` skipped.
func jsonFieldsOf(t reflect.Type) []jsonField {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var out []jsonField
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if f.Anonymous && name == "" && ft.Kind() == reflect.Struct {
			out = append(out, jsonFieldsOf(ft)...)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, jsonField{name, f.Type})
	}
	return out
}

// jsonFields returns the JSON member names of a struct type.
func jsonFields(t reflect.Type) []string {
	var out []string
	for _, f := range jsonFieldsOf(t) {
		out = append(out, f.name)
	}
	return out
}

var (
	jsonMarshaler = reflect.TypeFor[json.Marshaler]()
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
)

// nestedStruct returns the struct type a field of type t holds as a JSON
// object, directly or as the elements of a list or map, or nil. Types that
// write their own JSON (time.Time, tresor.Date) are not objects.
func nestedStruct(t reflect.Type) reflect.Type {
	for {
		switch t.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
			t = t.Elem()
			continue
		case reflect.Struct:
			for _, m := range []reflect.Type{jsonMarshaler, textMarshaler} {
				if t.Implements(m) || reflect.PointerTo(t).Implements(m) {
					return nil
				}
			}
			return t
		}
		return nil
	}
}

// refSchema returns the name of the component schema a property refers to,
// directly or through the items of an array or the values of a map.
func refSchema(prop object) string {
	for range 8 {
		if ref, ok := prop["$ref"].(string); ok {
			return strings.TrimPrefix(ref, "#/components/schemas/")
		}
		if items := member(prop, "items"); items != nil {
			prop = items
		} else if values := member(prop, "additionalProperties"); values != nil {
			prop = values
		} else {
			return ""
		}
	}
	return ""
}

// purposeList is the JSON of GET /api/v1/purposes.
type purposeList struct {
	Items []tresor.PurposeInfo `json:"items"`
}

// noticesSent is the JSON of POST /api/v1/notices/send.
type noticesSent struct {
	Sent         int `json:"sent"`
	OtherChannel int `json:"other_channel"`
}

// holdList is the JSON of GET /api/v1/contacts/{id}/holds.
type holdList struct {
	Items []tresor.LegalHold `json:"items"`
}

// channelList is the JSON of GET /api/v1/channels.
type channelList struct {
	Items []tresor.SocialChannel `json:"items"`
}

// screenedProfile is the JSON of GET /api/v1/channels/{id}/profile.
type screenedProfile struct {
	Profile *tresor.SocialProfile `json:"profile"`
	Dropped []string              `json:"dropped"`
}

// metaOf returns the members of tresor.MetaFields and tresor.StateFields a type has: not every
// object is archived with a customer relation (archived_at) or has sealed
// fields that can be damaged (damaged).
func metaOf(t reflect.Type) []string {
	fields := jsonFields(t)
	var out []string
	for _, f := range slices.Concat(tresor.MetaFields, tresor.StateFields) {
		if slices.Contains(fields, f) {
			out = append(out, f)
		}
	}
	return out
}

// TestOpenAPISchemasMatchGoTypes compares the schemas with the Go types by
// reflection: the properties, the read-only fields, the data categories, the
// enumerations, and the schemas of nested objects.
func TestOpenAPISchemasMatchGoTypes(t *testing.T) {
	doc := loadOpenAPI(t)
	meta := func(v any) []string { return metaOf(reflect.TypeOf(v)) }
	// The state fields of a record: set by Tresor, never by a client.
	provenance := []string{"provenance", "withheld"}
	tests := []struct {
		schema   string
		typ      reflect.Type
		readOnly []string // nil: not checked
	}{
		{"Contact", reflect.TypeOf(tresor.Contact{}), slices.Concat(meta(tresor.Contact{}), provenance, []string{"restricted_at", "objected_at", "last_interaction_at"})},
		{"Organization", reflect.TypeOf(tresor.Organization{}), meta(tresor.Organization{})},
		{"Interaction", reflect.TypeOf(tresor.Interaction{}), slices.Concat(meta(tresor.Interaction{}), provenance, []string{"retain_until"})},
		{"Deal", reflect.TypeOf(tresor.Deal{}), append(meta(tresor.Deal{}), "closed_at")},
		{"Pipeline", reflect.TypeOf(tresor.Pipeline{}), []string{"created_at", "updated_at", "version"}}, // the client names the id
		{"Stage", reflect.TypeOf(tresor.Stage{}), []string{}},
		{"Case", reflect.TypeOf(tresor.Case{}), slices.Concat(meta(tresor.Case{}), provenance, []string{"resolved_at"})},
		{"PostalAddress", reflect.TypeOf(tresor.PostalAddress{}), []string{}},
		{"SocialHandle", reflect.TypeOf(tresor.SocialHandle{}), []string{}},
		{"ProvenanceRecord", reflect.TypeOf(tresor.ProvenanceRecord{}), []string{}}, // read-only where it is used
		{"Problem", reflect.TypeOf(problem{}), nil},
		{"Explanation", reflect.TypeOf(explanation{}), nil},
		{"FieldError", reflect.TypeOf(tresor.FieldError{}), nil},
		{"ContactList", reflect.TypeOf(listBody[*tresor.Contact]{}), nil},
		{"OrganizationList", reflect.TypeOf(listBody[*tresor.Organization]{}), nil},
		{"InteractionList", reflect.TypeOf(listBody[*tresor.Interaction]{}), nil},
		{"DealList", reflect.TypeOf(listBody[*tresor.Deal]{}), nil},
		{"PipelineList", reflect.TypeOf(listBody[*tresor.Pipeline]{}), nil},
		{"CaseList", reflect.TypeOf(listBody[*tresor.Case]{}), nil},
		{"DuplicateList", reflect.TypeOf(listBody[*tresor.Duplicate]{}), nil},
		{"Duplicate", reflect.TypeOf(tresor.Duplicate{}), []string{}},
		{"MergeRequest", reflect.TypeOf(tresor.MergeRequest{}), []string{}},
		{"MergeResult", reflect.TypeOf(tresor.MergeResult{}), []string{}},
		// Users, tokens and counts: answers only, so no read-only marks.
		{"User", reflect.TypeOf(tresor.User{}), []string{}},
		{"UserList", reflect.TypeOf(listBody[*tresor.User]{}), nil},
		{"NewUser", reflect.TypeOf(newUser{}), []string{}},
		{"UserChange", reflect.TypeOf(userChange{}), []string{}},
		{"MailedLink", reflect.TypeOf(mailedLink{}), []string{}},
		{"RoleGrant", reflect.TypeOf(tresor.RoleGrant{}), []string{}},
		{"Token", reflect.TypeOf(tresor.Token{}), []string{}},
		{"TokenRequest", reflect.TypeOf(tresor.TokenRequest{}), []string{}},
		{"CreatedToken", reflect.TypeOf(createdToken{}), []string{}},
		{"Stats", reflect.TypeOf(tresor.Stats{}), []string{}},
		// The privacy engine: requests, answers, and campaigns.
		{"PurposeInfo", reflect.TypeOf(tresor.PurposeInfo{}), []string{}},
		{"PurposeList", reflect.TypeOf(purposeList{}), nil},
		{"ConsentRequest", reflect.TypeOf(tresor.ConsentRequest{}), []string{}},
		{"ConsentProof", reflect.TypeOf(tresor.ConsentProof{}), []string{}},
		{"ConsentStatus", reflect.TypeOf(tresor.ConsentStatus{}), []string{}},
		{"ConsentEvent", reflect.TypeOf(tresor.ConsentEvent{}), []string{}},
		{"ConsentHistory", reflect.TypeOf(tresor.ConsentHistory{}), []string{}},
		{"Reason", reflect.TypeOf(tresor.Reason{}), []string{}},
		{"ReachDecision", reflect.TypeOf(tresor.ReachDecision{}), []string{}},
		{"Restriction", reflect.TypeOf(restriction{}), []string{}},
		{"ContactExport", reflect.TypeOf(contactExportBody{}), []string{}},
		{"Campaign", reflect.TypeOf(tresor.Campaign{}), append(meta(tresor.Campaign{}), "sent_at")},
		{"CampaignContent", reflect.TypeOf(tresor.CampaignContent{}), []string{}},
		{"Segment", reflect.TypeOf(tresor.Segment{}), []string{}},
		{"CampaignList", reflect.TypeOf(listBody[*tresor.Campaign]{}), nil},
		{"Audience", reflect.TypeOf(tresor.Audience{}), []string{}},
		{"SendReport", reflect.TypeOf(tresor.SendReport{}), []string{}},
		// Erasure, legal holds and retention.
		{"EraseRequest", reflect.TypeOf(tresor.EraseRequest{}), []string{}},
		{"Erasure", reflect.TypeOf(tresor.Erasure{}), []string{}},
		{"ErasedRecords", reflect.TypeOf(tresor.ErasedRecords{}), []string{}},
		{"HoldRequest", reflect.TypeOf(holdRequest{}), []string{}},
		{"LegalHold", reflect.TypeOf(tresor.LegalHold{}), []string{}},
		{"LegalHoldList", reflect.TypeOf(holdList{}), nil},
		{"RetentionRequest", reflect.TypeOf(retentionRequest{}), []string{}},
		{"RetentionReport", reflect.TypeOf(tresor.RetentionReport{}), []string{}},
		{"RetentionAction", reflect.TypeOf(tresor.RetentionAction{}), []string{}},
		// The breach register (Art. 33/34).
		{"Breach", reflect.TypeOf(tresor.Breach{}), append(meta(tresor.Breach{}), "state", "notified_at", "closed_at", "scope", "deadline", "remaining_seconds", "overdue", "actions")},
		{"BreachList", reflect.TypeOf(listBody[*tresor.Breach]{}), nil},
		{"ListeningTopic", reflect.TypeOf(tresor.ListeningTopic{}), []string{"id", "purpose", "epsilon_spent", "epsilon_per_query", "cursors", "created_by", "created_at", "updated_at", "version"}},
		{"ListeningTopicList", reflect.TypeOf(topicList{}), nil},
		{"ListeningTopicPatch", reflect.TypeOf(tresor.ListeningTopicPatch{}), []string{}},
		{"ListeningTrend", reflect.TypeOf(tresor.ListeningTrend{}), []string{}},
		{"TrendBucket", reflect.TypeOf(tresor.TrendBucket{}), []string{}},
		{"TrendTerm", reflect.TypeOf(tresor.TrendTerm{}), []string{}},
		{"TrendNoise", reflect.TypeOf(tresor.TrendNoise{}), []string{}},
		{"SentimentCounts", reflect.TypeOf(tresor.SentimentCounts{}), []string{}},
		{"BreachAction", reflect.TypeOf(tresor.BreachAction{}), []string{}},
		{"BreachScope", reflect.TypeOf(tresor.BreachScope{}), []string{}},
		{"BreachDrafts", reflect.TypeOf(tresor.BreachDrafts{}), []string{}},
		{"BreachPeopleNotice", reflect.TypeOf(tresor.BreachPeopleNotice{}), []string{}},
		{"BreachPeopleNotified", reflect.TypeOf(tresor.BreachPeopleNotified{}), []string{}},
		// The audit trail.
		{"AuditEntry", reflect.TypeOf(tresor.AuditEntry{}), []string{}},
		{"AuditEntryList", reflect.TypeOf(listBody[*tresor.AuditEntry]{}), nil},
		// Imports and the information duties they create.
		{"ImportReport", reflect.TypeOf(tresor.ImportReport{}), []string{}},
		{"ImportRowError", reflect.TypeOf(tresor.ImportRowError{}), []string{}},
		{"ImportExplained", reflect.TypeOf(tresor.ImportExplained{}), []string{}},
		{"ImportRowRange", reflect.TypeOf(tresor.ImportRowRange{}), []string{}},
		{"ImportRecord", reflect.TypeOf(tresor.ImportRecord{}), []string{}},
		{"ImportProgress", reflect.TypeOf(tresor.ImportProgress{}), []string{}},
		{"ImportRecordList", reflect.TypeOf(listBody[*tresor.ImportRecord]{}), nil},
		{"Notice", reflect.TypeOf(tresor.Notice{}), []string{}},
		{"NoticeList", reflect.TypeOf(listBody[*tresor.Notice]{}), nil},
		{"NoticesSent", reflect.TypeOf(noticesSent{}), []string{}},
		// The register of requests of data subjects.
		{"DataRequest", reflect.TypeOf(tresor.Request{}), meta(tresor.Request{})},
		{"RequestEvent", reflect.TypeOf(tresor.RequestEvent{}), []string{}},
		{"NewDataRequest", reflect.TypeOf(tresor.NewRequest{}), []string{}},
		{"RequestStateChange", reflect.TypeOf(RequestStateChange{}), []string{}},
		{"RequestExtension", reflect.TypeOf(RequestExtension{}), []string{}},
		{"SubjectExportSent", reflect.TypeOf(tresor.SubjectExportSent{}), []string{}},
		{"RequestAnswer", reflect.TypeOf(tresor.RequestAnswer{}), []string{}},
		{"RequestAnswerDraft", reflect.TypeOf(tresor.RequestAnswerDraft{}), []string{}},
		{"RequestAnswerSend", reflect.TypeOf(tresor.RequestAnswerSend{}), []string{}},
		{"DataRequestList", reflect.TypeOf(listBody[*tresor.Request]{}), nil},
		{"NoticeGivenRequest", reflect.TypeOf(noticeGivenRequest{}), []string{}},
		// The decisions on requests that change data.
		{"FieldChange", reflect.TypeOf(tresor.FieldChange{}), []string{}},
		{"Rectification", reflect.TypeOf(tresor.Rectification{}), []string{}},
		{"Rectified", reflect.TypeOf(tresor.Rectified{}), []string{}},
		{"Recipient", reflect.TypeOf(tresor.Recipient{}), []string{}},
		{"RecipientList", reflect.TypeOf(recipientList{}), nil},
		{"RecipientsNotice", reflect.TypeOf(tresor.RecipientsNotice{}), []string{}},
		{"CompellingGrounds", reflect.TypeOf(tresor.CompellingGrounds{}), []string{}},
		{"Lift", reflect.TypeOf(tresor.Lift{}), []string{}},
		{"RetainedKept", reflect.TypeOf(tresor.RetainedKept{}), []string{}},
		{"ErasureOutcome", reflect.TypeOf(tresor.ErasureOutcome{}), []string{}},
		{"Erased", reflect.TypeOf(tresor.Erased{}), []string{}},
		// The company's social channels.
		{"SocialChannel", reflect.TypeOf(tresor.SocialChannel{}), []string{}},
		{"SocialChannelRequest", reflect.TypeOf(tresor.SocialChannelRequest{}), []string{}},
		{"ChannelList", reflect.TypeOf(channelList{}), nil},
		{"PostRequest", reflect.TypeOf(postRequest{}), []string{}},
		{"Post", reflect.TypeOf(tresor.Post{}), []string{}},
		{"PostList", reflect.TypeOf(listBody[*tresor.Post]{}), nil},
		{"SocialMessageRequest", reflect.TypeOf(messageRequest{}), []string{}},
		{"InboxReport", reflect.TypeOf(tresor.InboxReport{}), []string{}},
		{"SocialProfile", reflect.TypeOf(tresor.SocialProfile{}), []string{}},
		{"ProfileField", reflect.TypeOf(tresor.ProfileField{}), []string{}},
		{"ScreenedProfile", reflect.TypeOf(screenedProfile{}), nil},
		// The record of processing activities (Art. 30).
		{"ProcessingRecord", reflect.TypeOf(tresor.ProcessingRecord{}), []string{}},
		{"RecordParty", reflect.TypeOf(tresor.RecordParty{}), []string{}},
		{"ProcessingActivity", reflect.TypeOf(tresor.ProcessingActivity{}), []string{}},
		{"RecordLegalBasis", reflect.TypeOf(tresor.RecordLegalBasis{}), []string{}},
		{"RecordCategory", reflect.TypeOf(tresor.RecordCategory{}), []string{}},
		{"RecordTransfer", reflect.TypeOf(tresor.RecordTransfer{}), []string{}},
		{"RecordMeasure", reflect.TypeOf(tresor.RecordMeasure{}), []string{}},
		{"InformationText", reflect.TypeOf(tresor.InformationText{}), []string{}},
	}
	schemaFor := map[reflect.Type]string{}
	for _, tt := range tests {
		schemaFor[tt.typ] = tt.schema
	}
	for _, tt := range tests {
		sch := schemaOf(doc, tt.schema)
		if sch == nil {
			t.Errorf("openapi.json has no schema %s", tt.schema)
			continue
		}
		props, required, _ := properties(t, doc, sch)
		fields := jsonFields(tt.typ)
		inGo := map[string]bool{}
		for _, f := range fields {
			if inGo[f] {
				t.Errorf("%s: the JSON field %q appears twice in the Go type", tt.typ, f)
			}
			inGo[f] = true
		}
		for _, f := range fields {
			if _, ok := props[f]; !ok {
				t.Errorf("schema %s lacks the property %q of %s", tt.schema, f, tt.typ)
			}
		}
		for _, p := range sortedKeys(props) {
			if !inGo[p] {
				t.Errorf("schema %s has the property %q, which %s does not have", tt.schema, p, tt.typ)
			}
		}
		for _, r := range required {
			if _, ok := props[r]; !ok {
				t.Errorf("schema %s requires %v, which is not one of its properties", tt.schema, r)
			}
		}
		if tt.readOnly != nil {
			var ro []string
			for _, p := range sortedKeys(props) {
				if member(props, p)["readOnly"] == true {
					ro = append(ro, p)
				}
			}
			want := slices.Sorted(slices.Values(tt.readOnly))
			if !slices.Equal(ro, want) {
				t.Errorf("schema %s: the read-only properties are %v, want %v", tt.schema, ro, want)
			}
		}
		// A member that holds an object (or a list or map of them) refers to
		// the schema of its Go type, which this table checks in turn.
		for _, f := range jsonFieldsOf(tt.typ) {
			nested := nestedStruct(f.typ)
			if nested == nil {
				continue
			}
			want, known := schemaFor[nested]
			if !known {
				t.Errorf("%s.%s holds a %s, which has no schema in this test; add it", tt.typ, f.name, nested)
				continue
			}
			if _, ok := props[f.name]; ok {
				if got := refSchema(member(props, f.name)); got != want {
					t.Errorf("schema %s: %q refers to the schema %q; its Go type %s is described by %s", tt.schema, f.name, got, nested, want)
				}
			}
		}
	}

	// Every personal field names its category, and no other field does.
	for _, tt := range []struct {
		schema string
		typ    reflect.Type
	}{
		{"Contact", reflect.TypeOf(tresor.Contact{})},
		{"Organization", reflect.TypeOf(tresor.Organization{})},
		{"Interaction", reflect.TypeOf(tresor.Interaction{})},
		{"Deal", reflect.TypeOf(tresor.Deal{})},
		{"Case", reflect.TypeOf(tresor.Case{})},
	} {
		personal := map[string]tresor.Category{}
		for _, f := range tresor.PersonalFields(tt.typ) {
			personal[f.Name] = f.Category
		}
		props := member(schemaOf(doc, tt.schema), "properties")
		for _, p := range sortedKeys(props) {
			got, has := member(props, p)["x-tresor-category"]
			want, isPersonal := personal[p]
			switch {
			case isPersonal && !has:
				t.Errorf("schema %s: the personal field %q lacks x-tresor-category (%s)", tt.schema, p, want)
			case isPersonal && got != string(want):
				t.Errorf("schema %s: %q has x-tresor-category %v; its Go category tag is %s", tt.schema, p, got, want)
			case !isPersonal && has:
				t.Errorf("schema %s: %q has x-tresor-category %v but is not a personal field", tt.schema, p, got)
			}
		}
	}

	// The enumerations are the Go lists, in the same order.
	for name, want := range map[string][]string{
		"LegalBasis":      strs(tresor.LegalBases()),
		"Source":          strs(tresor.Sources()),
		"Category":        strs(tresor.Categories()),
		"InteractionKind": strs(tresor.InteractionKinds()),
		"Direction":       strs(tresor.Directions()),
		"Outcome":         strs(tresor.Outcomes()),
		"CaseStatus":      strs(tresor.CaseStatuses()),
		"Priority":        strs(tresor.Priorities()),
		"Channel":         strs(tresor.Channels()),
		"Role":            strs(tresor.Roles()),
		"ErrorCode":       strs(tresor.Codes()),
		"Visibility":      strs(tresor.Visibilities()),
		"ConsentState": strs([]tresor.ConsentState{tresor.ConsentUnknown, tresor.ConsentPending, tresor.ConsentGranted,
			tresor.ConsentWithdrawn, tresor.ConsentExpired}),
		"ConsentAction":      strs([]tresor.ConsentAction{tresor.ConsentGrant, tresor.ConsentWithdraw}),
		"ConsentEventAction": strs([]tresor.ConsentAction{tresor.ConsentAsk, tresor.ConsentGrant, tresor.ConsentWithdraw}),
		"ConsentMethod":      strs(tresor.ConsentMethods()),
		// Events also carry the methods Tresor records itself.
		"ConsentEventMethod": strs([]tresor.ConsentMethod{tresor.MethodWebForm, tresor.MethodDoubleOptIn, tresor.MethodPaper,
			tresor.MethodImport, tresor.MethodLink, tresor.MethodObjection, tresor.MethodRequest}),
		"ErasureOrigin": strs([]tresor.ErasureOrigin{tresor.ErasureRequest, tresor.ErasureDelete, tresor.ErasureRetention, tresor.ErasureMerge}),
		"AuditDecision": strs([]tresor.Decision{tresor.Allowed, tresor.Refused, gate.Failed}),
		"ImportFormat":  strs([]importer.Format{importer.LinkedIn, importer.VCard, importer.MastodonFollowing, importer.CSV}),
	} {
		list, _ := schemaOf(doc, name)["enum"].([]any)
		got := make([]string, len(list))
		for i, v := range list {
			got[i] = fmt.Sprint(v)
		}
		if !slices.Equal(got, want) {
			t.Errorf("schema %s: enum is %v, want %v", name, got, want)
		}
	}

	outbound, _ := member(schemaOf(doc, "PurposeInfo"), "properties", "outbound")["enum"].([]any)
	if want := []any{string(policy.OutboundAdvertising), string(policy.OutboundReply), string(policy.OutboundNone)}; !slices.Equal(outbound, want) {
		t.Errorf("PurposeInfo.outbound: enum is %v, want %v", outbound, want)
	}

	// The pattern of a consent channel accepts exactly what the gate accepts.
	pattern, _ := schemaOf(doc, "ConsentChannel")["pattern"].(string)
	if re, err := regexp.Compile(pattern); err != nil {
		t.Errorf("ConsentChannel: the pattern %q: %v", pattern, err)
	} else {
		for _, ch := range []string{"email", "phone", "postal", "social_dm:mastodon", "social_mention:bluesky", "social_dm:x-y_z",
			"", "sms", "Email", "email ", "social_dm:", "social_dm:M", "social_post:mastodon", "social_dm:mastodon:x", "postal:de"} {
			_, err := tresor.ParseConsentChannel(ch)
			if re.MatchString(ch) != (err == nil) {
				t.Errorf("ConsentChannel: the pattern %s matches %q: %v, but the gate accepts it: %v", pattern, ch, re.MatchString(ch), err == nil)
			}
		}
	}
	// So does the pattern of a purpose id, for the ids of the default policy.
	pattern, _ = schemaOf(doc, "PurposeId")["pattern"].(string)
	if re, err := regexp.Compile(pattern); err != nil {
		t.Errorf("PurposeId: the pattern %q: %v", pattern, err)
	} else {
		for _, id := range []string{"sales", "marketing", "service", "pr", "analytics", "data_protection"} {
			if !re.MatchString(id) {
				t.Errorf("PurposeId: the pattern %s does not match the purpose %q", pattern, id)
			}
		}
	}

	limit := member(doc, "components", "parameters", "Limit", "schema")
	if limit["minimum"] != 1.0 || limit["maximum"] != float64(tresor.MaxPageSize) || limit["default"] != float64(tresor.DefaultPageSize) {
		t.Errorf("the limit parameter is %v; want minimum 1, maximum %d, default %d", limit, tresor.MaxPageSize, tresor.DefaultPageSize)
	}
}

func strs[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// TestOpenAPIRefsResolve fails on a dangling $ref and on a component nothing uses.
func TestOpenAPIRefsResolve(t *testing.T) {
	doc := loadOpenAPI(t)
	used := map[string]bool{}
	var walk func(v any, at string)
	walk = func(v any, at string) {
		switch c := v.(type) {
		case object:
			if ref, ok := c["$ref"]; ok {
				s, isString := ref.(string)
				if !isString {
					t.Errorf("%s: $ref is not a string", at)
				} else if _, err := pointer(doc, s); err != nil {
					t.Errorf("%s: dangling reference: %v", at, err)
				} else {
					used[s] = true
				}
			}
			for _, k := range sortedKeys(c) {
				walk(c[k], at+"/"+k)
			}
		case []any:
			for i, e := range c {
				walk(e, at+"/"+strconv.Itoa(i))
			}
		}
	}
	walk(doc, "#")
	for section, comps := range member(doc, "components") {
		if section == "securitySchemes" { // named by security requirements, not $ref
			continue
		}
		for _, name := range sortedKeys(member(comps)) {
			if ref := "#/components/" + section + "/" + name; !used[ref] {
				t.Errorf("%s is never used", ref)
			}
		}
	}
}

// TestOpenAPIListParameters calls every list, and every other GET operation
// with documented query parameters (such as the outbound gate's
// purpose, channel and advertising), with all its documented query
// parameters: the route must accept each (it refuses parameters it does not
// read), and together they must fill every field of the filter the list
// passes on, so a parameter the list reads cannot be missing from the
// document. Leaving out a required parameter, or giving a boolean or integer
// parameter a value of another type, must be refused.
func TestOpenAPIListParameters(t *testing.T) {
	doc := loadOpenAPI(t)
	s, fake := newTestServer(t)
	ops := operations(doc)
	patterns := map[string]bool{}
	for _, r := range documentedRoutes(s) {
		patterns[r.Method+" "+r.Pattern] = true
	}
	checked := map[string]bool{}
	for _, r := range documentedRoutes(s) {
		key := r.Method + " " + r.Pattern
		path := strings.ReplaceAll(r.Pattern, "{id}", testID)
		o, documented := ops[key]
		var queryParams []object
		if documented {
			for _, p := range o.parameters(t, doc) {
				if p["in"] == "query" {
					queryParams = append(queryParams, p)
				}
			}
		}
		isList := patterns[http.MethodGet+" "+r.Pattern+"/{id}"] // the list of a collection
		if r.Method != http.MethodGet || (!isList && len(queryParams) == 0) {
			continue
		}
		if !documented {
			t.Errorf("%s is not documented", key)
			continue
		}
		checked[key] = true
		q := url.Values{}
		for _, p := range queryParams {
			name, _ := p["name"].(string)
			ex, ok := p["example"]
			if !ok {
				t.Errorf("%s: the query parameter %q has no example", key, name)
				continue
			}
			if f, isNum := ex.(float64); isNum {
				q.Set(name, strconv.FormatFloat(f, 'f', -1, 64))
			} else {
				q.Set(name, fmt.Sprint(ex))
			}
		}
		token := roleToken(fake, r.Permission)
		purpose := "sales"
		if p, ok := listPurposes[key]; ok {
			purpose = p
		}
		fake.filter = nil
		w := liveCall{method: http.MethodGet, target: path + "?" + q.Encode(), token: token, purpose: purpose}.do(s)
		if w.Code != http.StatusOK {
			t.Errorf("%s with the documented parameters %s: status %d: %s", key, q.Encode(), w.Code, w.Body)
			continue
		}
		if fake.filter == nil {
			t.Errorf("%s did not reach the list", key)
			continue
		}
		if v := reflect.ValueOf(fake.filter); v.Kind() == reflect.Struct {
			left := unset(v, "")
			internal := internalFilterFields[v.Type()]
			for _, f := range left {
				if !gateSetFilterFields[f] && !slices.Contains(internal, f) {
					t.Errorf("%s: no documented query parameter sets the filter field %s", key, f)
				}
			}
			for f := range gateSetFilterFields {
				if _, has := v.Type().FieldByName(f); has && !slices.Contains(left, f) {
					t.Errorf("%s: the filter field %s is set by the gate from the declared purpose, but a query parameter set it", key, f)
				}
			}
			for _, f := range internal {
				if !slices.Contains(left, f) {
					t.Errorf("%s: the filter field %s is for Tresor's own jobs, but a query parameter set it", key, f)
				}
			}
		} else if v.IsZero() {
			t.Errorf("%s: no documented query parameter reaches the list", key)
		}
		// The check above relies on the list refusing parameters it does not know.
		w = liveCall{method: http.MethodGet, target: path + "?no_such_parameter=1", token: token, purpose: purpose}.do(s)
		if w.Code != http.StatusBadRequest {
			t.Errorf("%s accepts an unknown parameter (status %d)", key, w.Code)
		}
		for _, p := range queryParams {
			name, _ := p["name"].(string)
			if !q.Has(name) {
				continue
			}
			without := maps.Clone(q)
			without.Del(name)
			if p["required"] == true {
				w = liveCall{method: http.MethodGet, target: path + "?" + without.Encode(), token: token, purpose: purpose}.do(s)
				if w.Code != http.StatusBadRequest {
					t.Errorf("%s without the required parameter %q: status %d, want 400", key, name, w.Code)
				}
			} else if w = (liveCall{method: http.MethodGet, target: path + "?" + without.Encode(), token: token, purpose: purpose}.do(s)); w.Code != http.StatusOK {
				t.Errorf("%s without the optional parameter %q: status %d, want 200: %s", key, name, w.Code, w.Body)
			}
			ty := deref(t, doc, p["schema"])["type"]
			if ty != "boolean" && ty != "integer" {
				continue
			}
			wrong := maps.Clone(q)
			wrong.Set(name, "maybe")
			w = liveCall{method: http.MethodGet, target: path + "?" + wrong.Encode(), token: token, purpose: purpose}.do(s)
			if w.Code != http.StatusBadRequest {
				t.Errorf("%s with %s=maybe (documented as %v): status %d, want 400", key, name, ty, w.Code)
			}
		}
	}
	// The lists of every collection and the outbound gate's question are among them.
	for _, k := range []string{"GET /api/v1/contacts", "GET /api/v1/organizations", "GET /api/v1/interactions", "GET /api/v1/deals",
		"GET /api/v1/cases", "GET /api/v1/pipelines", "GET /api/v1/campaigns", "GET /api/v1/users", "GET /api/v1/tokens",
		"GET /api/v1/contacts/export", "GET /api/v1/contacts/{id}/reach", "GET /api/v1/audit", "GET /api/v1/audit/export", "GET /api/v1/notices",
		"GET /api/v1/channels/{id}/posts", "GET /api/v1/channels/{id}/profile"} {
		if !checked[k] {
			t.Errorf("%s was not checked", k)
		}
	}
}

// zeros reads endless zero bytes: a body of any size without the memory.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// listPurposes are the purposes TestOpenAPIListParameters declares for the
// lists that refuse sales: the audit export and the information duties are
// duties of data protection, and sales may not see social profiles.
var listPurposes = map[string]string{"GET /api/v1/requests": "data_protection", "GET /api/v1/requests/{id}/answer": "data_protection", "GET /api/v1/audit/export": "data_protection", "GET /api/v1/notices": "data_protection",
	"GET /api/v1/channels/{id}/profile": "pr"}

// roleToken returns an API token of the fakes whose user holds one of the
// roles a permission names (the sales user's for the other permissions).
func roleToken(f *fakeServices, p Permission) string {
	for _, token := range []string{adminToken, auditorToken} {
		if a, _ := f.AuthenticateToken(context.Background(), token); a != nil && slices.ContainsFunc(p.Roles(), a.HasRole) {
			return token
		}
	}
	return testToken
}

// gateSetFilterFields are filter fields the gate sets from the declared
// purpose (HideArchived, HideRestricted: archived records and the records of
// restricted people are listed only under data_protection); no query
// parameter may set them.
var gateSetFilterFields = map[string]bool{"HideArchived": true, "HideRestricted": true}

// internalFilterFields are the fields of a filter type that only Tresor's
// own jobs set (PostQuery.DueBefore selects the posts due for publishing);
// no query parameter may set them.
var internalFilterFields = map[reflect.Type][]string{reflect.TypeFor[tresor.PostQuery](): {"DueBefore"}}

// unset returns the fields of a struct value that hold their zero value.
func unset(v reflect.Value, prefix string) []string {
	var out []string
	for i := 0; i < v.NumField(); i++ {
		f, fv := v.Type().Field(i), v.Field(i)
		if f.Anonymous && fv.Kind() == reflect.Struct {
			out = append(out, unset(fv, prefix+f.Name+".")...)
		} else if fv.IsZero() {
			out = append(out, prefix+f.Name)
		}
	}
	return out
}

// liveCall is one request to the test server.
type liveCall struct {
	method, target string
	token          string // an API token for Authorization: Bearer
	cookie         string // a session secret for the session cookie
	csrf           string // the X-CSRF-Token header
	purpose        string // the Tresor-Purpose header
	contentType    string // of the body; application/json if empty
	body           string
	stream         io.Reader         // a body too large for a string; body is ignored then
	header         map[string]string // further request headers
}

func (c liveCall) do(s *Server) *httptest.ResponseRecorder {
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	if c.stream != nil {
		body = c.stream
	}
	req := httptest.NewRequest(c.method, c.target, body)
	if c.body != "" || c.contentType != "" {
		ct := c.contentType
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.cookie != "" {
		req.AddCookie(&http.Cookie{Name: s.cookieName(), Value: c.cookie})
	}
	if c.csrf != "" {
		req.Header.Set(CSRFHeader, c.csrf)
	}
	if c.purpose != "" {
		req.Header.Set(PurposeHeader, c.purpose)
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, req)
	return w
}

func serve(s *Server, method, target string, auth bool) *httptest.ResponseRecorder {
	c := liveCall{method: method, target: target}
	if auth {
		c.token, c.purpose = testToken, "sales"
	}
	return c.do(s)
}

// TestOpenAPIDescribesResponses compares live responses with the document:
// the public routes, 401 from every authenticated API route, and the answers
// of the fake services for every route outside the crud collections, with
// an API token and with the session cookie.
func TestOpenAPIDescribesResponses(t *testing.T) {
	doc := loadOpenAPI(t)
	s, _ := newTestServer(t)
	ops := operations(doc)
	check := func(key string, w *httptest.ResponseRecorder) {
		t.Helper()
		o, ok := ops[key]
		if !ok {
			t.Errorf("%s is not documented", key)
			return
		}
		resp := o.response(t, doc, strconv.Itoa(w.Code))
		if resp == nil {
			t.Errorf("%s answered %d, which is not documented: %s", key, w.Code, w.Body)
			return
		}
		// The headers that carry meaning for the client are documented where they are sent.
		for _, h := range []string{"Location", "ETag", "Set-Cookie", "WWW-Authenticate", "Retry-After", "Content-Disposition"} {
			if w.Header().Get(h) != "" && member(resp, "headers", h) == nil {
				t.Errorf("%s: response %d does not document the %s header", key, w.Code, h)
			}
		}
		if w.Body.Len() == 0 {
			if len(member(resp, "content")) > 0 {
				t.Errorf("%s: response %d is documented with a body but has none", key, w.Code)
			}
			return
		}
		mt, _, err := mime.ParseMediaType(w.Header().Get("Content-Type"))
		if err != nil {
			t.Errorf("%s: Content-Type %q: %v", key, w.Header().Get("Content-Type"), err)
			return
		}
		sch := member(resp, "content", mt)["schema"]
		if deref(t, doc, sch) == nil {
			t.Errorf("%s: response %d is %s, which is not documented", key, w.Code, mt)
			return
		}
		if !strings.HasSuffix(mt, "json") {
			return
		}
		var body any
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Errorf("%s: the body is not JSON: %v", key, err)
			return
		}
		conforms(t, doc, key, sch, body, "body")
	}

	routes := documentedRoutes(s)
	for _, r := range routes {
		key := r.Method + " " + r.Pattern
		target := strings.ReplaceAll(r.Pattern, "{id}", testID)
		if r.Permission == Public {
			w := serve(s, r.Method, target, true)
			check(key, w)
			if r.Pattern == "/api/v1/openapi.json" && w.Body.String() != string(openAPI) {
				t.Errorf("%s does not serve openapi.json", key)
			}
			continue
		}
		w := serve(s, r.Method, target, false)
		if w.Code != http.StatusUnauthorized {
			t.Errorf("%s without credentials: status %d, want 401", key, w.Code)
		}
		check(key, w)
	}

	user := "/api/v1/users/" + testUserID
	token := "/api/v1/tokens/" + testID
	contact, refused, mailContact := "/api/v1/contacts/"+testID, "/api/v1/contacts/"+refusedID, "/api/v1/contacts/"+mailless
	campaign := "/api/v1/campaigns/" + testID
	erased, noHolds := "/api/v1/contacts/"+erasedID, "/api/v1/contacts/"+emptyID
	const (
		grant     = `{"purpose":"marketing","channel":"email","action":"grant","method":"paper","proof":{"text_version":"Newsletter v1","ip":"192.0.2.10"}}`
		optIn     = `{"purpose":"marketing","channel":"email","action":"grant","method":"double_opt_in","proof":{"text_hash":"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}}`
		withdrawn = `{"purpose":"marketing","channel":"social_dm:mastodon","action":"withdraw","method":"request"}`
		window    = "since=2026-01-01T00:00:00Z&until=2026-02-01T00:00:00Z"
	)
	export := "/api/v1/audit/export?actor=user:" + testUserID + "&" + window
	const (
		vcard    = "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Ada Lovelace\r\nN:Lovelace;Ada;;;\r\nEMAIL:ada@example.org\r\nEND:VCARD\r\n"
		linkedin = "First Name,Last Name,URL,Email Address,Company,Position,Connected On\nAda,Lovelace,https://www.linkedin.com/in/ada,,Analytical Engines,CTO,31 Jan 2026\n"
		table    = "Vorname,Nachname,E-Mail\nAda,Lovelace,ada@example.org\n"
		mapping  = `{"columns":{"given_name":"Vorname","family_name":"Nachname","email":"E-Mail"}}`
		imports  = "/api/v1/imports?format="
		note     = "&balancing_note=" + "Existing+customers%3B+they+expect+offers."
	)
	withMapping := map[string]string{"Tresor-Mapping": mapping}
	// A file one byte over the limit of an import, never held in memory.
	tooLarge := io.LimitReader(zeros{}, ImportBodyLimit+1)
	given := "/api/v1/notices/" + testID + "/given"
	channel, bluesky, offline, noChannel := "/api/v1/channels/"+testID, "/api/v1/channels/"+emptyID, "/api/v1/channels/"+offlineID, "/api/v1/channels/"+unknownID
	const (
		mastodonChannel = `{"network":"mastodon","name":"Support on Mastodon","credentials":{"server":"https://social.example","client_id":"Qx7hV0tq2m","client_secret":"vJ9oY4cWbN","access_token":"ZmF1eGFjY2Vzc3Rva2Vu"}}`
		blueskyChannel  = `{"network":"bluesky","name":"News on Bluesky","credentials":{"handle":"tresor.example","app_password":"abcd-efgh-ijkl-mnop"}}`
		profile         = "/profile?handle=@erika@social.example"
	)
	message := func(contactID string, direct, advertising bool, inReplyTo string) string {
		b, _ := json.Marshal(messageRequest{ContactID: contactID, Text: "Thanks for asking: the update is out.", Direct: direct,
			Advertising: advertising, InReplyTo: inReplyTo})
		return string(b)
	}
	calls := []struct {
		key    string
		call   liveCall
		status int
		code   tresor.Code // of a problem
	}{
		{"GET /api/v1/me", liveCall{token: testToken}, 200, ""},
		{"GET /api/v1/me", liveCall{cookie: testSession}, 200, ""},
		{"GET /api/v1/me", liveCall{cookie: pendingSession}, 403, tresor.ECMFARequired},
		{"GET /api/v1/me", liveCall{cookie: "expired"}, 401, tresor.ECUnauthenticated}, // and clears the cookie
		{"DELETE /api/v1/sessions", liveCall{token: testToken}, 204, ""},
		{"DELETE /api/v1/sessions", liveCall{cookie: testSession, csrf: testCSRF}, 204, ""}, // and clears the cookie
		{"DELETE /api/v1/sessions", liveCall{cookie: testSession}, 403, tresor.ECCSRF},
		{"DELETE /api/v1/sessions", liveCall{cookie: testSession, csrf: "wrong"}, 403, tresor.ECCSRF},
		{"GET /api/v1/stats", liveCall{token: adminToken}, 200, ""},
		{"GET /api/v1/stats", liveCall{token: testToken}, 403, tresor.ECForbidden},
		{"GET /api/v1/users", liveCall{target: "/api/v1/users?limit=10", token: adminToken}, 200, ""},
		{"GET /api/v1/users", liveCall{token: testToken}, 403, tresor.ECForbidden},
		{"GET /api/v1/users", liveCall{target: "/api/v1/users?cursor=nonsense", token: adminToken}, 400, tresor.ECInvalidCursor},
		{"POST /api/v1/users", liveCall{token: adminToken, body: `{"email":"grace@example.org","roles":["sales"]}`}, 201, ""},
		{"POST /api/v1/users", liveCall{token: adminToken, body: `{"email":"grace@example.org","roles":["sales"],"password":"x"}`}, 400, tresor.ECUnknownField},
		{"POST /api/v1/users", liveCall{token: adminToken, contentType: "text/plain", body: "grace"}, 415, tresor.ECUnsupportedMedia},
		{"POST /api/v1/users", liveCall{token: testToken, body: `{"email":"grace@example.org","roles":["sales"]}`}, 403, tresor.ECForbidden},
		{"GET /api/v1/users/{id}", liveCall{target: user, token: testToken}, 200, ""},
		{"PATCH /api/v1/users/{id}", liveCall{target: user, token: adminToken, contentType: "application/merge-patch+json", body: `{"disabled":true}`}, 200, ""},
		{"PATCH /api/v1/users/{id}", liveCall{target: user, token: adminToken, body: `{"roles":["sales","marketing"]}`}, 200, ""},
		{"PATCH /api/v1/users/{id}", liveCall{target: user, token: adminToken, body: `{}`}, 422, tresor.ECValidation},
		{"POST /api/v1/users/{id}/password-reset", liveCall{target: user + "/password-reset", token: adminToken}, 202, ""},
		{"POST /api/v1/users/{id}/password-reset", liveCall{target: "/api/v1/users/" + mailless + "/password-reset", token: adminToken}, 409, tresor.ECMailUnavailable},
		{"GET /api/v1/role-grants", liveCall{target: "/api/v1/role-grants?state=pending", token: adminToken}, 200, ""},
		{"GET /api/v1/role-grants", liveCall{token: testToken}, 403, tresor.ECForbidden},
		{"GET /api/v1/role-grants", liveCall{target: "/api/v1/role-grants?status=pending", token: adminToken}, 400, tresor.ECInvalidParameter},
		{"POST /api/v1/role-grants/{id}/approve", liveCall{target: "/api/v1/role-grants/" + testID + "/approve", token: adminToken}, 200, ""},
		{"POST /api/v1/role-grants/{id}/approve", liveCall{target: "/api/v1/role-grants/" + refusedID + "/approve", token: adminToken}, 403, tresor.ECFourEyes},
		{"POST /api/v1/role-grants/{id}/approve", liveCall{target: "/api/v1/role-grants/" + testID + "/approve", token: testToken}, 403, tresor.ECForbidden},
		{"POST /api/v1/role-grants/{id}/reject", liveCall{target: "/api/v1/role-grants/" + testID + "/reject", token: adminToken}, 200, ""},
		{"GET /api/v1/tokens", liveCall{token: testToken}, 200, ""},
		{"GET /api/v1/tokens", liveCall{target: "/api/v1/tokens?user=ada@example.org", token: adminToken}, 200, ""},
		{"POST /api/v1/tokens", liveCall{cookie: testSession, csrf: testCSRF, body: `{"name":"newsletter sync","purposes":["sales"],"ttl_hours":720}`}, 201, ""},
		{"POST /api/v1/tokens", liveCall{cookie: testSession, body: `{"name":"newsletter sync"}`}, 403, tresor.ECCSRF},
		{"POST /api/v1/tokens", liveCall{cookie: testSession, csrf: testCSRF, body: `{"name":"x","ttl":"1h"}`}, 400, tresor.ECUnknownField},
		{"DELETE /api/v1/tokens/{id}", liveCall{target: token, token: testToken}, 204, ""},
		{"DELETE /api/v1/tokens/{id}", liveCall{target: token, cookie: testSession, csrf: testCSRF}, 204, ""},
		// The privacy engine.
		{"GET /api/v1/purposes", liveCall{token: testToken}, 200, ""},
		{"GET /api/v1/purposes", liveCall{cookie: testSession}, 200, ""},
		{"GET /api/v1/purposes", liveCall{cookie: pendingSession}, 403, tresor.ECMFARequired},
		{"POST /api/v1/contacts/{id}/consents", liveCall{target: contact + "/consents", token: testToken, purpose: "marketing", body: grant}, 201, ""},
		{"POST /api/v1/contacts/{id}/consents", liveCall{target: contact + "/consents", token: testToken, purpose: "marketing", body: withdrawn}, 201, ""},
		{"POST /api/v1/contacts/{id}/consents", liveCall{target: contact + "/consents", token: testToken, purpose: "marketing", body: optIn}, 202, ""},
		{"POST /api/v1/contacts/{id}/consents", liveCall{target: mailContact + "/consents", token: testToken, purpose: "marketing", body: optIn}, 503, tresor.ECUnavailable},
		{"POST /api/v1/contacts/{id}/consents", liveCall{target: refused + "/consents", token: testToken, purpose: "marketing", body: grant}, 403, tresor.ECRestricted},
		{"POST /api/v1/contacts/{id}/consents", liveCall{target: contact + "/consents", token: testToken, purpose: "marketing", body: `{"purpose":"marketing","text":"x"}`}, 400, tresor.ECUnknownField},
		{"POST /api/v1/contacts/{id}/consents", liveCall{target: contact + "/consents", cookie: testSession, purpose: "marketing", body: grant}, 403, tresor.ECCSRF},
		{"GET /api/v1/contacts/{id}/consents", liveCall{target: contact + "/consents", token: testToken, purpose: "marketing"}, 200, ""},
		{"GET /api/v1/contacts/{id}/reach", liveCall{target: contact + "/reach?purpose=marketing&channel=email&advertising=true", token: testToken}, 200, ""},
		{"GET /api/v1/contacts/{id}/reach", liveCall{target: contact + "/reach?purpose=service&channel=social_dm:mastodon", cookie: testSession}, 200, ""},
		{"GET /api/v1/contacts/{id}/reach", liveCall{target: contact + "/reach?channel=email", token: testToken}, 400, tresor.ECInvalidParameter},
		{"POST /api/v1/contacts/{id}/objection", liveCall{target: contact + "/objection", token: testToken, purpose: "marketing"}, 200, ""},
		{"POST /api/v1/contacts/{id}/objection", liveCall{target: contact + "/objection", cookie: testSession, csrf: testCSRF, purpose: "marketing"}, 200, ""},
		{"POST /api/v1/contacts/{id}/objection", liveCall{target: contact + "/objection", cookie: testSession, purpose: "marketing"}, 403, tresor.ECCSRF},
		{"POST /api/v1/contacts/{id}/objection", liveCall{target: refused + "/objection", token: testToken, purpose: "marketing"}, 403, tresor.ECRestricted},
		{"POST /api/v1/contacts/{id}/restriction", liveCall{target: contact + "/restriction", token: testToken, purpose: "data_protection", body: `{"restricted":true}`}, 200, ""},
		{"POST /api/v1/breaches", liveCall{method: "POST", target: "/api/v1/breaches", token: testToken, purpose: "data_protection", body: `{"title":"Laptop","description":"lost","aware_at":"2026-03-14T09:00:00Z","risk":"high"}`}, 201, ""},
		{"GET /api/v1/breaches", liveCall{target: "/api/v1/breaches", token: testToken, purpose: "data_protection"}, 200, ""},
		{"POST /api/v1/listening/topics", liveCall{method: "POST", target: "/api/v1/listening/topics", token: testToken, purpose: "analytics", body: `{"name":"Acme Kaffee","keywords":["#acmekaffee"],"networks":["mastodon"],"languages":["de"]}`}, 201, ""},
		{"GET /api/v1/listening/topics", liveCall{target: "/api/v1/listening/topics", token: testToken, purpose: "analytics"}, 200, ""},
		{"GET /api/v1/listening/topics/{id}", liveCall{target: "/api/v1/listening/topics/" + testID, token: testToken, purpose: "analytics"}, 200, ""},
		{"PATCH /api/v1/listening/topics/{id}", liveCall{method: "PATCH", target: "/api/v1/listening/topics/" + testID, token: testToken, purpose: "analytics", contentType: "application/merge-patch+json", body: `{"languages":["de","en"]}`}, 200, ""},
		{"DELETE /api/v1/listening/topics/{id}", liveCall{method: "DELETE", target: "/api/v1/listening/topics/" + testID, token: testToken, purpose: "analytics"}, 204, ""},
		{"GET /api/v1/listening/topics/{id}/trend", liveCall{target: "/api/v1/listening/topics/" + testID + "/trend?from=2026-01-05&to=2026-01-07&bucket=day", token: testToken, purpose: "analytics"}, 200, ""},
		{"GET /api/v1/listening/topics/{id}/trend", liveCall{target: "/api/v1/listening/topics/" + testID + "/trend?format=csv", token: testToken, purpose: "analytics"}, 200, ""},
		{"GET /api/v1/listening/topics/{id}/trend", liveCall{target: "/api/v1/listening/topics/" + testID + "/trend?bucket=month", token: testToken, purpose: "analytics"}, 400, tresor.ECInvalidParameter},
		{"GET /api/v1/record-of-processing", liveCall{target: "/api/v1/record-of-processing?lang=en", token: adminToken}, 200, ""},
		{"GET /api/v1/record-of-processing", liveCall{target: "/api/v1/record-of-processing?format=html", token: adminToken}, 200, ""},
		{"GET /api/v1/record-of-processing", liveCall{target: "/api/v1/record-of-processing?format=pdf", token: adminToken}, 422, tresor.ECValidation},
		{"GET /api/v1/record-of-processing", liveCall{token: testToken}, 403, tresor.ECForbidden},
		{"GET /api/v1/breaches/{id}", liveCall{target: "/api/v1/breaches/" + testID, token: testToken, purpose: "data_protection"}, 200, ""},
		{"PATCH /api/v1/breaches/{id}", liveCall{method: "PATCH", target: "/api/v1/breaches/" + testID, token: testToken, purpose: "data_protection", contentType: "application/merge-patch+json", body: `{"risk":"high"}`}, 200, ""},
		{"POST /api/v1/breaches/{id}/state", liveCall{method: "POST", target: "/api/v1/breaches/" + testID + "/state", token: testToken, purpose: "data_protection", body: `{"state":"authority_notified"}`}, 200, ""},
		{"POST /api/v1/breaches/{id}/state", liveCall{method: "POST", target: "/api/v1/breaches/" + testID + "/state", token: testToken, purpose: "data_protection", body: `{"state":7}`}, 422, tresor.ECValidation},
		{"POST /api/v1/breaches/{id}/scope", liveCall{method: "POST", target: "/api/v1/breaches/" + testID + "/scope", token: testToken, purpose: "data_protection", body: `{"actor":"token:x","since":"2026-03-14T09:00:00Z","until":"2026-03-14T10:00:00Z"}`}, 200, ""},
		{"GET /api/v1/breaches/{id}/drafts", liveCall{target: "/api/v1/breaches/" + testID + "/drafts?lang=en", token: testToken, purpose: "data_protection"}, 200, ""},
		{"POST /api/v1/tasks/{id}/done", liveCall{target: "/api/v1/tasks/" + testID + "/done", token: testToken, purpose: "sales"}, 200, ""},
		{"POST /api/v1/tasks/{id}/undo", liveCall{target: "/api/v1/tasks/" + testID + "/undo", token: testToken, purpose: "sales"}, 200, ""},
		{"POST /api/v1/requests", liveCall{target: "/api/v1/requests", token: testToken, purpose: "data_protection", body: `{"kind":"access","channel":"email","address":"erika@example.org","received_at":"2026-03-02"}`}, 201, ""},
		{"POST /api/v1/requests", liveCall{target: "/api/v1/requests", token: testToken, purpose: "data_protection", body: `{"kind":"complaint","channel":"email","address":"erika@example.org","received_at":"2026-03-02"}`}, 422, tresor.ECValidation},
		{"POST /api/v1/requests", liveCall{target: "/api/v1/requests", token: testToken, purpose: "sales", body: `{"kind":"access","channel":"email","address":"erika@example.org","received_at":"2026-03-02"}`}, 403, tresor.ECForbidden},
		{"GET /api/v1/requests", liveCall{target: "/api/v1/requests?state=overdue", token: testToken, purpose: "data_protection"}, 200, ""},
		{"GET /api/v1/requests", liveCall{target: "/api/v1/requests?state=pending", token: testToken, purpose: "data_protection"}, 400, tresor.ECInvalidParameter},
		{"GET /api/v1/requests/{id}", liveCall{target: "/api/v1/requests/" + testID, token: testToken, purpose: "data_protection"}, 200, ""},
		{"GET /api/v1/requests/{id}", liveCall{target: "/api/v1/requests/" + unknownID, token: testToken, purpose: "data_protection"}, 404, tresor.ECNotFound},
		{"POST /api/v1/requests/{id}/state", liveCall{target: "/api/v1/requests/" + testID + "/state", token: testToken, purpose: "data_protection", body: `{"state":"identity_verified"}`}, 200, ""},
		{"POST /api/v1/requests/{id}/state", liveCall{target: "/api/v1/requests/" + testID + "/state", token: testToken, purpose: "data_protection", body: `{"state":"answered"}`}, 409, tresor.ECConflict},
		{"POST /api/v1/requests/{id}/extend", liveCall{target: "/api/v1/requests/" + testID + "/extend", token: testToken, purpose: "data_protection", body: `{"reason":"complex"}`}, 200, ""},
		{"POST /api/v1/requests/{id}/verification", liveCall{target: "/api/v1/requests/" + testID + "/verification", token: testToken, purpose: "data_protection"}, 200, ""},
		{"POST /api/v1/requests/{id}/verification", liveCall{target: "/api/v1/requests/" + testID + "/verification", token: testToken, purpose: "sales"}, 403, tresor.ECForbidden},
		{"POST /api/v1/requests/{id}/contacts", liveCall{target: "/api/v1/requests/" + testID + "/contacts", token: testToken, purpose: "data_protection", body: `{"contact_id":"` + testID + `"}`}, 200, ""},
		{"POST /api/v1/requests/{id}/contacts", liveCall{target: "/api/v1/requests/" + testID + "/contacts", token: testToken, purpose: "data_protection", body: `{"contact_id":"` + unknownID + `"}`}, 422, tresor.ECInvalidReference},
		{"DELETE /api/v1/requests/{id}/contacts/{contact_id}", liveCall{target: "/api/v1/requests/" + testID + "/contacts/" + testID, token: testToken, purpose: "data_protection"}, 200, ""},
		{"DELETE /api/v1/requests/{id}/contacts/{contact_id}", liveCall{target: "/api/v1/requests/" + testID + "/contacts/" + unknownID, token: testToken, purpose: "data_protection"}, 404, tresor.ECNotFound},
		{"POST /api/v1/requests/{id}/export", liveCall{target: "/api/v1/requests/" + testID + "/export", token: testToken, purpose: "data_protection"}, 200, ""},
		{"POST /api/v1/requests/{id}/export", liveCall{target: "/api/v1/requests/" + testID + "/export", token: testToken, purpose: "sales"}, 403, tresor.ECForbidden},
		{"POST /api/v1/requests/{id}/rectify", liveCall{target: "/api/v1/requests/" + testID + "/rectify", token: testToken, purpose: "data_protection", body: `{"contact_id":"x","changes":{"family_name":"Musterfrau"}}`}, 200, ""},
		{"POST /api/v1/requests/{id}/rectify", liveCall{target: "/api/v1/requests/" + testID + "/rectify", token: testToken, purpose: "sales", body: `{"contact_id":"x","changes":{"family_name":"X"}}`}, 403, tresor.ECForbidden},
		{"GET /api/v1/requests/{id}/recipients", liveCall{target: "/api/v1/requests/" + testID + "/recipients", token: testToken, purpose: "data_protection"}, 200, ""},
		{"POST /api/v1/requests/{id}/recipients-notified", liveCall{target: "/api/v1/requests/" + testID + "/recipients-notified", token: testToken, purpose: "data_protection", body: `{"notified":true,"note":"Mail an den Versanddienstleister"}`}, 200, ""},
		{"POST /api/v1/requests/{id}/recipients-notified", liveCall{target: "/api/v1/requests/" + testID + "/recipients-notified", token: testToken, purpose: "data_protection", body: `{"notified":true,"note":""}`}, 422, tresor.ECValidation},
		{"POST /api/v1/requests/{id}/object", liveCall{target: "/api/v1/requests/" + testID + "/object", token: testToken, purpose: "data_protection"}, 200, ""},
		{"POST /api/v1/requests/{id}/compelling-grounds", liveCall{target: "/api/v1/requests/" + testID + "/compelling-grounds", token: testToken, purpose: "data_protection", body: `{"contact_id":"x","purpose":"sales","reason":"offene Forderung"}`}, 200, ""},
		{"POST /api/v1/requests/{id}/compelling-grounds", liveCall{target: "/api/v1/requests/" + testID + "/compelling-grounds", token: testToken, purpose: "data_protection", body: `{"contact_id":"x","purpose":"marketing","reason":"Großkunde"}`}, 403, tresor.ECForbidden},
		{"POST /api/v1/requests/{id}/restrict", liveCall{target: "/api/v1/requests/" + testID + "/restrict", token: testToken, purpose: "data_protection"}, 200, ""},
		{"POST /api/v1/requests/{id}/lift", liveCall{target: "/api/v1/requests/" + testID + "/lift", token: testToken, purpose: "data_protection", body: `{"contact_id":"x","what":"restriction","reason":"Richtigkeit bestätigt"}`}, 200, ""},
		{"POST /api/v1/requests/{id}/lift", liveCall{target: "/api/v1/requests/" + testID + "/lift", token: testToken, purpose: "data_protection", body: `{"contact_id":"x","what":"restriction","reason":""}`}, 422, tresor.ECValidation},
		{"POST /api/v1/requests/{id}/erase", liveCall{target: "/api/v1/requests/" + testID + "/erase", token: testToken, purpose: "data_protection"}, 200, ""},
		{"POST /api/v1/requests/{id}/erase", liveCall{target: "/api/v1/requests/" + unknownID + "/erase", token: testToken, purpose: "data_protection"}, 404, tresor.ECNotFound},
		{"POST /api/v1/contacts/{id}/restriction", liveCall{target: contact + "/restriction", token: testToken, purpose: "data_protection", body: `{"restricted":false,"reason":"accuracy verified, ticket 4711"}`}, 200, ""},
		{"POST /api/v1/contacts/{id}/restriction", liveCall{target: contact + "/restriction", token: testToken, purpose: "data_protection", body: `{"restricted":false}`}, 422, tresor.ECValidation},
		{"POST /api/v1/breaches/{id}/notify-people", liveCall{target: "/api/v1/breaches/" + testID + "/notify-people", token: testToken, purpose: "data_protection", body: `{"lang":"de","subject":"Datenpanne","body":"Wir informieren Sie.","contact_ids":["` + testID + `"]}`}, 200, ""},
		{"GET /api/v1/requests/{id}/answer", liveCall{target: "/api/v1/requests/" + testID + "/answer?lang=en&outcome=refused", token: testToken, purpose: "data_protection"}, 200, ""},
		{"POST /api/v1/requests/{id}/answer", liveCall{target: "/api/v1/requests/" + testID + "/answer", token: testToken, purpose: "data_protection", body: `{"lang":"de","subject":"Ihre Auskunft","body":"Hier ist sie."}`}, 200, ""},
		{"POST /api/v1/contacts/{id}/restriction", liveCall{target: refused + "/restriction", token: testToken, purpose: "sales", body: `{"restricted":true}`}, 403, tresor.ECRestricted},
		{"POST /api/v1/contacts/{id}/restriction", liveCall{target: contact + "/restriction", token: testToken, purpose: "data_protection", contentType: "text/plain", body: "yes"}, 415, tresor.ECUnsupportedMedia},
		{"POST /api/v1/contacts/{id}/restriction", liveCall{target: contact + "/restriction", token: testToken, purpose: "data_protection", body: `{"restricted":"yes"}`}, 422, tresor.ECValidation},
		{"PUT /api/v1/contacts/{id}/tags/{tag}", liveCall{target: contact + "/tags/Messe%202026", token: testToken}, 200, ""},
		{"PUT /api/v1/contacts/{id}/tags/{tag}", liveCall{target: contact + "/tags/%3Cb%3E", token: testToken}, 422, tresor.ECValidation},
		{"DELETE /api/v1/contacts/{id}/tags/{tag}", liveCall{target: contact + "/tags/Messe", token: testToken}, 204, ""},
		{"PUT /api/v1/organizations/{id}/tags/{tag}", liveCall{target: "/api/v1/organizations/" + testID + "/tags/Partner", token: testToken}, 200, ""},
		{"DELETE /api/v1/organizations/{id}/tags/{tag}", liveCall{target: "/api/v1/organizations/" + testID + "/tags/Partner", token: testToken}, 204, ""},
		{"GET /api/v1/tags", liveCall{token: testToken}, 200, ""},
		{"GET /api/v1/segments/{id}/members", liveCall{target: "/api/v1/segments/" + testID + "/members", token: testToken}, 200, ""},
		{"GET /api/v1/campaigns", liveCall{token: testToken, purpose: "marketing"}, 200, ""},
		{"GET /api/v1/campaigns/{id}", liveCall{target: campaign, token: testToken, purpose: "marketing"}, 200, ""},
		{"GET /api/v1/campaigns/{id}/audience", liveCall{target: campaign + "/audience", token: testToken, purpose: "marketing"}, 200, ""},
		{"GET /api/v1/campaigns/{id}/audience", liveCall{target: "/api/v1/campaigns/" + emptyID + "/audience", token: testToken, purpose: "marketing"}, 200, ""},
		{"POST /api/v1/campaigns/{id}/send", liveCall{target: campaign + "/send", token: testToken, purpose: "marketing"}, 200, ""},
		{"POST /api/v1/campaigns/{id}/send", liveCall{target: "/api/v1/campaigns/" + mailless + "/send", token: testToken, purpose: "marketing"}, 503, tresor.ECUnavailable},
		{"POST /api/v1/campaigns/{id}/send", liveCall{target: campaign + "/send", cookie: testSession, purpose: "marketing"}, 403, tresor.ECCSRF},
		// Erasure, legal holds, closing and retention.
		{"POST /api/v1/contacts/{id}/erasure", liveCall{target: contact + "/erasure", token: testToken, purpose: "data_protection", body: `{"reason":"Erasure request, ticket 2026-17"}`}, 200, ""},
		{"POST /api/v1/contacts/{id}/erasure", liveCall{target: contact + "/erasure", cookie: testSession, csrf: testCSRF, purpose: "data_protection", body: `{"reason":"ticket 2026-18"}`}, 200, ""},
		{"POST /api/v1/contacts/{id}/erasure", liveCall{target: contact + "/erasure", cookie: testSession, purpose: "data_protection", body: `{"reason":"ticket 2026-18"}`}, 403, tresor.ECCSRF},
		{"POST /api/v1/contacts/{id}/erasure", liveCall{target: contact + "/erasure", token: testToken, purpose: "sales", body: `{"reason":"ticket 2026-17"}`}, 403, tresor.ECForbidden},
		{"POST /api/v1/contacts/{id}/erasure", liveCall{target: refused + "/erasure", token: testToken, purpose: "data_protection", body: `{"reason":"ticket 2026-17"}`}, 409, tresor.ECLegalHold},
		{"POST /api/v1/contacts/{id}/erasure", liveCall{target: erased + "/erasure", token: testToken, purpose: "data_protection", body: `{"reason":"ticket 2026-17"}`}, 410, tresor.ECErased},
		{"POST /api/v1/contacts/{id}/erasure", liveCall{target: contact + "/erasure", token: testToken, purpose: "data_protection", body: `{"reason":"Ada Lovelace asked"}`}, 422, tresor.ECReasonUnsafe},
		{"POST /api/v1/contacts/{id}/erasure", liveCall{target: contact + "/erasure", token: testToken, purpose: "data_protection", body: `{"reason":"x","ticket":1}`}, 400, tresor.ECUnknownField},
		{"POST /api/v1/contacts/{id}/erasure", liveCall{target: contact + "/erasure", token: testToken, purpose: "data_protection", contentType: "text/plain", body: "ticket"}, 415, tresor.ECUnsupportedMedia},
		{"GET /api/v1/contacts/duplicates", liveCall{token: testToken, purpose: "sales"}, 200, ""},
		{"GET /api/v1/contacts/duplicates", liveCall{token: testToken}, 400, tresor.ECPurposeMissing},
		{"POST /api/v1/contacts/{id}/merge", liveCall{target: contact + "/merge", token: testToken, purpose: "sales", body: `{"from":"` + emptyID + `"}`}, 200, ""},
		{"POST /api/v1/contacts/{id}/merge", liveCall{target: contact + "/merge", token: testToken, purpose: "sales", body: `{"from":"` + mergedID + `"}`}, 409, tresor.ECConflict},
		{"POST /api/v1/contacts/{id}/merge", liveCall{target: contact + "/merge", token: testToken, purpose: "sales", body: `{"from":"` + refusedID + `"}`}, 409, tresor.ECLegalHold},
		{"POST /api/v1/contacts/{id}/merge", liveCall{target: contact + "/merge", token: testToken, purpose: "sales", body: `{"from":"` + testID + `"}`}, 422, tresor.ECValidation},
		{"GET /api/v1/erasures/{id}", liveCall{target: "/api/v1/erasures/" + erasedID, token: testToken, purpose: "data_protection"}, 200, ""},
		{"GET /api/v1/erasures/{id}", liveCall{target: "/api/v1/erasures/" + testID, token: testToken, purpose: "data_protection"}, 404, tresor.ECNotFound},
		{"GET /api/v1/erasures/{id}", liveCall{target: "/api/v1/erasures/" + erasedID, token: testToken, purpose: "service"}, 403, tresor.ECForbidden},
		{"POST /api/v1/contacts/{id}/holds", liveCall{target: contact + "/holds", token: testToken, purpose: "data_protection", body: `{"reason":"Claim 4711"}`}, 201, ""},
		{"POST /api/v1/contacts/{id}/holds", liveCall{target: erased + "/holds", token: testToken, purpose: "data_protection", body: `{"reason":"Claim 4711"}`}, 410, tresor.ECErased},
		{"POST /api/v1/contacts/{id}/holds", liveCall{target: contact + "/holds", token: testToken, purpose: "sales", body: `{"reason":"Claim 4711"}`}, 403, tresor.ECForbidden},
		{"GET /api/v1/contacts/{id}/holds", liveCall{target: contact + "/holds", token: testToken, purpose: "data_protection"}, 200, ""},
		{"GET /api/v1/contacts/{id}/holds", liveCall{target: noHolds + "/holds", cookie: testSession, purpose: "data_protection"}, 200, ""},
		{"GET /api/v1/contacts/{id}/holds", liveCall{target: erased + "/holds", token: testToken, purpose: "data_protection"}, 410, tresor.ECErased},
		{"POST /api/v1/holds/{id}/release", liveCall{target: "/api/v1/holds/" + testID + "/release", token: testToken, purpose: "data_protection"}, 200, ""},
		{"POST /api/v1/holds/{id}/release", liveCall{target: "/api/v1/holds/" + refusedID + "/release", token: testToken, purpose: "data_protection"}, 409, tresor.ECConflict},
		{"POST /api/v1/contacts/{id}/close", liveCall{target: contact + "/close", token: testToken, purpose: "data_protection"}, 200, ""},
		{"POST /api/v1/contacts/{id}/close", liveCall{target: contact + "/close", token: testToken, purpose: "sales"}, 204, ""},
		{"POST /api/v1/contacts/{id}/close", liveCall{target: contact + "/close", cookie: testSession, csrf: testCSRF, purpose: "service"}, 204, ""},
		{"POST /api/v1/contacts/{id}/close", liveCall{target: refused + "/close", token: testToken, purpose: "sales"}, 403, tresor.ECArchived},
		{"POST /api/v1/contacts/{id}/close", liveCall{target: erased + "/close", token: testToken, purpose: "sales"}, 410, tresor.ECErased},
		{"POST /api/v1/retention/runs", liveCall{token: testToken, purpose: "data_protection", body: `{"dry_run":true}`}, 200, ""},
		{"POST /api/v1/retention/runs", liveCall{token: testToken, purpose: "data_protection", body: `{}`}, 200, ""},
		{"POST /api/v1/retention/runs", liveCall{token: testToken, purpose: "data_protection", body: `{"dry_run":"yes"}`}, 422, tresor.ECValidation},
		{"POST /api/v1/retention/runs", liveCall{token: testToken, purpose: "data_protection", contentType: "application/json"}, 400, tresor.ECMalformedJSON},
		{"POST /api/v1/retention/runs", liveCall{token: testToken, purpose: "marketing", body: `{"dry_run":true}`}, 403, tresor.ECForbidden},
		// The audit trail: the log for the dpo and auditor roles, the export under data_protection.
		{"GET /api/v1/audit", liveCall{target: "/api/v1/audit?contact=" + refusedID + "&limit=2", token: auditorToken}, 200, ""},
		{"GET /api/v1/audit", liveCall{target: "/api/v1/audit?actor=system&action=contact.&" + window, token: auditorToken}, 200, ""},
		{"GET /api/v1/audit", liveCall{target: "/api/v1/audit?contact=" + emptyID, token: auditorToken}, 200, ""}, // nothing matches
		{"GET /api/v1/audit", liveCall{target: "/api/v1/audit?cursor=" + tresor.EncodeCursor("41"), token: auditorToken}, 200, ""},
		{"GET /api/v1/audit", liveCall{token: testToken}, 403, tresor.ECForbidden},
		{"GET /api/v1/audit", liveCall{token: adminToken}, 403, tresor.ECForbidden},
		{"GET /api/v1/audit", liveCall{cookie: testSession}, 403, tresor.ECForbidden},
		{"GET /api/v1/audit", liveCall{target: "/api/v1/audit?since=yesterday", token: auditorToken}, 400, tresor.ECInvalidParameter},
		{"GET /api/v1/audit", liveCall{target: "/api/v1/audit?contact_id=" + testID, token: auditorToken}, 400, tresor.ECInvalidParameter},
		{"GET /api/v1/audit", liveCall{target: "/api/v1/audit?cursor=nonsense", token: auditorToken}, 400, tresor.ECInvalidCursor},
		{"GET /api/v1/audit", liveCall{target: "/api/v1/audit?cursor=" + tresor.EncodeCursor(testID), token: auditorToken}, 400, tresor.ECInvalidCursor},
		// The export of contacts for users.
		{"GET /api/v1/contacts/export", liveCall{target: "/api/v1/contacts/export?q=mueller&sep=semicolon", token: testToken, purpose: "sales"}, 200, ""},
		{"GET /api/v1/contacts/export", liveCall{target: "/api/v1/contacts/export?format=vcard", cookie: testSession, purpose: "marketing"}, 200, ""},
		{"GET /api/v1/contacts/export", liveCall{target: "/api/v1/contacts/export?format=xlsx", token: testToken, purpose: "sales"}, 400, tresor.ECInvalidParameter},
		{"GET /api/v1/contacts/export", liveCall{target: "/api/v1/contacts/export?sep=tab", token: testToken, purpose: "sales"}, 400, tresor.ECInvalidParameter},
		{"GET /api/v1/contacts/export", liveCall{target: "/api/v1/contacts/export?limit=10", token: testToken, purpose: "sales"}, 400, tresor.ECInvalidParameter},
		{"GET /api/v1/contacts/export", liveCall{token: testToken, purpose: "analytics"}, 403, tresor.ECAggregatesOnly},
		{"GET /api/v1/contacts/export", liveCall{target: "/api/v1/contacts/export?q=" + fakeTooLarge, token: testToken, purpose: "sales"}, 422, tresor.ECExportTooLarge},
		{"POST /api/v1/contacts/export", liveCall{token: testToken, purpose: "sales", body: `{"ids":["` + testID + `","` + unknownID + `"]}`}, 200, ""},
		{"POST /api/v1/contacts/export", liveCall{cookie: testSession, csrf: testCSRF, purpose: "marketing", body: `{"ids":["` + testID + `"],"format":"vcard"}`}, 200, ""},
		{"POST /api/v1/contacts/export", liveCall{cookie: testSession, purpose: "sales", body: `{"ids":["` + testID + `"]}`}, 403, tresor.ECCSRF},
		{"POST /api/v1/contacts/export", liveCall{token: testToken, purpose: "sales", body: `{"ids":[]}`}, 422, tresor.ECValidation},
		{"POST /api/v1/contacts/export", liveCall{token: testToken, purpose: "sales", body: `{"ids":["` + erasedID + `"]}`}, 422, tresor.ECExportTooLarge},
		{"POST /api/v1/contacts/export", liveCall{token: testToken, purpose: "sales", body: `{"ids":["` + testID + `"],"format":"xlsx"}`}, 400, tresor.ECInvalidParameter},
		{"POST /api/v1/contacts/export", liveCall{token: testToken, purpose: "sales", body: `{"ids":["` + testID + `"],"separator":"tab"}`}, 400, tresor.ECInvalidParameter},
		{"POST /api/v1/contacts/export", liveCall{token: testToken, purpose: "sales", body: `{"ids":["` + testID + `"],"columns":["email"]}`}, 400, tresor.ECUnknownField},
		{"POST /api/v1/contacts/export", liveCall{token: testToken, purpose: "sales", contentType: "text/plain", body: testID}, 415, tresor.ECUnsupportedMedia},
		{"GET /api/v1/audit/export", liveCall{target: export, token: testToken, purpose: "data_protection"}, 200, ""},
		{"GET /api/v1/audit/export", liveCall{target: export, cookie: testSession, purpose: "data_protection"}, 200, ""},
		{"GET /api/v1/audit/export", liveCall{target: export, token: testToken, purpose: "sales"}, 403, tresor.ECForbidden},
		{"GET /api/v1/audit/export", liveCall{target: "/api/v1/audit/export?" + window, token: testToken, purpose: "data_protection"}, 400, tresor.ECInvalidParameter},
		{"GET /api/v1/audit/export", liveCall{target: "/api/v1/audit/export?actor=system&since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z",
			token: testToken, purpose: "data_protection"}, 400, tresor.ECInvalidParameter},
		{"GET /api/v1/audit/export", liveCall{target: export + "&contact=" + testID, token: testToken, purpose: "data_protection"}, 400, tresor.ECInvalidParameter},
		// Imports through the ingestion gate.
		{"POST /api/v1/imports", liveCall{target: imports + "vcard&legal_basis=legitimate_interest" + note, token: testToken, purpose: "sales", contentType: "text/vcard", body: vcard}, 201, ""},
		{"POST /api/v1/imports", liveCall{target: imports + "vcard&network=xing&legal_basis=contract", token: testToken, purpose: "sales", contentType: "text/vcard", body: vcard}, 201, ""},
		{"POST /api/v1/imports", liveCall{target: imports + "linkedin&legal_basis=contract&dry_run=true", token: testToken, purpose: "sales", contentType: "text/csv", body: linkedin}, 200, ""},
		{"POST /api/v1/imports", liveCall{target: imports + "csv&legal_basis=contract", cookie: testSession, csrf: testCSRF, purpose: "sales", contentType: "text/csv", body: table, header: withMapping}, 201, ""},
		{"POST /api/v1/imports", liveCall{target: imports + "csv&legal_basis=contract", cookie: testSession, purpose: "sales", contentType: "text/csv", body: table, header: withMapping}, 403, tresor.ECCSRF},
		{"POST /api/v1/imports", liveCall{target: "/api/v1/imports?legal_basis=contract", token: testToken, purpose: "sales", contentType: "text/csv", body: table}, 400, tresor.ECInvalidParameter},
		{"POST /api/v1/imports", liveCall{target: imports + "vcard", token: testToken, purpose: "sales", contentType: "text/vcard", body: vcard}, 400, tresor.ECInvalidParameter},
		{"POST /api/v1/imports", liveCall{target: imports + "xlsx&legal_basis=contract", token: testToken, purpose: "sales", contentType: "text/csv", body: table}, 400, tresor.ECInvalidParameter},
		{"POST /api/v1/imports", liveCall{target: imports + "vcard&network=Xing!&legal_basis=contract", token: testToken, purpose: "sales", contentType: "text/vcard", body: vcard}, 400, tresor.ECInvalidParameter},
		{"POST /api/v1/imports", liveCall{target: imports + "vcard&legal_basis=contract&dry_run=maybe", token: testToken, purpose: "sales", contentType: "text/vcard", body: vcard}, 400, tresor.ECInvalidParameter},
		{"POST /api/v1/imports", liveCall{target: imports + "vcard&legal_basis=contract&source=xing", token: testToken, purpose: "sales", contentType: "text/vcard", body: vcard}, 400, tresor.ECInvalidParameter},
		{"POST /api/v1/imports", liveCall{target: imports + "vcard&legal_basis=whim", token: testToken, purpose: "sales", contentType: "text/vcard", body: vcard}, 400, tresor.ECBasisUnknown},
		{"POST /api/v1/imports", liveCall{target: imports + "vcard&legal_basis=consent", token: testToken, purpose: "marketing", contentType: "text/vcard", body: vcard}, 403, tresor.ECPurposeNotAllowed},
		{"POST /api/v1/imports", liveCall{target: imports + "vcard&legal_basis=legal_obligation", token: testToken, purpose: "sales", contentType: "text/vcard", body: vcard}, 422, tresor.ECBasisNotAllowed},
		{"POST /api/v1/imports", liveCall{target: imports + "vcard&legal_basis=legitimate_interest", token: testToken, purpose: "sales", contentType: "text/vcard", body: vcard}, 422, tresor.ECBalancingNote},
		{"POST /api/v1/imports", liveCall{target: imports + "csv&legal_basis=contract", token: testToken, purpose: "sales", contentType: "text/csv", body: table}, 422, tresor.ECValidation},
		{"POST /api/v1/imports", liveCall{target: imports + "csv&legal_basis=contract", token: testToken, purpose: "sales", contentType: "text/csv", body: table,
			header: map[string]string{"Tresor-Mapping": `{"columns":{"shoe_size":"Size"}}`}}, 422, tresor.ECValidation},
		{"POST /api/v1/imports", liveCall{target: imports + "vcard&legal_basis=contract", token: testToken, purpose: "sales", contentType: "text/vcard", stream: tooLarge}, 413, tresor.ECBodyTooLarge},
		// The information duties (Art. 14 GDPR) of the data-protection officer.
		{"GET /api/v1/imports", liveCall{target: "/api/v1/imports?limit=10", token: testToken, purpose: "sales"}, 200, ""},
		{"GET /api/v1/imports", liveCall{target: "/api/v1/imports?purpose=marketing", cookie: testSession, purpose: "data_protection"}, 200, ""},
		{"GET /api/v1/imports", liveCall{target: "/api/v1/imports?purpose=marketing", cookie: testSession, purpose: "sales"}, 403, tresor.ECForbidden},
		{"GET /api/v1/imports", liveCall{target: "/api/v1/imports?limit=0", token: testToken, purpose: "sales"}, 400, tresor.ECInvalidParameter},
		{"GET /api/v1/imports", liveCall{target: "/api/v1/imports", purpose: "sales"}, 401, tresor.ECUnauthenticated},
		{"GET /api/v1/imports/{id}", liveCall{target: "/api/v1/imports/" + testID, token: testToken, purpose: "sales"}, 200, ""},
		{"GET /api/v1/imports/{id}", liveCall{target: "/api/v1/imports/" + emptyID, token: testToken, purpose: "sales"}, 200, ""}, // running
		{"GET /api/v1/imports/{id}", liveCall{target: "/api/v1/imports/0190f5a4-7c3e-7a51-9b0e-3f1c2d4e5a70", token: testToken, purpose: "sales"}, 404, tresor.ECNotFound},
		{"GET /api/v1/imports/{id}", liveCall{target: "/api/v1/imports/" + testID, token: testToken}, 400, tresor.ECPurposeMissing},
		{"GET /api/v1/imports/{id}", liveCall{target: "/api/v1/imports/" + testID, purpose: "sales"}, 401, tresor.ECUnauthenticated},
		{"GET /api/v1/notices", liveCall{target: "/api/v1/notices?open=true&limit=10", token: testToken, purpose: "data_protection"}, 200, ""},
		{"GET /api/v1/notices", liveCall{target: "/api/v1/notices?overdue=true&contact=" + testID, cookie: testSession, purpose: "data_protection"}, 200, ""},
		{"GET /api/v1/notices", liveCall{target: "/api/v1/notices?contact=" + emptyID, token: testToken, purpose: "data_protection"}, 200, ""}, // none
		{"GET /api/v1/notices", liveCall{token: testToken, purpose: "sales"}, 403, tresor.ECForbidden},
		{"GET /api/v1/notices", liveCall{target: "/api/v1/notices?open=maybe", token: testToken, purpose: "data_protection"}, 400, tresor.ECInvalidParameter},
		{"GET /api/v1/notices", liveCall{target: "/api/v1/notices?contact_id=" + testID, token: testToken, purpose: "data_protection"}, 400, tresor.ECInvalidParameter},
		{"GET /api/v1/notices", liveCall{target: "/api/v1/notices?cursor=nonsense", token: testToken, purpose: "data_protection"}, 400, tresor.ECInvalidCursor},
		{"POST /api/v1/notices/send", liveCall{token: testToken, purpose: "data_protection"}, 200, ""},
		{"POST /api/v1/notices/send", liveCall{target: "/api/v1/notices/send?overdue=true", cookie: testSession, csrf: testCSRF, purpose: "data_protection"}, 200, ""},
		{"POST /api/v1/notices/send", liveCall{cookie: testSession, purpose: "data_protection"}, 403, tresor.ECCSRF},
		{"POST /api/v1/notices/send", liveCall{token: testToken, purpose: "marketing"}, 403, tresor.ECForbidden},
		{"POST /api/v1/notices/send", liveCall{target: "/api/v1/notices/send?overdue=maybe", token: testToken, purpose: "data_protection"}, 400, tresor.ECInvalidParameter},
		{"POST /api/v1/notices/{id}/given", liveCall{target: given, token: testToken, purpose: "data_protection", body: `{"channel":"postal"}`}, 204, ""},
		{"POST /api/v1/notices/{id}/given", liveCall{target: given, cookie: testSession, csrf: testCSRF, purpose: "data_protection", body: `{"channel":"in_person"}`}, 204, ""},
		{"POST /api/v1/notices/{id}/given", liveCall{target: given, cookie: testSession, purpose: "data_protection", body: `{"channel":"phone"}`}, 403, tresor.ECCSRF},
		{"POST /api/v1/notices/{id}/given", liveCall{target: given, token: testToken, purpose: "sales", body: `{"channel":"postal"}`}, 403, tresor.ECForbidden},
		{"POST /api/v1/notices/{id}/given", liveCall{target: "/api/v1/notices/" + refusedID + "/given", token: testToken, purpose: "data_protection", body: `{"channel":"postal"}`}, 404, tresor.ECNotFound},
		{"POST /api/v1/notices/{id}/given", liveCall{target: given, token: testToken, purpose: "data_protection", body: `{"channel":"fax"}`}, 422, tresor.ECValidation},
		{"POST /api/v1/notices/{id}/given", liveCall{target: given, token: testToken, purpose: "data_protection", body: `{}`}, 422, tresor.ECValidation},
		{"POST /api/v1/notices/{id}/given", liveCall{target: given, token: testToken, purpose: "data_protection", body: `{"channel":"postal","date":"2026-01-31"}`}, 400, tresor.ECUnknownField},
		{"POST /api/v1/notices/{id}/given", liveCall{target: given, token: testToken, purpose: "data_protection", contentType: "text/plain", body: "postal"}, 415, tresor.ECUnsupportedMedia},
		// The company's social channels.
		{"POST /api/v1/channels", liveCall{token: adminToken, body: mastodonChannel}, 201, ""},
		{"POST /api/v1/channels", liveCall{token: adminToken, body: blueskyChannel}, 201, ""},
		{"POST /api/v1/channels", liveCall{token: testToken, body: mastodonChannel}, 403, tresor.ECForbidden},
		{"POST /api/v1/channels", liveCall{token: adminToken, body: `{"network":"Mastodon!","name":" ","credentials":null}`}, 422, tresor.ECValidation},
		{"POST /api/v1/channels", liveCall{token: adminToken, body: `{"network":"mastodon","name":"Support"}`}, 422, tresor.ECValidation},
		{"POST /api/v1/channels", liveCall{token: adminToken, body: `{"network":"mastodon","name":"Support","credentials":{"server":"https://social.example"}}`}, 422, tresor.ECValidation},
		{"POST /api/v1/channels", liveCall{token: adminToken, body: `{"network":"xing","name":"Sales on XING","credentials":{"token":"t"}}`}, 422, tresor.ECValidation},
		{"POST /api/v1/channels", liveCall{token: adminToken, body: `{"network":"mastodon","name":"Sales","credentials":{"server":"https://down.example","access_token":"t"}}`}, 503, tresor.ECUnavailable},
		{"POST /api/v1/channels", liveCall{token: adminToken, body: `{"network":"mastodon","name":"Support","credentials":{},"account":"@tresor"}`}, 400, tresor.ECUnknownField},
		{"POST /api/v1/channels", liveCall{token: adminToken, contentType: "text/plain", body: "mastodon"}, 415, tresor.ECUnsupportedMedia},
		{"GET /api/v1/channels", liveCall{token: testToken}, 200, ""},
		{"GET /api/v1/channels", liveCall{cookie: testSession}, 200, ""},
		{"GET /api/v1/channels", liveCall{cookie: pendingSession}, 403, tresor.ECMFARequired},
		{"DELETE /api/v1/channels/{id}", liveCall{target: channel, token: adminToken}, 204, ""},
		{"DELETE /api/v1/channels/{id}", liveCall{target: noChannel, token: adminToken}, 404, tresor.ECNotFound},
		{"DELETE /api/v1/channels/{id}", liveCall{target: channel, token: testToken}, 403, tresor.ECForbidden},
		{"POST /api/v1/channels/{id}/posts", liveCall{target: channel + "/posts", token: testToken, purpose: "sales", body: `{"text":"Tresor 1.2 is out."}`}, 201, ""},
		{"POST /api/v1/channels/{id}/posts", liveCall{target: channel + "/posts", cookie: testSession, csrf: testCSRF, purpose: "pr",
			body: `{"text":"Meet us in Hall 3, or write to info@example.org.","publish_at":"2099-03-02T08:00:00Z"}`}, 201, ""},
		{"POST /api/v1/channels/{id}/posts", liveCall{target: offline + "/posts", token: testToken, purpose: "marketing", body: `{"text":"Tresor 1.2 is out."}`}, 201, ""}, // failed: error
		{"POST /api/v1/channels/{id}/posts", liveCall{target: channel + "/posts", cookie: testSession, purpose: "pr", body: `{"text":"Tresor 1.2"}`}, 403, tresor.ECCSRF},
		{"POST /api/v1/channels/{id}/posts", liveCall{target: channel + "/posts", token: testToken, purpose: "service", body: `{"text":"Tresor 1.2"}`}, 403, tresor.ECForbidden},
		{"POST /api/v1/channels/{id}/posts", liveCall{target: channel + "/posts", token: testToken, purpose: "sales", body: `{"text":"Thanks, @ada@example.social!"}`}, 422, tresor.ECValidation},
		{"POST /api/v1/channels/{id}/posts", liveCall{target: channel + "/posts", token: testToken, purpose: "sales", body: `{"text":"  "}`}, 422, tresor.ECValidation},
		{"POST /api/v1/channels/{id}/posts", liveCall{target: noChannel + "/posts", token: testToken, purpose: "sales", body: `{"text":"Tresor 1.2"}`}, 404, tresor.ECNotFound},
		{"POST /api/v1/channels/{id}/posts", liveCall{target: channel + "/posts", token: testToken, purpose: "sales", body: `{"text":"Tresor 1.2","visibility":"public"}`}, 400, tresor.ECUnknownField},
		{"GET /api/v1/channels/{id}/posts", liveCall{target: channel + "/posts?limit=3", token: testToken}, 200, ""},
		{"GET /api/v1/channels/{id}/posts", liveCall{target: bluesky + "/posts", cookie: testSession}, 200, ""}, // none
		{"GET /api/v1/channels/{id}/posts", liveCall{target: channel + "/posts?cursor=nonsense", token: testToken}, 400, tresor.ECInvalidCursor},
		{"GET /api/v1/channels/{id}/posts", liveCall{target: channel + "/posts?channel=" + testID, token: testToken}, 400, tresor.ECInvalidParameter},
		{"GET /api/v1/channels/{id}/posts", liveCall{target: channel + "/posts", cookie: pendingSession}, 403, tresor.ECMFARequired},
		// E-mail in and out.
		{"POST /api/v1/contacts/{id}/emails", liveCall{target: "/api/v1/contacts/" + testID + "/emails", token: testToken, purpose: "service", body: `{"kind":"reply","subject":"Ihre Anfrage","body":"Guten Tag"}`}, 201, ""},
		{"POST /api/v1/contacts/{id}/emails", liveCall{target: "/api/v1/contacts/" + testID + "/emails", token: testToken, purpose: "sales", body: `{"kind":"advertising","subject":"Angebot","body":"Neu"}`}, 403, tresor.ECForbidden},
		{"POST /api/v1/contacts/{id}/emails", liveCall{target: "/api/v1/contacts/" + refusedID + "/emails", token: testToken, purpose: "service", body: `{"kind":"reply","subject":"Antwort","body":"Hallo"}`}, 403, tresor.ECReplyWithoutConversation},
		{"POST /api/v1/contacts/{id}/emails", liveCall{target: "/api/v1/contacts/" + refusedID + "/emails", token: testToken, purpose: "service", body: `{"kind":"contract","subject":"Vertrag","body":"Hallo"}`}, 403, tresor.ECNoContract},
		{"POST /api/v1/contacts/{id}/emails", liveCall{target: "/api/v1/contacts/" + unknownID + "/emails", token: testToken, purpose: "service", body: `{"kind":"reply","subject":"Antwort","body":"Hallo"}`}, 404, tresor.ECNotFound},
		{"POST /api/v1/contacts/{id}/emails", liveCall{target: "/api/v1/contacts/" + testID + "/emails", token: testToken, purpose: "service", body: `{"kind":"flyer","subject":"","body":""}`}, 422, tresor.ECValidation},
		{"POST /api/v1/cases/{id}/replies", liveCall{target: "/api/v1/cases/" + testID + "/replies", token: testToken, purpose: "service", body: `{"body":"Wir senden Ersatz."}`}, 201, ""},
		{"POST /api/v1/cases/{id}/replies", liveCall{target: "/api/v1/cases/" + unknownID + "/replies", token: testToken, purpose: "service", body: `{"body":"Hallo"}`}, 404, tresor.ECNotFound},
		{"POST /api/v1/mailbox/poll", liveCall{target: "/api/v1/mailbox/poll", token: testToken, purpose: "service"}, 200, ""},
		{"POST /api/v1/mailbox/poll", liveCall{target: "/api/v1/mailbox/poll", token: testToken, purpose: "sales"}, 403, tresor.ECForbidden},
		{"POST /api/v1/channels/{id}/messages", liveCall{target: channel + "/messages", token: testToken, purpose: "sales", body: message(testID, true, false, "")}, 201, ""},
		{"POST /api/v1/channels/{id}/messages", liveCall{target: channel + "/messages", cookie: testSession, csrf: testCSRF, purpose: "service",
			body: message(testID, false, false, "113380195485020431")}, 201, ""}, // a reply in a conversation the person started
		{"POST /api/v1/channels/{id}/messages", liveCall{target: channel + "/messages", cookie: testSession, purpose: "service",
			body: message(testID, false, false, "113380195485020431")}, 403, tresor.ECCSRF},
		{"POST /api/v1/channels/{id}/messages", liveCall{target: channel + "/messages", token: testToken, purpose: "sales", body: message(testID, false, true, "")}, 403, tresor.ECForbidden},
		{"POST /api/v1/channels/{id}/messages", liveCall{target: channel + "/messages", token: testToken, purpose: "service", body: message(testID, false, false, "")}, 403, tresor.ECForbidden},
		{"POST /api/v1/channels/{id}/messages", liveCall{target: bluesky + "/messages", token: testToken, purpose: "sales", body: message(testID, true, false, "")}, 403, tresor.ECForbidden},
		{"POST /api/v1/channels/{id}/messages", liveCall{target: channel + "/messages", token: testToken, purpose: "sales", body: message(refusedID, true, false, "")}, 403, tresor.ECRestricted},
		{"POST /api/v1/channels/{id}/messages", liveCall{target: channel + "/messages", token: testToken, purpose: "sales", body: message(unknownID, true, false, "")}, 404, tresor.ECNotFound},
		{"POST /api/v1/channels/{id}/messages", liveCall{target: noChannel + "/messages", token: testToken, purpose: "sales", body: message(testID, true, false, "")}, 404, tresor.ECNotFound},
		{"POST /api/v1/channels/{id}/messages", liveCall{target: offline + "/messages", token: testToken, purpose: "sales", body: message(testID, true, false, "")}, 503, tresor.ECUnavailable},
		{"POST /api/v1/channels/{id}/messages", liveCall{target: channel + "/messages", token: testToken, purpose: "sales", body: `{"contact_id":"` + testID + `","text":""}`}, 422, tresor.ECValidation},
		{"POST /api/v1/channels/{id}/messages", liveCall{target: channel + "/messages", token: testToken, purpose: "sales", body: `{"contact_id":"` + testID + `","text":"Hi","to":"@ada"}`}, 400, tresor.ECUnknownField},
		{"POST /api/v1/channels/{id}/inbox", liveCall{target: channel + "/inbox", token: testToken, purpose: "service"}, 200, ""},
		{"POST /api/v1/channels/{id}/inbox", liveCall{target: bluesky + "/inbox", cookie: testSession, csrf: testCSRF, purpose: "data_protection"}, 200, ""}, // nothing new
		{"POST /api/v1/channels/{id}/inbox", liveCall{target: channel + "/inbox", cookie: testSession, purpose: "service"}, 403, tresor.ECCSRF},
		{"POST /api/v1/channels/{id}/inbox", liveCall{target: channel + "/inbox", token: testToken, purpose: "sales"}, 403, tresor.ECForbidden},
		{"POST /api/v1/channels/{id}/inbox", liveCall{target: noChannel + "/inbox", token: testToken, purpose: "service"}, 404, tresor.ECNotFound},
		{"POST /api/v1/channels/{id}/inbox", liveCall{target: offline + "/inbox", token: testToken, purpose: "service"}, 503, tresor.ECUnavailable},
		{"GET /api/v1/channels/{id}/profile", liveCall{target: channel + profile, token: testToken, purpose: "pr"}, 200, ""}, // bio and a field dropped
		{"GET /api/v1/channels/{id}/profile", liveCall{target: bluesky + "/profile?handle=@erika.bsky.social", cookie: testSession, purpose: "data_protection"}, 200, ""},
		{"GET /api/v1/channels/{id}/profile", liveCall{target: channel + profile, token: testToken, purpose: "sales"}, 422, tresor.ECCategoryNotAllowed},
		{"GET /api/v1/channels/{id}/profile", liveCall{target: channel + profile, token: testToken, purpose: "analytics"}, 403, tresor.ECAggregatesOnly},
		{"GET /api/v1/channels/{id}/profile", liveCall{target: channel + "/profile", token: testToken, purpose: "pr"}, 400, tresor.ECInvalidParameter},
		{"GET /api/v1/channels/{id}/profile", liveCall{target: noChannel + profile, token: testToken, purpose: "pr"}, 404, tresor.ECNotFound},
		{"GET /api/v1/channels/{id}/profile", liveCall{target: offline + profile, token: testToken, purpose: "pr"}, 503, tresor.ECUnavailable},
	}
	// The refusals of the privacy policy, which carry an explanation.
	explained := map[tresor.Code]bool{tresor.ECRestricted: true, tresor.ECLegalHold: true, tresor.ECErased: true,
		tresor.ECArchived: true, tresor.ECReasonUnsafe: true, tresor.ECCategoryNotAllowed: true, tresor.ECAggregatesOnly: true}
	succeeded := map[string]bool{}
	for _, c := range calls {
		method, pattern, _ := strings.Cut(c.key, " ")
		c.call.method = method
		if c.call.target == "" {
			c.call.target = pattern
		}
		w := c.call.do(s)
		what := fmt.Sprintf("%s %s (%+v)", method, c.call.target, c.call)
		if w.Code != c.status {
			t.Errorf("%s: status %d, want %d: %s", what, w.Code, c.status, w.Body)
			continue
		}
		if c.code != "" {
			var p problem
			if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || p.Code != c.code {
				t.Errorf("%s: the problem is %s, want %s", what, w.Body, c.code)
			}
			// The fakes refuse like the privacy policy: with the rule in both languages.
			if explained[c.code] && (p.Explanation == nil || p.Explanation.DE == "" || p.Explanation.EN != p.Detail) {
				t.Errorf("%s: the refusal %s lacks its explanation", what, w.Body)
			}
		}
		if w.Code < 300 {
			succeeded[c.key] = true
		}
		check(c.key, w)
	}
	// Without a mail server the information duties cannot be mailed.
	{
		s, f := newTestServer(t)
		f.noMailer = true
		w := liveCall{method: http.MethodPost, target: "/api/v1/notices/send", token: testToken, purpose: "data_protection"}.do(s)
		var p problem
		if err := json.Unmarshal(w.Body.Bytes(), &p); w.Code != http.StatusServiceUnavailable || err != nil || p.Code != tresor.ECUnavailable {
			t.Errorf("POST /api/v1/notices/send without a mail server: status %d, want 503 unavailable: %s", w.Code, w.Body)
		}
		check("POST /api/v1/notices/send", w)
	}
	// A notice the mail server refuses stops the run; it stays open.
	{
		s, f := newTestServer(t)
		f.mailRefused = true
		w := liveCall{method: http.MethodPost, target: "/api/v1/notices/send", token: testToken, purpose: "data_protection"}.do(s)
		var p problem
		if err := json.Unmarshal(w.Body.Bytes(), &p); w.Code != http.StatusServiceUnavailable || err != nil || p.Code != tresor.ECUnavailable {
			t.Errorf("POST /api/v1/notices/send with a refusing mail server: status %d, want 503 unavailable: %s", w.Code, w.Body)
		}
		check("POST /api/v1/notices/send", w)
	}
	// Without connectors for social networks no channel can be added.
	{
		s, f := newTestServer(t)
		f.noConnector = true
		w := liveCall{method: http.MethodPost, target: "/api/v1/channels", token: adminToken, body: mastodonChannel}.do(s)
		var p problem
		if err := json.Unmarshal(w.Body.Bytes(), &p); w.Code != http.StatusServiceUnavailable || err != nil || p.Code != tresor.ECUnavailable {
			t.Errorf("POST /api/v1/channels without connectors: status %d, want 503 unavailable: %s", w.Code, w.Body)
		}
		check("POST /api/v1/channels", w)
	}
	// The channels' rules and the outbound gate refuse with forbidden, and
	// with the rule in both languages: a purpose that does not advertise
	// publishes nothing, one that does not answer people reads no inbox, and
	// a message the outbound gate refuses names its first reason.
	for _, c := range []struct {
		key  string
		call liveCall
	}{
		{"POST /api/v1/channels/{id}/posts", liveCall{target: channel + "/posts", token: testToken, purpose: "service", body: `{"text":"Tresor 1.2"}`}},
		{"POST /api/v1/channels/{id}/inbox", liveCall{target: channel + "/inbox", token: testToken, purpose: "marketing"}},
		{"POST /api/v1/channels/{id}/messages", liveCall{target: channel + "/messages", token: testToken, purpose: "marketing", body: message(testID, false, true, "")}},
	} {
		method, _, _ := strings.Cut(c.key, " ")
		c.call.method = method
		w := c.call.do(s)
		var p problem
		if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || w.Code != http.StatusForbidden || p.Code != tresor.ECForbidden ||
			p.Explanation == nil || p.Explanation.DE == "" || p.Explanation.EN != p.Detail {
			t.Errorf("%s under %s: status %d, want 403 forbidden with an explanation: %s", c.key, c.call.purpose, w.Code, w.Body)
		}
		check(c.key, w)
	}
	// Every route that is neither public nor part of a crud collection
	// (whose answers the other tests cover) has an answer checked here.
	bases := crudBases(routes)
	for _, r := range routes {
		key := r.Method + " " + r.Pattern
		if r.Permission != Public && !inCRUD(bases, r.Pattern) && !succeeded[key] {
			t.Errorf("%s: no successful live call checks its answer against openapi.json; add one", key)
		}
	}
}
