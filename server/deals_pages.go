package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"tresor"
)

// The deals of the workspace (issue [2.2], page 5): a board per pipeline
// with a column per stage, a table of the same deals, and moving a deal to
// another stage by a plain form (htmx swaps the board when it is there).
// Every read and the move go through the gate's DealService under the
// purpose of the session; a stale move is refused by the deal's version.

// dealRoles are the roles the navigation offers the deals to; the gate
// decides, by the purpose, what each may read and change.
var dealRoles = AnyRole(tresor.RoleSales, tresor.RoleDPO)

// boardLimit is the most deals a board shows; beyond it the page says so.
const boardLimit = 2000

func (s *Server) dealPageRoutes() []route {
	return []route{
		{"GET", "/deals", dealRoles, s.dealsPage},
		{"POST", "/deals/{id}/stage", dealRoles, s.dealStageSubmit},
	}
}

// dealsData is what the deals page shows.
type dealsData struct {
	Table     bool // the table view, else the board
	Refusal   *shownRefusal
	Pipelines []*tresor.Pipeline
	Pipeline  *tresor.Pipeline
	Columns   []*dealColumn
	Rows      []*dealCard // the table: every deal in stage order
	Truncated bool
	Stale     bool   // a move was refused: the deal changed meanwhile
	Refused   string // a move was refused by this rule (the code of a refusal)
	Moved     string // the deal just moved, whose button gets the focus back
	Reasons   []string
}

// dealColumn is one stage of the board.
type dealColumn struct {
	Stage tresor.Stage
	Label string // the stage's name in the person's language
	Cards []*dealCard
	Count int64
	Sums  []moneySum
}

// moneySum is the sum of a column's values in one currency.
type moneySum struct {
	Minor    int64
	Currency string
}

// dealCard is one deal with what its buttons need.
type dealCard struct {
	Deal         *tresor.Deal
	StageName    string
	Organization string // its name, "" when none or not readable
	Close        time.Time
	Mine         bool
	Prev, Next   *stageRef
	Won, Lost    *stageRef
	Reopen       *stageRef
}

// Cents is the deal's value for the money template func, which counts in
// hundredths.
func (c *dealCard) Cents() int64 { return centsOf(c.Deal.ValueMinor, c.Deal.Currency) }

// Cents is the sum for the money template func.
func (m moneySum) Cents() int64 { return centsOf(m.Minor, m.Currency) }

// centsOf converts an amount in a currency's minor unit (none for JPY,
// thousandths for KWD) to hundredths, as the money func writes them; a
// third decimal is cut.
func centsOf(minor int64, currency string) int64 {
	_, frac, _ := strings.Cut(tresor.FormatMoney(minor, currency), ".")
	for e := len(frac); e < 2; e++ {
		minor *= 10
	}
	for e := len(frac); e > 2; e-- {
		minor /= 10
	}
	return minor
}

// stageRef is a stage a card's button moves the deal to.
type stageRef struct {
	ID    string
	Label string
}

// stageLabel is a stage's name in the language: the stages of the pipeline
// every installation starts with have German names in the catalogue, as
// long as an administrator has not renamed them; other names are shown as
// configured.
func stageLabel(lang string, pl *tresor.Pipeline, st tresor.Stage) string {
	key := "deals_stage_" + st.ID
	if m, ok := catalogue[key]; ok && pl.ID == tresor.DefaultPipelineID && m["en"] == st.Name {
		return translate(lang, key)
	}
	return st.Name
}

// shownRefusal is a refusal of the gate shown on a page with its stable code.
type shownRefusal struct {
	refusal        // the code and the rule in the person's language
	Key     string // a catalogue key explaining it, "" for the gate's message
}

// dealRefusalOf turns a refusal (4xx) of the gate into what a page shows; other
// errors are returned as they are.
func dealRefusalOf(r *http.Request, err error) (*shownRefusal, error) {
	if _, ok := pageStatus(err); !ok || tresor.ErrorCode(err) == tresor.ECUnauthenticated || tresor.ErrorCode(err) == tresor.ECMFARequired {
		return nil, err
	}
	code := tresor.ErrorCode(err)
	rf := &shownRefusal{refusal: refusal{Code: string(code), Message: tresor.ErrorMessage(err)}}
	if shown := refusalOf(r, err); shown != nil {
		rf.refusal = *shown
	}
	if code == tresor.ECPurposeMissing {
		rf.Key = "deals_purpose_missing"
	}
	return rf, nil
}

