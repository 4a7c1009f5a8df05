package server_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"tresor"
	"tresor/datadir"
)

// BenchContactsEnv sets how many contacts BenchmarkWorkspacePages stores
// first (default 10,000; docs/benchmarks.md records a run with 100,000).
const BenchContactsEnv = "TRESOR_BENCH_CONTACTS"

// BenchmarkWorkspacePages measures workspace pages as a signed-in browser
// meets them: one client, then 8 concurrent clients, with a session cookie
// over loopback HTTP, every request timed; the p95 of each page against the
// p95 of a static file served by the same server in the same run. It also
// reports each page's weight with its stylesheet and script, gzip-compressed.
func BenchmarkWorkspacePages(b *testing.B) {
	n := 10000
	if v := os.Getenv(BenchContactsEnv); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	a := newAPI(b, datadir.Config{DataDir: b.TempDir(), Migrate: true})
	ctx := tresor.WithPurpose(sys, "sales")
	seedWorkspace(b, a, ctx, n)
	a.userWithPassword("bench@example.org", tresor.RoleSales)
	c := signedInClient(b, a.url, "bench@example.org", "sales")

	pages := []string{"/static/tresor.css", "/", "/cases", "/campaigns"}
	pages = append(pages, workspaceBenchPages(b, a, ctx)...)
	assets := gzipSize(b, c, a.url+"/static/tresor.css") + gzipSize(b, c, a.url+"/static/vendor/htmx-2.0.8.min.js")
	b.ResetTimer()
	// One client: the server's time per page. Eight: the same under load.
	p95, p95x8 := map[string]time.Duration{}, map[string]time.Duration{}
	for _, p := range pages {
		p95[p] = percentile(timePage(b, c, a.url+p, max(b.N, 100), 1), 0.95)
		p95x8[p] = percentile(timePage(b, c, a.url+p, max(b.N, 200), 8), 0.95)
	}
	b.StopTimer()
	for _, p := range pages[1:] {
		name := benchName(p)
		b.ReportMetric(float64(p95[p].Microseconds())/1000, name+"_p95_ms")
		b.ReportMetric(float64(p95x8[p].Microseconds())/1000, name+"_p95_ms_8clients")
		b.ReportMetric(float64(p95[p])/float64(p95[pages[0]]), name+"/static")
		b.ReportMetric(float64(gzipSize(b, c, a.url+p)+assets)/1024, name+"_kB_gz")
	}
	b.ReportMetric(float64(p95[pages[0]].Microseconds())/1000, "static_p95_ms")
	b.ReportMetric(float64(p95x8[pages[0]].Microseconds())/1000, "static_p95_ms_8clients")
}

// workspaceBenchPages are the pages of the areas beside the foundation's,
// with the data they show: the contact list, a search by name (two words,
// and a prefix that many share), the list sorted by name, a contact with 200
// timeline items, and a deal board of 200 deals.
func workspaceBenchPages(b *testing.B, a *api, ctx context.Context) []string {
	b.Helper()
	c := &tresor.Contact{ContactDetails: tresor.ContactDetails{GivenName: "Erika", FamilyName: "Mustermann", Emails: []string{"erika@example.de"},
		Organization: "Muster GmbH", Position: "CTO"}, Collection: tresor.Collection{LegalBasis: tresor.BasisContract}}
	must(b, a.g.CreateContact(ctx, c))
	for i := 0; i < 200; i++ {
		must(b, a.g.CreateInteraction(ctx, &tresor.Interaction{Kind: tresor.KindCall, Direction: tresor.DirectionOutbound, ContactID: c.ID,
			InteractionContent: tresor.InteractionContent{Subject: fmt.Sprintf("Call %d", i), Body: "Talked about the renewal."},
			Collection:         tresor.Collection{LegalBasis: tresor.BasisContract}}))
	}
	stages := []string{"lead", "qualified", "proposal", "negotiation"}
	for i := 0; i < 200; i++ {
		must(b, a.g.CreateDeal(ctx, &tresor.Deal{Title: fmt.Sprintf("Deal %d", i), Stage: stages[i%len(stages)], Value: "1250.00", Currency: "EUR"}))
	}
	return []string{"/contacts", "/contacts?q=erika+mustermann", "/contacts?q=nr00012", "/contacts?sort=name", "/contacts/" + c.ID, "/deals"}
}

// seedWorkspace stores n contacts for sales in batches, as an import would.
func seedWorkspace(b *testing.B, a *api, ctx context.Context, n int) {
	b.Helper()
	for done := 0; done < n; done += 1000 {
		var cs []*tresor.Contact
		for i := done; i < min(n, done+1000); i++ {
			cs = append(cs, &tresor.Contact{ContactDetails: tresor.ContactDetails{GivenName: "Person", FamilyName: fmt.Sprintf("Nr%07d", i),
				Emails: []string{fmt.Sprintf("p%07d@example.de", i)}}, Collection: tresor.Collection{LegalBasis: tresor.BasisContract}})
		}
		must(b, a.g.CreateContacts(ctx, cs))
	}
}

var csrfField = regexp.MustCompile(`name="(?:form_token|csrf)" value="([^"]+)"`)

// signedInClient signs in through the pages and chooses the purpose.
func signedInClient(b *testing.B, base, email, purpose string) *http.Client {
	b.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	token := func(path string) string {
		res, err := c.Get(base + path)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		m := csrfField.FindSubmatch(body)
		if m == nil {
			b.Fatalf("no form token on %s", path)
		}
		return string(m[1])
	}
	post := func(path string, form url.Values) {
		res, err := c.PostForm(base+path, form)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode >= 400 {
			b.Fatalf("POST %s: %d", path, res.StatusCode)
		}
	}
	post("/login", url.Values{"form_token": {token("/login")}, "email": {email}, "password": {webPassword}})
	post("/purpose", url.Values{"csrf": {token("/")}, "purpose": {purpose}, "back": {"/"}})
	return c
}

// timePage requests the page n times from that many clients at once and
// returns each request's time.
func timePage(b *testing.B, c *http.Client, u string, n, workers int) []time.Duration {
	var mu sync.Mutex
	var out []time.Duration
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < n/workers; i++ {
				start := time.Now()
				res, err := c.Get(u)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				d := time.Since(start)
				if res.StatusCode != http.StatusOK {
					b.Errorf("%s: %d", u, res.StatusCode)
					return
				}
				mu.Lock()
				out = append(out, d)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return out
}

func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[min(len(ds)-1, int(float64(len(ds))*p))]
}

// gzipSize is the size of the page's body compressed with gzip.
func gzipSize(b *testing.B, c *http.Client, u string) int {
	res, err := c.Get(u)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	zw.Write(body)
	zw.Close()
	return buf.Len()
}

// benchName turns a path into a metric name: "/contacts/ID" → "contact_page",
// "/contacts?q=erika+mustermann" → "contacts_q_erika_mustermann".
func benchName(p string) string {
	if p == "/" {
		return "start"
	}
	if path, query, ok := strings.Cut(p, "?"); ok {
		return benchName(path) + "_" + strings.NewReplacer("=", "_", "+", "_", "&", "_").Replace(query)
	}
	parts := strings.Split(strings.Trim(p, "/"), "/")
	if len(parts) > 1 {
		return strings.TrimSuffix(parts[0], "s") + "_page"
	}
	return strings.SplitN(parts[0], "?", 2)[0]
}
