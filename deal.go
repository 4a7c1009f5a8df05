package tresor

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Outcome is what reaching a pipeline stage means for a deal.
type Outcome string

// The outcomes of a stage.
const (
	OutcomeOpen Outcome = "open"
	OutcomeWon  Outcome = "won"
	OutcomeLost Outcome = "lost"
)

// Outcomes lists every outcome.
func Outcomes() []Outcome { return []Outcome{OutcomeOpen, OutcomeWon, OutcomeLost} }

// DefaultPipelineID is the pipeline every installation starts with (created by the first migration).
const DefaultPipelineID = "default"

// Pipeline is a configurable sequence of stages a deal moves through.
type Pipeline struct {
	Meta
	Name   string  `json:"name"`
	Stages []Stage `json:"stages"`
}

// Stage is one step of a pipeline.
type Stage struct {
	ID          string  `json:"id"`
	Name        string  `json:"name"`
	Outcome     Outcome `json:"outcome"`
	Probability int     `json:"probability"` // percent
}

// Stage returns the stage with the given id.
func (pl *Pipeline) Stage(id string) (Stage, bool) {
	for _, s := range pl.Stages {
		if s.ID == id {
			return s, true
		}
	}
	return Stage{}, false
}

// Validate checks the pipeline.
func (pl *Pipeline) Validate() error {
	var p Problems
	if !slug.MatchString(pl.ID) {
		p.Add("id", "%q is not a pipeline id; use lower-case letters, digits, - and _ (at most 63)", pl.ID)
	}
	checkText(&p, "name", pl.Name, maxShortText, true, false)
	if len(pl.Stages) == 0 || len(pl.Stages) > 50 {
		p.Add("stages", "a pipeline has 1 to 50 stages")
	}
	open := false
	seen := map[string]bool{}
	for i, s := range pl.Stages {
		f := fmt.Sprintf("stages[%d]", i)
		if !slug.MatchString(s.ID) {
			p.Add(f+".id", "%q is not a stage id; use lower-case letters, digits, - and _", s.ID)
		} else if seen[s.ID] {
			p.Add(f+".id", "%q is used twice", s.ID)
		}
		seen[s.ID] = true
		checkText(&p, f+".name", s.Name, maxShortText, true, false)
		checkOneOf(&p, f+".outcome", s.Outcome, Outcomes(), true)
		if s.Probability < 0 || s.Probability > 100 {
			p.Add(f+".probability", "is a percentage from 0 to 100")
		}
		open = open || s.Outcome == OutcomeOpen
	}
	if len(pl.Stages) > 0 && !open {
		p.Add("stages", "a pipeline needs at least one open stage")
	}
	return p.Err("pipeline")
}

// Deal is a sales opportunity in a pipeline. Its fields are business data,
// not personal data; the people involved are linked by id.
type Deal struct {
	Meta
	Title          string     `json:"title" category:"none"`
	PipelineID     string     `json:"pipeline" category:"none"`
	Stage          string     `json:"stage" category:"none"`
	Value          string     `json:"value,omitempty" category:"none"` // decimal, e.g. "12500.00"
	Currency       string     `json:"currency,omitempty" category:"none"`
	ValueMinor     int64      `json:"-" category:"none"` // Value in the currency's minor unit
	OwnerID        string     `json:"owner_id,omitempty" category:"none"`
	ContactID      string     `json:"contact_id,omitempty" category:"none"`
	OrganizationID string     `json:"organization_id,omitempty" category:"none"`
	ExpectedClose  Date       `json:"expected_close,omitempty" category:"none"`
	ClosedAt       *time.Time `json:"closed_at,omitempty" category:"none"`
	// OutcomeReason says why a won or lost deal ended so, e.g. "competitor";
	// an open deal has none (it is cleared when the deal reopens).
	OutcomeReason string `json:"outcome_reason,omitempty" category:"none"`
	Archive
}