// status is the status of a page showing the refusal: 200 for none and for
// a missing purpose (the workspace's ordinary state before one is chosen),
// else the refusal's own.
func (rf *shownRefusal) status() int {
	if rf == nil || rf.Code == string(tresor.ECPurposeMissing) {
		return http.StatusOK
	}
	if st := statusOf[tresor.Code(rf.Code)]; st != 0 {
		return st
	}
	return http.StatusForbidden
}

// lostReasons are the reasons a deal is won or lost, recorded as a note on the deal.
var lostReasons = []string{"price", "competitor", "timing", "no_budget", "no_decision", "other"}

func (s *Server) dealsPage(w http.ResponseWriter, r *http.Request) error {
	v, err := s.workspaceView(r, "deals_title", "/deals")
	if err != nil {
		return err
	}
	q := r.URL.Query()
	data := &dealsData{Table: q.Get("view") == "table", Stale: q.Get("stale") != "", Reasons: lostReasons}
	if c := tresor.Code(q.Get("refused")); slices.Contains(tresor.Codes(), c) {
		data.Refused = string(c)
	}
	if id := q.Get("moved"); tresor.ValidID(id) {
		data.Moved = id
	}
	v.Data = data
	if err := s.loadBoard(r, data, q.Get("pipeline")); err != nil {
		if data.Refusal, err = dealRefusalOf(r, err); err != nil {
			return err
		}
	}
	return s.render(w, r, data.Refusal.status(), "deals", v)
}

