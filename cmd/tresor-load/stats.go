package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

// tally is what one client saw of one route during a step. Latencies are
// those of successful answers only: a refusal or a failure is counted under
// its status and code and never mixed into the figures of successes.
type tally struct {
	ok     []time.Duration
	errors map[string]int // "404 not_found", "503 search_warming_up", "transport"
}

func (t *tally) add(d time.Duration, failure string) {
	if failure == "" {
		t.ok = append(t.ok, d)
		return
	}
	if t.errors == nil {
		t.errors = map[string]int{}
	}
	t.errors[failure]++
}

// merge folds other into t.
func (t *tally) merge(other *tally) {
	t.ok = append(t.ok, other.ok...)
	for k, n := range other.errors {
		if t.errors == nil {
			t.errors = map[string]int{}
		}
		t.errors[k] += n
	}
}

// RouteReport is one route's figures in one step.
type RouteReport struct {
	Route    string         `json:"route"`
	Requests int            `json:"requests"` // answered or failed, successes and errors
	OK       int            `json:"ok"`
	ReqPerS  float64        `json:"req_per_s"` // successful answers per second of the step
	P50MS    float64        `json:"p50_ms"`
	P90MS    float64        `json:"p90_ms"`
	P99MS    float64        `json:"p99_ms"`
	MaxMS    float64        `json:"max_ms"`
	Errors   map[string]int `json:"errors,omitempty"`
}

// report turns a merged tally into figures over the step's wall time.
func (t *tally) report(route string, wall time.Duration) RouteReport {
	lat := slices.Clone(t.ok)
	slices.Sort(lat)
	r := RouteReport{Route: route, OK: len(lat), Errors: t.errors}
	r.Requests = r.OK
	for _, n := range t.errors {
		r.Requests += n
	}
	if wall > 0 {
		r.ReqPerS = float64(r.OK) / wall.Seconds()
	}
	r.P50MS = ms(percentile(lat, 50))
	r.P90MS = ms(percentile(lat, 90))
	r.P99MS = ms(percentile(lat, 99))
	if len(lat) > 0 {
		r.MaxMS = ms(lat[len(lat)-1])
	}
	return r
}

// percentile is the nearest-rank percentile p (0 < p ≤ 100) of sorted: the
// smallest recorded value that at least p percent of all values do not
// exceed. No interpolation, so it is always a latency that was measured.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = max(1, min(rank, len(sorted)))
	return sorted[rank-1]
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }

// ratio is a/b, or 0 when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// StepReport is one client count: /healthz alone, then the mix.
type StepReport struct {
	Clients int           `json:"clients"`
	Healthz RouteReport   `json:"healthz"`
	Routes  []RouteReport `json:"routes"`
	// GetToHealthz is the single GET's successful req/s over /healthz's, both
	// measured in this step with the same clients; 0 without GETs in the mix.
	GetToHealthz float64 `json:"get_to_healthz"`
	// HealthzCPUMS and MixCPUMS are the server's processor time per
	// answered request of each phase, in ms (with --server-pid; else 0).
	HealthzCPUMS float64 `json:"healthz_server_cpu_ms,omitempty"`
	MixCPUMS     float64 `json:"mix_server_cpu_ms,omitempty"`
}

// Report is the whole run, as written by --json.
type Report struct {
	URL      string         `json:"url"`
	Purpose  string         `json:"purpose"`
	Started  time.Time      `json:"started"`
	Duration string         `json:"duration"`
	Warmup   string         `json:"warmup"`
	Mix      map[string]int `json:"mix"`
	IDs      int            `json:"ids"`
	Steps    []StepReport   `json:"steps"`
}

// serverErrors counts 5xx answers and failed requests over the whole run.
func (r *Report) serverErrors() int {
	n := 0
	for _, s := range r.Steps {
		for _, rr := range append([]RouteReport{s.Healthz}, s.Routes...) {
			for k, c := range rr.Errors {
				if strings.HasPrefix(k, "5") || k == "transport" {
					n += c
				}
			}
		}
	}
	return n
}

// writeTable prints the report for people.
func (r *Report) writeTable(w io.Writer) {
	fmt.Fprintf(w, "%s  purpose %s  %s per step after %s warm-up  %d ids\n", r.URL, r.Purpose, r.Duration, r.Warmup, r.IDs)
	for _, s := range r.Steps {
		fmt.Fprintf(w, "\n%d clients\n", s.Clients)
		fmt.Fprintf(w, "%-8s %9s %10s %8s %8s %8s %8s  %s\n", "route", "requests", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "errors")
		for _, rr := range append([]RouteReport{s.Healthz}, s.Routes...) {
			if rr.Route == "" {
				continue // /healthz was not measured (--healthz=false)
			}
			fmt.Fprintf(w, "%-8s %9d %10.0f %8.2f %8.2f %8.2f %8.2f  %s\n", rr.Route, rr.Requests, rr.ReqPerS, rr.P50MS, rr.P90MS, rr.P99MS, rr.MaxMS, errorList(rr.Errors))
		}
		if s.GetToHealthz > 0 {
			fmt.Fprintf(w, "get / healthz: %.3f\n", s.GetToHealthz)
		}
		if s.MixCPUMS > 0 {
			fmt.Fprintf(w, "server processor time per answered request: healthz %.3f ms, mix %.3f ms\n", s.HealthzCPUMS, s.MixCPUMS)
		}
	}
}

func errorList(m map[string]int) string {
	if len(m) == 0 {
		return "-"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s×%d", k, m[k])
	}
	return strings.Join(parts, ", ")
}
