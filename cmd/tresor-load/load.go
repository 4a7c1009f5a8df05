package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// routeNames are the routes a mix can weigh, in the order they are reported.
var routeNames = []string{"get", "list", "search", "write", "consent"}

// options are the parsed flags.
type options struct {
	url        string
	token      string
	purpose    string
	clients    []int
	duration   time.Duration
	warmup     time.Duration
	mix        map[string]int
	ids        int
	idsFile    string
	seed       int
	listLimit  int
	queries    []string
	legalBasis string
	timeout    time.Duration
	jsonFile   string
	serverPID  int
	healthz    bool
	ackedFile  string
	importFile string
	importFmt  string
	importBase string
	importNote string
}

func parseOptions(args []string, stderr io.Writer, getenv func(string) string) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("tresor-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var clients, mix, queries string
	fs.StringVar(&o.url, "url", "http://127.0.0.1:8080", "base URL of a running tresor serve")
	fs.StringVar(&o.token, "token", "", "API token (better: TRESOR_LOAD_TOKEN, which stays out of the shell history)")
	fs.StringVar(&o.purpose, "purpose", "sales", "the declared purpose, sent as Tresor-Purpose")
	fs.StringVar(&clients, "clients", "16,64", "client counts, one step each")
	fs.DurationVar(&o.duration, "duration", 20*time.Second, "measured time per route set and step")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured time before each measurement")
	fs.StringVar(&mix, "mix", "get=8,list=1,search=1,write=0", "route weights: get (one contact by id), list (a page of contacts), search (?q=), write (create a contact), consent (a marketing consent by e-mail granted or withdrawn for a listed contact)")
	fs.IntVar(&o.ids, "ids", 10000, "collect up to this many contact ids by paging through the list once at start")
	fs.StringVar(&o.idsFile, "ids-file", "", "read the ids and list cursors from this file if it exists, else collect them and write it (so a measured run makes no setup requests)")
	fs.IntVar(&o.seed, "seed", 0, "first create this many contacts through the API (concurrent POSTs)")
	fs.IntVar(&o.listLimit, "list-limit", 50, "page size of list and search")
	fs.StringVar(&queries, "queries", "Müller,Schmidt,Schneider,Fischer,Weber,Meyer,Wagner,Becker,Schulz,Hoffmann", "words the search route looks for, comma-separated")
	fs.StringVar(&o.legalBasis, "legal-basis", "contract", "legal basis of created contacts")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "time limit of one request")
	fs.StringVar(&o.jsonFile, "json", "", "also write the report as JSON to this file")
	fs.IntVar(&o.serverPID, "server-pid", 0, "process id of the tresor serve on this machine: also report its processor time per request (steadier than req/s on a shared machine; Linux)")
	fs.BoolVar(&o.healthz, "healthz", true, "measure /healthz alone before the mix in every step (--healthz=false skips it, as a soak does)")
	fs.StringVar(&o.ackedFile, "acked", "", "append every acknowledged write to this file as it is answered: \"contact ID\" for a 201 creation, \"consent CONTACT-ID ACTION SINCE\" for a recorded consent event (what a fault test checks after a crash)")
	fs.StringVar(&o.importFile, "import", "", "send this file once to POST /api/v1/imports when the first measured mix starts, beside the clients (reported as the route import)")
	fs.StringVar(&o.importFmt, "import-format", "linkedin", "format of --import (linkedin, vcard, mastodon-following)")
	fs.StringVar(&o.importBase, "import-legal-basis", "legitimate_interest", "legal basis of the people --import creates")
	fs.StringVar(&o.importNote, "import-note", "Business contacts from an export, imported during a load test.", "balancing note of --import (needed for legitimate_interest)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if o.token == "" {
		o.token = getenv("TRESOR_LOAD_TOKEN")
	}
	if o.token == "" {
		return nil, fmt.Errorf("%w: no token: set TRESOR_LOAD_TOKEN (or --token)", errUsage)
	}
	o.url = strings.TrimRight(o.url, "/")
	if u, err := url.Parse(o.url); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: --url %q is not an http(s) address", errUsage, o.url)
	}
	for _, f := range strings.Split(clients, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%w: --clients %q: want positive numbers, comma-separated", errUsage, clients)
		}
		o.clients = append(o.clients, n)
	}
	var err error
	if o.mix, err = parseMix(mix); err != nil {
		return nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	for _, q := range strings.Split(queries, ",") {
		if q = strings.TrimSpace(q); q != "" {
			o.queries = append(o.queries, q)
		}
	}
	if o.importFile != "" {
		if _, err := os.Stat(o.importFile); err != nil {
			return nil, fmt.Errorf("%w: --import: %v", errUsage, err)
		}
	}
	if o.mix["search"] > 0 && len(o.queries) == 0 {
		return nil, fmt.Errorf("%w: the mix searches but --queries is empty", errUsage)
	}
	if o.duration <= 0 || o.warmup < 0 || o.listLimit < 1 || o.ids < 0 || o.seed < 0 {
		return nil, fmt.Errorf("%w: --duration must be positive, --warmup, --ids and --seed not negative, --list-limit at least 1", errUsage)
	}
	return o, nil
}

