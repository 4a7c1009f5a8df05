package server_test

import (
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"tresor"
	"tresor/datadir"
)

// BenchmarkTokenAuthOverhead compares a request authenticated by an API token
// (GET /api/v1/me) with an unauthenticated one (GET /healthz) over real
// loopback HTTP, in the same run: 8 concurrent clients, alternating chunks of
// 2,000 requests. The ratio gate/raw is authenticated time over
// unauthenticated time (target ≤ 1.2).
func BenchmarkTokenAuthOverhead(b *testing.B) {
	a := newAPI(b, datadir.Config{DataDir: b.TempDir(), Migrate: true})
	token := a.token(tresor.RoleSales)
	tr := &http.Transport{MaxIdleConnsPerHost: 16}
	client := &http.Client{Transport: tr}
	defer tr.CloseIdleConnections()
	run := func(n int, path, auth string) time.Duration {
		const workers = 8
		var wg sync.WaitGroup
		start := time.Now()
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func(k int) {
				defer wg.Done()
				for i := 0; i < k; i++ {
					req, _ := http.NewRequest("GET", a.url+path, nil)
					if auth != "" {
						req.Header.Set("Authorization", "Bearer "+auth)
					}
					res, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode != 200 {
						b.Errorf("%s: %d", path, res.StatusCode)
						return
					}
				}
			}(n / workers)
		}
		wg.Wait()
		return time.Since(start)
	}
	run(400, "/api/v1/me", token) // warm up connections and the token cache
	var plain, authed time.Duration
	b.ResetTimer()
	for done := 0; done < b.N; done += 2000 {
		n := min(2000, b.N-done)
		plain += run(n, "/healthz", "")
		authed += run(n, "/api/v1/me", token)
	}
	b.ReportMetric(float64(b.N)/plain.Seconds(), "unauth_req/s")
	b.ReportMetric(float64(b.N)/authed.Seconds(), "token_req/s")
	b.ReportMetric(authed.Seconds()/plain.Seconds(), "token/unauth")
}