// loadBoard reads the pipelines, the chosen one's deals and the names of
// their organizations through the gate.
func (s *Server) loadBoard(r *http.Request, data *dealsData, chosen string) error {
	ctx := r.Context()
	pls, err := s.svc.Deals.Pipelines(ctx, tresor.Page{Limit: 100})
	if err != nil {
		return err
	}
	data.Pipelines = pls.Items
	if len(pls.Items) == 0 {
		return nil
	}
	data.Pipeline = pls.Items[0]
	for _, pl := range pls.Items {
		if pl.ID == chosen || (chosen == "" && pl.ID == tresor.DefaultPipelineID) {
			data.Pipeline = pl
		}
	}
	pl := data.Pipeline
	lang := language(r)
	var open []*stageRef
	var won, lost *stageRef
	cols := map[string]*dealColumn{}
	for _, st := range pl.Stages {
		c := &dealColumn{Stage: st, Label: stageLabel(lang, pl, st)}
		data.Columns = append(data.Columns, c)
		cols[st.ID] = c
		ref := &stageRef{ID: st.ID, Label: c.Label}
		switch {
		case st.Outcome == tresor.OutcomeOpen:
			open = append(open, ref)
		case st.Outcome == tresor.OutcomeWon && won == nil:
			won = ref
		case st.Outcome == tresor.OutcomeLost && lost == nil:
			lost = ref
		}
	}
	var all []*tresor.Deal
	f := tresor.DealFilter{PipelineID: pl.ID, Page: tresor.Page{Limit: tresor.MaxPageSize}}
	for {
		l, err := s.svc.Deals.Deals(ctx, f)
		if err != nil {
			return err
		}
		all = append(all, l.Items...)
		if l.Next == "" {
			break
		}
		if len(all) >= boardLimit {
			data.Truncated = true
			break
		}
		if f.After, err = tresor.DecodeCursor(l.Next); err != nil {
			return err
		}
	}
	a := tresor.ActorFrom(ctx)
	orgs := map[string]string{}
	for _, d := range all {
		c := cols[d.Stage]
		if c == nil {
			continue // a stage the pipeline no longer has; the gate prevents this
		}
		card := &dealCard{Deal: d, StageName: c.Label, Mine: a != nil && d.OwnerID != "" && d.OwnerID == a.UserID}
		if d.ExpectedClose.Valid() {
			card.Close, _ = parseDate(d.ExpectedClose)
		}
		if d.OrganizationID != "" {
			name, ok := orgs[d.OrganizationID]
			if !ok {
				if o, err := s.svc.Organizations.Organization(ctx, d.OrganizationID); err == nil {
					name = o.Name
				}
				orgs[d.OrganizationID] = name
			}
			card.Organization = name
		}
		if c.Stage.Outcome == tresor.OutcomeOpen {
			i := slices.IndexFunc(open, func(st *stageRef) bool { return st.ID == d.Stage })
			if i > 0 {
				card.Prev = open[i-1]
			}
			if i+1 < len(open) {
				card.Next = open[i+1]
			}
			card.Won, card.Lost = won, lost
		} else if len(open) > 0 {
			card.Reopen = open[len(open)-1]
		}
		c.Cards = append(c.Cards, card)
		c.Count++
		if d.Currency != "" {
			j := slices.IndexFunc(c.Sums, func(m moneySum) bool { return m.Currency == d.Currency })
			if j < 0 {
				c.Sums = append(c.Sums, moneySum{Currency: d.Currency})
				j = len(c.Sums) - 1
			}
			c.Sums[j].Minor += d.ValueMinor
		}
	}
	for _, c := range data.Columns {
		slices.SortFunc(c.Sums, func(a, b moneySum) int { return cmpString(a.Currency, b.Currency) })
		data.Rows = append(data.Rows, c.Cards...)
	}
	return nil
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// dealStageSubmit moves a deal to another stage of its pipeline, on the
// condition that it is still the version the page showed; a won or lost
// deal's reason is recorded as an internal note on it.
func (s *Server) dealStageSubmit(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	stage := r.PostFormValue("stage")
	version, err := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	if err != nil || version < 1 {
		return tresor.Errorf(tresor.ECInvalidParameter, "The form lacks the version of the deal; reload the page.")
	}
	reason := r.PostFormValue("reason")
	if reason != "" && !slices.Contains(lostReasons, reason) {
		return tresor.Errorf(tresor.ECInvalidParameter, "%q is not a reason this form offers.", reason)
	}
	patch, _ := json.Marshal(map[string]string{"stage": stage})
	back := url.Values{}
	if pl := r.PostFormValue("pipeline"); pl != "" && len(pl) <= 100 { // encoded below; the board reads it through the gate
		back.Set("pipeline", pl)
	}
	if r.PostFormValue("view") == "table" {
		back.Set("view", "table")
	}
	d, err := s.svc.Deals.UpdateDeal(r.Context(), id, tresor.Update{Patch: patch, IfVersion: version})
	_, refused := pageStatus(err)
	switch {
	case tresor.ErrorCode(err) == tresor.ECVersionMismatch:
		// A double submit finds the deal where it was sent: that is no news.
		if cur, err := s.svc.Deals.Deal(r.Context(), id); err == nil && cur.Stage == stage {
			back.Set("moved", cur.ID)
		} else {
			back.Set("stale", id)
		}
	case refused && r.Header.Get("HX-Request") != "":
		// htmx swaps no 4xx answer: the board says the move was refused,
		// by the rule's code (the page without script shows the whole message).
		back.Set("refused", string(tresor.ErrorCode(err)))
	case err != nil:
		return err
	default:
		back.Set("moved", d.ID)
		if reason != "" && d.ClosedAt != nil {
			st := "won"
			if pl, err := s.svc.Deals.Pipeline(r.Context(), d.PipelineID); err == nil {
				if x, ok := pl.Stage(d.Stage); ok {
					st = string(x.Outcome)
				}
			}
			note := &tresor.Interaction{Kind: tresor.KindNote, Direction: tresor.DirectionInternal, OccurredAt: time.Now().UTC(),
				DealID: d.ID, OrganizationID: d.OrganizationID,
				InteractionContent: tresor.InteractionContent{Subject: fmt.Sprintf("deal %s: %s", st, reason)},
				// The note records the sales process with a prospective
				// customer: steps before a contract (Art. 6(1)(b) GDPR).
				Collection: tresor.Collection{LegalBasis: tresor.BasisContract, Source: tresor.SourceManual}}
			if a := tresor.ActorFrom(r.Context()); a != nil {
				note.OwnerID = a.UserID
			}
			if err := s.svc.Interactions.CreateInteraction(r.Context(), note); err != nil {
				return err
			}
		}
	}
	http.Redirect(w, r, "/deals?"+back.Encode()+"#board", http.StatusSeeOther)
	return nil
}

// parseDate reads a calendar date for the date template func.
func parseDate(d tresor.Date) (time.Time, error) {
	return time.Parse(time.DateOnly, string(d))
}