// parseMix reads "get=8,list=1": weights of the known routes, at least one
// of them positive.
func parseMix(s string) (map[string]int, error) {
	m := map[string]int{}
	total := 0
	for _, f := range strings.Split(s, ",") {
		name, w, ok := strings.Cut(strings.TrimSpace(f), "=")
		n, err := strconv.Atoi(w)
		if !ok || err != nil || n < 0 || !slices.Contains(routeNames, name) {
			return nil, fmt.Errorf("--mix %q: want ROUTE=WEIGHT,… with routes %s", s, strings.Join(routeNames, ", "))
		}
		m[name] = n
		total += n
	}
	if total == 0 {
		return nil, fmt.Errorf("--mix %q: every weight is 0", s)
	}
	return m, nil
}

// driver sends the requests; one is shared by all clients.
type driver struct {
	o       *options
	client  *http.Client
	ids     []string
	cursors []string // "" for the first page, then next_cursor values seen
	nonce   string   // keeps e-mail addresses of created contacts unique per run

	ackMu sync.Mutex
	acked *os.File // --acked, or nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	o, err := parseOptions(args, stderr, getenv)
	if err != nil {
		return err
	}
	maxClients := slices.Max(o.clients)
	d := &driver{o: o, nonce: strconv.FormatInt(time.Now().UnixNano(), 36)}
	// One transport for all clients, with an idle connection kept for each, so
	// every client reuses its connection (keep-alive) instead of dialling.
	d.client = &http.Client{Timeout: o.timeout, Transport: &http.Transport{
		MaxIdleConns:        2 * maxClients,
		MaxIdleConnsPerHost: 2 * maxClients,
		IdleConnTimeout:     90 * time.Second,
	}}
	defer d.client.CloseIdleConnections()
	if o.ackedFile != "" {
		f, err := os.OpenFile(o.ackedFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return err
		}
		defer f.Close()
		d.acked = f
	}

	if o.seed > 0 {
		start := time.Now()
		if err := d.seed(ctx, o.seed, o.clients[0]); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "seeded %d contacts in %s\n", o.seed, time.Since(start).Round(time.Millisecond))
	}
	if err := d.loadIDs(ctx); err != nil {
		return err
	}
	if (o.mix["get"] > 0 || o.mix["consent"] > 0) && len(d.ids) == 0 {
		return errors.New("the mix reads contacts by id or records their consent, but the server listed none under this purpose: seed some with --seed N")
	}

	rep := &Report{URL: o.url, Purpose: o.purpose, Started: time.Now().UTC(), Duration: o.duration.String(),
		Warmup: o.warmup.String(), Mix: o.mix, IDs: len(d.ids)}
	importPending := o.importFile != ""
	for _, n := range o.clients {
		step := StepReport{Clients: n}
		if o.healthz {
			health, wall, cpu := d.phase(ctx, n, []string{"healthz"}, false)
			t := health["healthz"]
			if t == nil {
				t = &tally{}
			}
			step.Healthz = t.report("healthz", wall)
			step.HealthzCPUMS = perRequest(cpu, len(t.ok))
		}
		var weighted []string
		for _, r := range routeNames {
			for range o.mix[r] {
				weighted = append(weighted, r)
			}
		}
		got, wall, cpu := d.phase(ctx, n, weighted, importPending)
		importPending = false
		var answered int
		for _, t := range got {
			answered += len(t.ok)
		}
		step.MixCPUMS = perRequest(cpu, answered)
		for _, r := range append(routeNames, "import") {
			if o.mix[r] == 0 && (r != "import" || got[r] == nil) {
				continue
			}
			t := got[r]
			if t == nil {
				t = &tally{}
			}
			rr := t.report(r, wall)
			step.Routes = append(step.Routes, rr)
			if r == "get" {
				step.GetToHealthz = ratio(rr.ReqPerS, step.Healthz.ReqPerS)
			}
		}
		rep.Steps = append(rep.Steps, step)
		if ctx.Err() != nil {
			break
		}
	}
	rep.writeTable(stdout)
	if o.jsonFile != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(o.jsonFile, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted: %w", ctx.Err())
	}
	if n := rep.serverErrors(); n > 0 {
		return fmt.Errorf("%d requests answered with 5xx or failed", n)
	}
	return nil
}

