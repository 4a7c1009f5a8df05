package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the Prometheus metrics of one server, in a registry of its own.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	handler  http.Handler
}

func newMetrics(h Health) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tresor_http_requests_total", Help: "HTTP requests by method, route pattern and status code.",
	}, []string{"method", "route", "code"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "tresor_http_request_duration_seconds", Help: "HTTP request latency by method and route pattern.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"method", "route"})
	m.reg.MustRegister(m.requests, m.latency,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if h != nil {
		m.reg.MustRegister(poolCollector{h})
	}
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	return m
}

func (m *metrics) observe(method, route string, status int, d time.Duration) {
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(method, route).Observe(d.Seconds())
}

func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) error {
	s.metrics.handler.ServeHTTP(w, r)
	return nil
}

// poolCollector reports the database connection pools and the lead.
type poolCollector struct{ h Health }

var (
	poolMax     = prometheus.NewDesc("tresor_db_pool_max_connections", "Maximum open connections of the pool.", []string{"pool"}, nil)
	poolOpen    = prometheus.NewDesc("tresor_db_pool_open_connections", "Open connections of the pool.", []string{"pool"}, nil)
	poolInUse   = prometheus.NewDesc("tresor_db_pool_in_use_connections", "Connections in use.", []string{"pool"}, nil)
	poolIdle    = prometheus.NewDesc("tresor_db_pool_idle_connections", "Idle connections.", []string{"pool"}, nil)
	poolWaits   = prometheus.NewDesc("tresor_db_pool_waits_total", "Times a caller waited for a connection.", []string{"pool"}, nil)
	poolWaitSec = prometheus.NewDesc("tresor_db_pool_wait_seconds_total", "Time spent waiting for a connection.", []string{"pool"}, nil)
	leader      = prometheus.NewDesc("tresor_leader", "1 while this server leads the periodic jobs of the servers on its database (retention, audit checkpoints, social loop, mailbox, reminders), else 0.", nil, nil)
)

func (c poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{poolMax, poolOpen, poolInUse, poolIdle, poolWaits, poolWaitSec, leader} {
		ch <- d
	}
}

func (c poolCollector) Collect(ch chan<- prometheus.Metric) {
	lead := 0.0
	if c.h.Leading() {
		lead = 1
	}
	ch <- prometheus.MustNewConstMetric(leader, prometheus.GaugeValue, lead)
	for _, s := range c.h.PoolStats() {
		ch <- prometheus.MustNewConstMetric(poolMax, prometheus.GaugeValue, float64(s.MaxOpen), s.Pool)
		ch <- prometheus.MustNewConstMetric(poolOpen, prometheus.GaugeValue, float64(s.Open), s.Pool)
		ch <- prometheus.MustNewConstMetric(poolInUse, prometheus.GaugeValue, float64(s.InUse), s.Pool)
		ch <- prometheus.MustNewConstMetric(poolIdle, prometheus.GaugeValue, float64(s.Idle), s.Pool)
		ch <- prometheus.MustNewConstMetric(poolWaits, prometheus.CounterValue, float64(s.WaitCount), s.Pool)
		ch <- prometheus.MustNewConstMetric(poolWaitSec, prometheus.CounterValue, s.WaitDuration.Seconds(), s.Pool)
	}
}
