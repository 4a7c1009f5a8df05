package server

import (
	"cmp"
	"encoding/json"
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
	Table       bool // the table view, else the board
	Refusal     *shownRefusal
	Pipelines   []*tresor.Pipeline
	Pipeline    *tresor.Pipeline
	Columns     []*dealColumn
	Rows        []*dealCard // the table: one page of deals in its order
	Truncated   bool
	Stale       bool   // a move was refused: the deal changed meanwhile
	Refused     string // a move was refused by this rule (the code of a refusal)
	Moved       string // the deal just moved, whose button gets the focus back
	WonReasons  []string
	LostReasons []string
	// ReasonMissing is the deal that was to be marked lost without a
	// reason: its form shows the error at the field.
	ReasonMissing string
	Sort          string         // the table's order, one of tresor.DealSorts
	Heads         []dealSortHead // the table's sortable column heads
	Next          string         // the cursor of the table's next page
	Paged         bool           // the table shows a page after the first
	Chart         *dealChart     // the board's bar chart per stage
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
	Reason       string // why it was won or lost, in the person's language
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

// dealLostReasons and dealWonReasons are the reasons the board offers for a
// lost and for a won deal, stored as the deal's outcome_reason.
var (
	dealLostReasons = []string{"price", "competitor", "timing", "no_budget", "no_decision", "other"}
	dealWonReasons  = []string{"product_fit", "price", "relationship", "timing", "other"}
)

// dealReasonLabel is a reason in the language; a reason given through the
// API that the board does not offer is shown as it is.
func dealReasonLabel(lang, reason string) string {
	if _, ok := catalogue["deals_reason_"+reason]; ok {
		return translate(lang, "deals_reason_"+reason)
	}
	return reason
}

// dealTablePage is the number of deals on one page of the table.
const dealTablePage = 50

func (s *Server) dealsPage(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	data := &dealsData{Table: q.Get("view") == "table", Stale: q.Get("stale") != ""}
	if c := tresor.Code(q.Get("refused")); slices.Contains(tresor.Codes(), c) {
		data.Refused = string(c)
	}
	if id := q.Get("moved"); tresor.ValidID(id) {
		data.Moved = id
	}
	return s.renderDeals(w, r, http.StatusOK, data, q.Get("pipeline"), q.Get("sort"), q.Get("cursor"))
}

// renderDeals loads the board or a page of the table and renders it with
// the status (or the status of a refusal of the gate).
func (s *Server) renderDeals(w http.ResponseWriter, r *http.Request, status int, data *dealsData, pipeline, sort, cursor string) error {
	v, err := s.workspaceView(r, "deals_title", "/deals")
	if err != nil {
		return err
	}
	data.WonReasons, data.LostReasons = dealWonReasons, dealLostReasons
	v.Data = data
	if err := s.loadBoard(r, data, pipeline, sort, cursor); err != nil {
		if data.Refusal, err = dealRefusalOf(r, err); err != nil {
			return err
		}
	}
	if data.Refusal != nil {
		status = data.Refusal.status()
	}
	return s.render(w, r, status, "deals", v)
}

// dealStages are the stages of a pipeline as the board shows them.
type dealStages struct {
	cols      map[string]*dealColumn
	open      []*stageRef
	won, lost *stageRef
	orgs      map[string]string // names of organizations read so far
}

// loadBoard reads the pipelines, the chosen one's deals (all for the board,
// one page in the order sort for the table) and the names of their
// organizations through the gate.
func (s *Server) loadBoard(r *http.Request, data *dealsData, chosen, sort, cursor string) error {
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
	ds := &dealStages{cols: map[string]*dealColumn{}, orgs: map[string]string{}}
	for _, st := range pl.Stages {
		c := &dealColumn{Stage: st, Label: stageLabel(lang, pl, st)}
		data.Columns = append(data.Columns, c)
		ds.cols[st.ID] = c
		ref := &stageRef{ID: st.ID, Label: c.Label}
		switch {
		case st.Outcome == tresor.OutcomeOpen:
			ds.open = append(ds.open, ref)
		case st.Outcome == tresor.OutcomeWon && ds.won == nil:
			ds.won = ref
		case st.Outcome == tresor.OutcomeLost && ds.lost == nil:
			ds.lost = ref
		}
	}
	if data.Table {
		return s.loadDealTable(r, data, ds, sort, cursor)
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
	for _, d := range all {
		c := ds.cols[d.Stage]
		if c == nil {
			continue // a stage the pipeline no longer has; the gate prevents this
		}
		c.Cards = append(c.Cards, s.dealCardOf(r, ds, d))
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
		slices.SortFunc(c.Sums, func(a, b moneySum) int { return cmp.Compare(a.Currency, b.Currency) })
	}
	data.Chart = dealChartOf(lang, data.Columns)
	return nil
}

// loadDealTable reads one page of the pipeline's deals in the order sort
// (by stage when none is given); the cursor carries the order of the page
// it continues.
func (s *Server) loadDealTable(r *http.Request, data *dealsData, ds *dealStages, sort, cursor string) error {
	if sort == "" && cursor == "" {
		sort = "stage"
	}
	if !tresor.ValidDealSort(sort) {
		return tresor.Errorf(tresor.ECInvalidParameter, "%q is not an order of the table; its column heads offer the orders.", sort)
	}
	order, key, after, err := tresor.DecodeDealCursor(sort, cursor)
	if err != nil {
		return err
	}
	if order == "" {
		if after != "" {
			// A cursor of the unsorted list: its key is not in it.
			return tresor.Errorf(tresor.ECInvalidCursor, "The cursor is not one Tresor issued for this order; start again without a cursor.")
		}
		order = "stage"
	}
	data.Sort, data.Paged = order, after != ""
	l, err := s.svc.Deals.Deals(r.Context(), tresor.DealFilter{PipelineID: data.Pipeline.ID, Sort: order, AfterKey: key,
		Page: tresor.Page{After: after, Limit: dealTablePage}})
	if err != nil {
		return err
	}
	data.Next = l.Next
	for _, d := range l.Items {
		if ds.cols[d.Stage] != nil {
			data.Rows = append(data.Rows, s.dealCardOf(r, ds, d))
		}
	}
	lang := language(r)
	for _, h := range []struct{ key, label string }{
		{"title", "deals_col_title"}, {"stage", "deals_col_stage"}, {"value", "deals_value"},
		{"close_date", "deals_close"}, {"updated", "deals_updated"},
	} {
		head := dealSortHead{Key: h.key, Label: translate(lang, h.label), Num: h.key == "value"}
		next := h.key
		switch order {
		case h.key:
			head.Sort, next = "ascending", "-"+h.key
		case "-" + h.key:
			head.Sort = "descending"
		}
		head.Action = translate(lang, "deals_sort_asc")
		if strings.HasPrefix(next, "-") {
			head.Action = translate(lang, "deals_sort_desc")
		}
		head.Href = "/deals?" + url.Values{"view": {"table"}, "pipeline": {data.Pipeline.ID}, "sort": {next}}.Encode()
		data.Heads = append(data.Heads, head)
	}
	return nil
}

// dealSortHead is a column head of the table that sorts it.
type dealSortHead struct {
	Key, Label string
	Num        bool   // a number, aligned right
	Sort       string // aria-sort: "ascending", "descending" or "" when the table is not in its order
	Href       string // the table in this column's (next) order
	Action     string // what the link does, for those who do not see the arrow
}

// dealCardOf is a deal with its stage's name, its organization's name and
// the moves its buttons offer.
func (s *Server) dealCardOf(r *http.Request, ds *dealStages, d *tresor.Deal) *dealCard {
	ctx := r.Context()
	c := ds.cols[d.Stage]
	a := tresor.ActorFrom(ctx)
	card := &dealCard{Deal: d, StageName: c.Label, Mine: a != nil && d.OwnerID != "" && d.OwnerID == a.UserID}
	if d.OutcomeReason != "" {
		card.Reason = dealReasonLabel(language(r), d.OutcomeReason)
	}
	if d.ExpectedClose.Valid() {
		card.Close, _ = parseDate(d.ExpectedClose)
	}
	if d.OrganizationID != "" {
		name, ok := ds.orgs[d.OrganizationID]
		if !ok {
			if o, err := s.svc.Organizations.Organization(ctx, d.OrganizationID); err == nil {
				name = o.Name
			}
			ds.orgs[d.OrganizationID] = name
		}
		card.Organization = name
	}
	if c.Stage.Outcome == tresor.OutcomeOpen {
		i := slices.IndexFunc(ds.open, func(st *stageRef) bool { return st.ID == d.Stage })
		if i > 0 {
			card.Prev = ds.open[i-1]
		}
		if i+1 < len(ds.open) {
			card.Next = ds.open[i+1]
		}
		card.Won, card.Lost = ds.won, ds.lost
	} else if len(ds.open) > 0 {
		card.Reopen = ds.open[len(ds.open)-1]
	}
	return card
}

// dealStageSubmit moves a deal to another stage of its pipeline, on the
// condition that it is still the version the page showed; a won or lost
// deal keeps its reason (outcome_reason), which a lost one must give.
func (s *Server) dealStageSubmit(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	stage := r.PostFormValue("stage")
	version, err := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	if err != nil || version < 1 {
		return tresor.Errorf(tresor.ECInvalidParameter, "The form lacks the version of the deal; reload the page.")
	}
	reason := r.PostFormValue("reason")
	if reason != "" && !slices.Contains(dealLostReasons, reason) && !slices.Contains(dealWonReasons, reason) {
		return tresor.Errorf(tresor.ECInvalidParameter, "%q is not a reason this form offers.", reason)
	}
	back := url.Values{}
	pipeline := r.PostFormValue("pipeline")
	if pipeline != "" && len(pipeline) <= 100 { // encoded below; the board reads it through the gate
		back.Set("pipeline", pipeline)
	}
	if r.PostFormValue("view") == "table" {
		back.Set("view", "table")
	}
	if reason == "" && s.dealStageIsLost(r, id, stage) {
		// A lost deal says why: the board comes back with the error at the
		// reason's field (htmx swaps only a 200).
		status := http.StatusUnprocessableEntity
		if r.Header.Get("HX-Request") != "" {
			status = http.StatusOK
		}
		return s.renderDeals(w, r, status, &dealsData{ReasonMissing: id}, back.Get("pipeline"), "", "")
	}
	fields := map[string]string{"stage": stage}
	if reason != "" {
		fields["outcome_reason"] = reason
	}
	patch, _ := json.Marshal(fields)
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
	}
	http.Redirect(w, r, "/deals?"+back.Encode()+"#board", http.StatusSeeOther)
	return nil
}

// dealStageIsLost says whether the stage is a lost stage of the deal's
// pipeline; a deal or pipeline the gate does not show is left to the move
// itself to refuse.
func (s *Server) dealStageIsLost(r *http.Request, id, stage string) bool {
	d, err := s.svc.Deals.Deal(r.Context(), id)
	if err != nil {
		return false
	}
	pl, err := s.svc.Deals.Pipeline(r.Context(), d.PipelineID)
	if err != nil {
		return false
	}
	st, ok := pl.Stage(stage)
	return ok && st.Outcome == tresor.OutcomeLost && d.Stage != stage
}

// parseDate reads a calendar date for the date template func.
func parseDate(d tresor.Date) (time.Time, error) {
	return time.Parse(time.DateOnly, string(d))
}