// phase runs clients for the warm-up and then for the measured duration,
// each picking its next route uniformly from weighted; with withImport, the
// file of --import is sent once when the measured part starts, beside the
// clients. It returns the merged tallies of the measured part, its wall time
// and the server's processor time meanwhile (with --server-pid).
func (d *driver) phase(ctx context.Context, clients int, weighted []string, withImport bool) (map[string]*tally, time.Duration, time.Duration) {
	d.loop(ctx, clients, weighted, d.o.warmup)
	cpu0 := processCPU(d.o.serverPID)
	start := time.Now()
	imported := make(chan *tally, 1)
	if withImport {
		go func() { imported <- d.importOnce(ctx) }()
	} else {
		imported <- nil
	}
	got := d.loop(ctx, clients, weighted, d.o.duration)
	if t := <-imported; t != nil {
		got = append(got, map[string]*tally{"import": t})
	}
	wall := time.Since(start)
	cpu := processCPU(d.o.serverPID) - cpu0
	all := map[string]*tally{}
	for _, per := range got {
		for r, t := range per {
			if all[r] == nil {
				all[r] = &tally{}
			}
			all[r].merge(t)
		}
	}
	return all, wall, cpu
}

// processCPU is the processor time (user and system, all threads) the
// process pid has used, from /proc/PID/stat in clock ticks of 10 ms; 0 for
// pid 0 or where it cannot be read.
func processCPU(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The command name, in parentheses, may hold spaces: fields count from
	// after its closing parenthesis; utime and stime are fields 14 and 15.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	return time.Duration(u+st) * 10 * time.Millisecond
}

// perRequest is cpu over n answered requests, in milliseconds; 0 without.
func perRequest(cpu time.Duration, n int) float64 {
	if cpu <= 0 || n == 0 {
		return 0
	}
	return math.Round(float64(cpu)/float64(n)/1e3) / 1e3
}

func (d *driver) loop(ctx context.Context, clients int, weighted []string, dur time.Duration) []map[string]*tally {
	out := make([]map[string]*tally, clients)
	if dur <= 0 {
		return out
	}
	deadline := time.Now().Add(dur)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(i)))
			mine := map[string]*tally{}
			for ctx.Err() == nil && time.Now().Before(deadline) {
				r := weighted[rng.IntN(len(weighted))]
				req, err := d.request(ctx, r, rng)
				if err != nil {
					return
				}
				lat, failure, body := d.do(req, d.acked != nil && (r == "write" || r == "consent"))
				if failure == "" && body != nil {
					d.ack(r, req, body)
				}
				if ctx.Err() != nil {
					break // a request cut short by an interrupt is not a figure
				}
				if mine[r] == nil {
					mine[r] = &tally{}
				}
				mine[r].add(lat, failure)
			}
			out[i] = mine
		})
	}
	wg.Wait()
	return out
}