// Validate checks the deal's own fields and computes ValueMinor. Whether the
// stage exists in the pipeline is checked against the stored pipeline.
func (d *Deal) Validate() error {
	var p Problems
	checkText(&p, "title", d.Title, maxShortText, true, false)
	if !slug.MatchString(d.PipelineID) {
		p.Add("pipeline", "%q is not a pipeline id", d.PipelineID)
	}
	if !slug.MatchString(d.Stage) {
		p.Add("stage", "is required: the id of a stage of the pipeline")
	}
	switch {
	case d.Value == "" && d.Currency == "":
		d.ValueMinor = 0
	case d.Currency == "":
		p.Add("currency", "a value needs a currency, an ISO 4217 code such as EUR")
	case d.Value == "":
		p.Add("value", "a currency needs a value such as \"12500.00\"")
	default:
		minor, err := ParseMoney(d.Value, d.Currency)
		if err != nil {
			p.Add(moneyField(err), "%s", err)
		} else {
			d.ValueMinor = minor
			d.Value = FormatMoney(minor, d.Currency)
		}
	}
	checkID(&p, "owner_id", d.OwnerID)
	checkID(&p, "contact_id", d.ContactID)
	checkID(&p, "organization_id", d.OrganizationID)
	if d.ExpectedClose != "" && !d.ExpectedClose.Valid() {
		p.Add("expected_close", "%q is not a date in the form YYYY-MM-DD", d.ExpectedClose)
	}
	checkText(&p, "outcome_reason", d.OutcomeReason, maxShortText, false, false)
	return p.Err("deal")
}

type currencyError struct{ error }

func moneyField(err error) string {
	if _, ok := err.(currencyError); ok {
		return "currency"
	}
	return "value"
}

// ParseMoney parses a non-negative decimal amount in the given ISO 4217
// currency into minor units, refusing more decimals than the currency has.
func ParseMoney(value, currency string) (int64, error) {
	exp, ok := currencyExponent(currency)
	if !ok {
		return 0, currencyError{fmt.Errorf("%q is not an ISO 4217 currency code such as EUR, CHF or USD", currency)}
	}
	whole, frac, hasFrac := strings.Cut(value, ".")
	if whole == "" || strings.TrimLeft(whole, "0123456789") != "" || (hasFrac && (frac == "" || strings.TrimLeft(frac, "0123456789") != "")) {
		return 0, fmt.Errorf("%q is not a decimal amount such as 12500.00 (a dot as decimal separator, no thousands separators, not negative)", value)
	}
	if len(frac) > exp {
		return 0, fmt.Errorf("%q has %d decimals; %s has %d", value, len(frac), currency, exp)
	}
	frac += strings.Repeat("0", exp-len(frac))
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil || n > math.MaxInt64/10 {
		return 0, fmt.Errorf("%q is too large", value)
	}
	return n, nil
}

// FormatMoney formats minor units of a currency as a decimal string.
func FormatMoney(minor int64, currency string) string {
	exp, _ := currencyExponent(currency)
	s := strconv.FormatInt(minor, 10)
	if exp == 0 {
		return s
	}
	if len(s) <= exp {
		s = strings.Repeat("0", exp-len(s)+1) + s
	}
	return s[:len(s)-exp] + "." + s[len(s)-exp:]
}

// currencyExponent returns the number of decimals of an ISO 4217 currency.
func currencyExponent(code string) (int, bool) {
	word := " " + code + " "
	if len(code) != 3 || strings.TrimLeft(code, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" || !strings.Contains(isoCurrencies, word) {
		return 0, false
	}
	switch {
	case strings.Contains(zeroDecimalCurrencies, word):
		return 0, true
	case strings.Contains(threeDecimalCurrencies, word):
		return 3, true
	case strings.Contains(fourDecimalCurrencies, word):
		return 4, true
	}
	return 2, true
}

