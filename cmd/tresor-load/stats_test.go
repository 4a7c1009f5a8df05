package main

import (
	"os"
	"testing"
	"time"
)

func TestStatistics(t *testing.T) {
	t.Run("a percentile is the nearest rank, a latency that was measured", func(t *testing.T) {
		var lat []time.Duration
		for i := 1; i <= 200; i++ {
			lat = append(lat, time.Duration(i)*time.Millisecond)
		}
		for _, c := range []struct {
			p    float64
			want time.Duration
		}{{50, 100 * time.Millisecond}, {90, 180 * time.Millisecond}, {99, 198 * time.Millisecond}, {99.9, 200 * time.Millisecond}, {100, 200 * time.Millisecond}, {0.1, time.Millisecond}} {
			if got := percentile(lat, c.p); got != c.want {
				t.Errorf("p%v of 1..200 ms = %v, want %v", c.p, got, c.want)
			}
		}
		if got := percentile([]time.Duration{7 * time.Millisecond}, 99); got != 7*time.Millisecond {
			t.Errorf("p99 of one value = %v", got)
		}
		if got := percentile(nil, 50); got != 0 {
			t.Errorf("p50 of nothing = %v", got)
		}
	})
	t.Run("the report sorts what the clients recorded in any order", func(t *testing.T) {
		var a, b tally
		for i := 100; i >= 1; i-- { // one client saw 100..1 ms, another 101..200 ms
			a.add(time.Duration(i)*time.Millisecond, "")
			b.add(time.Duration(100+i)*time.Millisecond, "")
		}
		a.merge(&b)
		r := a.report("get", 2*time.Second)
		if r.P50MS != 100 || r.P90MS != 180 || r.P99MS != 198 || r.MaxMS != 200 {
			t.Errorf("p50/p90/p99/max = %v/%v/%v/%v, want 100/180/198/200", r.P50MS, r.P90MS, r.P99MS, r.MaxMS)
		}
		if r.Requests != 200 || r.OK != 200 || r.ReqPerS != 100 {
			t.Errorf("requests %d ok %d req/s %v, want 200, 200, 100", r.Requests, r.OK, r.ReqPerS)
		}
	})
	t.Run("errors are counted by status and code, never in the latencies or the rate", func(t *testing.T) {
		var a tally
		a.add(time.Millisecond, "")
		a.add(2*time.Millisecond, "")
		for range 50 {
			a.add(0, "403 purpose_not_permitted")
		}
		var b tally
		b.add(0, "503 search_warming_up")
		b.add(0, "403 purpose_not_permitted")
		a.merge(&b)
		r := a.report("get", time.Second)
		if r.Requests != 54 || r.OK != 2 || r.ReqPerS != 2 {
			t.Errorf("requests %d ok %d req/s %v, want 54, 2, 2", r.Requests, r.OK, r.ReqPerS)
		}
		if r.P50MS != 1 || r.MaxMS != 2 {
			t.Errorf("p50 %v max %v: the failures' zero latencies leaked into the successes'", r.P50MS, r.MaxMS)
		}
		if r.Errors["403 purpose_not_permitted"] != 51 || r.Errors["503 search_warming_up"] != 1 {
			t.Errorf("errors %v", r.Errors)
		}
	})
	t.Run("the ratio is the GET's successful rate over /healthz's in the same step", func(t *testing.T) {
		if got := ratio(2500, 10000); got != 0.25 {
			t.Errorf("ratio = %v, want 0.25", got)
		}
		if got := ratio(1, 0); got != 0 {
			t.Errorf("ratio over nothing = %v, want 0", got)
		}
	})
	t.Run("a 5xx or a failed request counts against the run, a 4xx does not", func(t *testing.T) {
		rep := Report{Steps: []StepReport{{
			Healthz: RouteReport{Errors: map[string]int{"transport": 1}},
			Routes:  []RouteReport{{Errors: map[string]int{"404 not_found": 5, "500 internal": 2}}},
		}}}
		if got := rep.serverErrors(); got != 3 {
			t.Errorf("serverErrors = %d, want 3", got)
		}
		rep.Steps[0].Healthz.Errors = nil
		rep.Steps[0].Routes[0].Errors = map[string]int{"404 not_found": 5}
		if got := rep.serverErrors(); got != 0 {
			t.Errorf("serverErrors of 4xx only = %d, want 0", got)
		}
	})
}

func TestMixIsParsedStrictly(t *testing.T) {
	t.Run("known routes with weights", func(t *testing.T) {
		m, err := parseMix("get=8,list=1,search=1,write=0")
		if err != nil || m["get"] != 8 || m["list"] != 1 || m["search"] != 1 || m["write"] != 0 {
			t.Errorf("parseMix = %v, %v", m, err)
		}
	})
	t.Run("an unknown route, a bad weight or all zero is refused", func(t *testing.T) {
		for _, s := range []string{"read=1", "get=-1", "get", "get=x", "get=0,list=0"} {
			if _, err := parseMix(s); err == nil {
				t.Errorf("parseMix(%q) accepted", s)
			}
		}
	})
}

func TestServerProcessorTime(t *testing.T) {
	t.Run("the process's own time is read from /proc", func(t *testing.T) {
		if _, err := os.Stat("/proc/self/stat"); err != nil {
			t.Skip("no /proc here")
		}
		start := time.Now()
		for n := 0; time.Since(start) < 50*time.Millisecond; n++ {
			_ = n * n
		}
		if got := processCPU(os.Getpid()); got <= 0 {
			t.Fatalf("processor time of this process = %s", got)
		}
	})
	t.Run("no pid or a gone process reads as none", func(t *testing.T) {
		if got := processCPU(0); got != 0 {
			t.Fatalf("pid 0: %s", got)
		}
		if got := processCPU(1 << 30); got != 0 {
			t.Fatalf("a pid that does not exist: %s", got)
		}
	})
	t.Run("per request in milliseconds, none without answers", func(t *testing.T) {
		if got := perRequest(1500*time.Millisecond, 1000); got != 1.5 {
			t.Fatalf("1.5 s over 1,000 requests = %v ms", got)
		}
		if got := perRequest(time.Second, 0); got != 0 {
			t.Fatalf("no answers: %v", got)
		}
	})
}