// request builds one request of route r.
func (d *driver) request(ctx context.Context, r string, rng *rand.Rand) (*http.Request, error) {
	var method, path string
	var body io.Reader
	switch r {
	case "healthz":
		return http.NewRequestWithContext(ctx, "GET", d.o.url+"/healthz", nil)
	case "get":
		method, path = "GET", "/api/v1/contacts/"+d.ids[rng.IntN(len(d.ids))]
	case "list":
		q := url.Values{"limit": {strconv.Itoa(d.o.listLimit)}}
		if c := d.cursors[rng.IntN(len(d.cursors))]; c != "" {
			q.Set("cursor", c)
		}
		method, path = "GET", "/api/v1/contacts?"+q.Encode()
	case "search":
		q := url.Values{"q": {d.o.queries[rng.IntN(len(d.o.queries))]}, "limit": {strconv.Itoa(d.o.listLimit)}}
		method, path = "GET", "/api/v1/contacts?"+q.Encode()
	case "write":
		method, path, body = "POST", "/api/v1/contacts", bytes.NewReader(d.contact(rng.Uint64()))
	case "consent":
		action := "grant"
		if rng.IntN(2) == 0 {
			action = "withdraw"
		}
		b, _ := json.Marshal(map[string]any{"purpose": "marketing", "channel": "email", "action": action, "method": "web_form",
			"proof": map[string]string{"text_version": "Newsletter consent, version 1"}})
		method, path, body = "POST", "/api/v1/contacts/"+d.ids[rng.IntN(len(d.ids))]+"/consents", bytes.NewReader(b)
	default:
		return nil, fmt.Errorf("unknown route %q", r)
	}
	req, err := http.NewRequestWithContext(ctx, method, d.o.url+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+d.o.token)
	req.Header.Set("Tresor-Purpose", d.o.purpose)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// do sends req and reads the whole answer (so the connection is reused),
// keeping the body of a success if keep. A non-2xx answer is a failure named
// by its status and problem code.
func (d *driver) do(req *http.Request, keep bool) (time.Duration, string, []byte) {
	start := time.Now()
	res, err := d.client.Do(req)
	if err != nil {
		return 0, "transport", nil
	}
	defer res.Body.Close()
	if res.StatusCode/100 == 2 {
		var body []byte
		if keep {
			body, err = io.ReadAll(res.Body)
		} else {
			_, err = io.Copy(io.Discard, res.Body)
		}
		if err != nil {
			return 0, "transport", nil
		}
		return time.Since(start), "", body
	}
	var p struct {
		Code string `json:"code"`
	}
	_ = json.NewDecoder(res.Body).Decode(&p)
	_, _ = io.Copy(io.Discard, res.Body)
	key := strconv.Itoa(res.StatusCode)
	if p.Code != "" {
		key += " " + p.Code
	}
	return 0, key, nil
}

// ack appends one acknowledged write to --acked: the id of a created
// contact, or the contact, action and time of a recorded consent event.
func (d *driver) ack(route string, req *http.Request, body []byte) {
	var line string
	switch route {
	case "write":
		var c struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(body, &c) != nil || c.ID == "" {
			return
		}
		line = "contact " + c.ID + "\n"
	case "consent":
		var st struct {
			State string    `json:"state"`
			Since time.Time `json:"since"`
		}
		if json.Unmarshal(body, &st) != nil {
			return
		}
		action := "grant"
		if st.State == "withdrawn" {
			action = "withdraw"
		}
		id := strings.TrimSuffix(strings.TrimPrefix(req.URL.Path, "/api/v1/contacts/"), "/consents")
		line = "consent " + id + " " + action + " " + st.Since.Format(time.RFC3339Nano) + "\n"
	default:
		return
	}
	d.ackMu.Lock()
	defer d.ackMu.Unlock()
	_, _ = d.acked.WriteString(line)
}

// importOnce sends the file of --import to POST /api/v1/imports and tallies
// the answer: the one import of a soak, running beside the clients.
func (d *driver) importOnce(ctx context.Context) *tally {
	t := &tally{}
	f, err := os.Open(d.o.importFile)
	if err != nil {
		t.add(0, "transport")
		return t
	}
	defer f.Close()
	q := url.Values{"format": {d.o.importFmt}, "legal_basis": {d.o.importBase}}
	if d.o.importNote != "" {
		q.Set("balancing_note", d.o.importNote)
	}
	req, err := http.NewRequestWithContext(ctx, "POST", d.o.url+"/api/v1/imports?"+q.Encode(), f)
	if err != nil {
		t.add(0, "transport")
		return t
	}
	req.Header.Set("Authorization", "Bearer "+d.o.token)
	req.Header.Set("Tresor-Purpose", d.o.purpose)
	req.Header.Set("Content-Type", "text/csv")
	// An import of many rows takes longer than one request of the mix.
	client := &http.Client{Transport: d.client.Transport}
	start := time.Now()
	res, err := client.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			t.add(0, "transport")
		}
		return t
	}
	defer res.Body.Close()
	var p struct {
		Code string `json:"code"`
	}
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode/100 == 2 {
		t.add(time.Since(start), "")
		return t
	}
	_ = json.Unmarshal(b, &p)
	key := strconv.Itoa(res.StatusCode)
	if p.Code != "" {
		key += " " + p.Code
	}
	t.add(0, key)
	return t
}