// Active ISO 4217 codes (and a few recently replaced ones that old records may use).
const (
	isoCurrencies = " AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN" +
		" BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD" +
		" FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HRK HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR" +
		" KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR" +
		" MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD" +
		" SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS" +
		" VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG "
	zeroDecimalCurrencies  = " BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF "
	threeDecimalCurrencies = " BHD IQD JOD KWD LYD OMR TND "
	fourDecimalCurrencies  = " CLF UYW "
)

// DealFilter selects deals in a list.
type DealFilter struct {
	OwnerID        string
	PipelineID     string
	Stage          string
	ContactID      string
	OrganizationID string
	UpdatedSince   time.Time
	// Sort orders the list by one of DealSorts, descending with a leading
	// "-"; "" lists by id (the order of creation). AfterKey is the sort key
	// of the deal Page.After names (from a cursor of EncodeDealCursor).
	Sort     string
	AfterKey string
	// HideArchived leaves out archived records; set by the gate.
	HideArchived bool
	// HideRestricted leaves out the records of people whose processing is
	// restricted (Art. 18); set by the gate.
	HideRestricted bool
	Page
}

// DealSorts are the orders a list of deals can have: by title, by value
// (in the currency's minor unit), by stage (the pipeline's order of its
// stages), by expected close date (deals without one last) and by the time
// of the last change. Each is ascending, or descending with a leading "-";
// deals with equal keys follow their ids.
func DealSorts() []string { return []string{"title", "value", "stage", "close_date", "updated"} }

// ValidDealSort says whether s is "" or one of DealSorts, with or without "-".
func ValidDealSort(s string) bool {
	return s == "" || slices.Contains(DealSorts(), strings.TrimPrefix(s, "-"))
}

// NoCloseDateKey is the sort key of a deal without an expected close date: after every date.
const NoCloseDateKey = "9999-12-31~"

// SortKey is the deal's key in a list sorted by sort (one of DealSorts):
// what a cursor of the list carries besides the id.
func (d *Deal) SortKey(sort string) string {
	switch strings.TrimPrefix(sort, "-") {
	case "title":
		return d.Title
	case "value":
		return strconv.FormatInt(d.ValueMinor, 10)
	case "stage":
		return d.PipelineID + "/" + d.Stage
	case "close_date":
		if d.ExpectedClose == "" {
			return NoCloseDateKey
		}
		return string(d.ExpectedClose)
	case "updated":
		return strconv.FormatInt(d.UpdatedAt.UnixMicro(), 10)
	}
	return ""
}

// validSortKey says whether key can be a deal's key under sort.
func validSortKey(sort, key string) bool {
	switch strings.TrimPrefix(sort, "-") {
	case "title":
		return utf8.ValidString(key) && len(key) <= 4*maxShortText
	case "value", "updated":
		_, err := strconv.ParseInt(key, 10, 64)
		return err == nil
	case "stage":
		pl, st, ok := strings.Cut(key, "/")
		return ok && slug.MatchString(pl) && slug.MatchString(st)
	case "close_date":
		return key == NoCloseDateKey || Date(key).Valid()
	}
	return false
}

// DealService is the gate's interface for deals and pipelines.
type DealService interface {
	CreateDeal(ctx context.Context, d *Deal) error
	Deal(ctx context.Context, id string) (*Deal, error)
	Deals(ctx context.Context, f DealFilter) (*List[*Deal], error)
	UpdateDeal(ctx context.Context, id string, u Update) (*Deal, error)
	DeleteDeal(ctx context.Context, id string, ifVersion int64) error

	CreatePipeline(ctx context.Context, pl *Pipeline) error
	Pipeline(ctx context.Context, id string) (*Pipeline, error)
	Pipelines(ctx context.Context, p Page) (*List[*Pipeline], error)
	UpdatePipeline(ctx context.Context, id string, u Update) (*Pipeline, error)
	DeletePipeline(ctx context.Context, id string, ifVersion int64) error
}