var (
	givenNames  = []string{"Erika", "Jürgen", "Ayşe", "François", "Lena", "Hans", "Zoë", "Peter", "Maria", "Lukas", "Sophie", "Mehmet"}
	familyNames = []string{"Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann", "Groß", "Yılmaz", "Lefèvre", "Schäfer"}
	positions   = []string{"CTO", "Head of Purchasing", "Sales Manager", "Engineer", "Managing Director"}
)

// contact is the JSON of a new contact: a name of common German shapes, a
// unique e-mail address, an employer and a position.
func (d *driver) contact(n uint64) []byte {
	g, f := givenNames[n%uint64(len(givenNames))], familyNames[(n/16)%uint64(len(familyNames))]
	b, _ := json.Marshal(map[string]any{
		"given_name": g, "family_name": f,
		"emails":       []string{fmt.Sprintf("p%d.%s@load.example.org", n, d.nonce)},
		"organization": familyNames[(n/256)%uint64(len(familyNames))] + " GmbH",
		"position":     positions[n%uint64(len(positions))],
		"legal_basis":  d.o.legalBasis,
	})
	return b
}

// seed creates n contacts with concurrent POSTs; any refusal stops it.
func (d *driver) seed(ctx context.Context, n, clients int) error {
	next := make(chan int)
	errs := make(chan error, clients)
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for i := range next {
				if err := d.create(ctx, uint64(i)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	var err error
feed:
	for i := range n {
		select {
		case next <- i:
		case err = <-errs:
			break feed
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(next)
	wg.Wait()
	close(errs)
	if err == nil {
		err = <-errs
	}
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	return nil
}

func (d *driver) create(ctx context.Context, n uint64) error {
	req, err := http.NewRequestWithContext(ctx, "POST", d.o.url+"/api/v1/contacts", bytes.NewReader(d.contact(n)))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+d.o.token)
	req.Header.Set("Tresor-Purpose", d.o.purpose)
	req.Header.Set("Content-Type", "application/json")
	res, err := d.client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusCreated {
		return fmt.Errorf("POST /api/v1/contacts: %d %s", res.StatusCode, bytes.TrimSpace(b))
	}
	return nil
}

// idSet is what --ids-file holds.
type idSet struct {
	IDs     []string `json:"ids"`
	Cursors []string `json:"cursors"`
}

// loadIDs pages once through GET /api/v1/contacts (pages of --list-limit) for
// up to --ids ids, keeping each page's cursor for the list route; or reads
// them from --ids-file.
func (d *driver) loadIDs(ctx context.Context) error {
	if d.o.idsFile != "" {
		if b, err := os.ReadFile(d.o.idsFile); err == nil {
			var s idSet
			if err := json.Unmarshal(b, &s); err != nil {
				return fmt.Errorf("%s: %w", d.o.idsFile, err)
			}
			d.ids, d.cursors = s.IDs, s.Cursors
			if len(d.cursors) == 0 {
				d.cursors = []string{""}
			}
			return nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	cursor := ""
	d.cursors = []string{""}
	for len(d.ids) < d.o.ids {
		q := url.Values{"limit": {strconv.Itoa(d.o.listLimit)}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		req, err := http.NewRequestWithContext(ctx, "GET", d.o.url+"/api/v1/contacts?"+q.Encode(), nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+d.o.token)
		req.Header.Set("Tresor-Purpose", d.o.purpose)
		res, err := d.client.Do(req)
		if err != nil {
			return fmt.Errorf("collect ids: %w", err)
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			return fmt.Errorf("collect ids: %w", err)
		}
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("collect ids: GET /api/v1/contacts: %d %s", res.StatusCode, bytes.TrimSpace(b))
		}
		var page struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
			NextCursor string `json:"next_cursor"`
		}
		if err := json.Unmarshal(b, &page); err != nil {
			return fmt.Errorf("collect ids: %w", err)
		}
		for _, it := range page.Items {
			d.ids = append(d.ids, it.ID)
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
		d.cursors = append(d.cursors, cursor)
	}
	if len(d.ids) > d.o.ids {
		d.ids = d.ids[:d.o.ids]
	}
	if d.o.idsFile != "" {
		b, _ := json.Marshal(idSet{IDs: d.ids, Cursors: d.cursors})
		if err := os.WriteFile(d.o.idsFile, b, 0o600); err != nil {
			return err
		}
	}
	return nil
}
