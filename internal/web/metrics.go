package web

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"sesame/internal/passhash"
)

// metrics are the portal's Prometheus series: requests by route pattern
// and status, and outcomes of the authentication flows.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	outcomes *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sesame_http_requests_total", Help: "HTTP requests by route and status.",
		}, []string{"route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "sesame_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route"}),
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sesame_auth_outcomes_total", Help: "Outcomes of login, initialisation and reset attempts.",
		}, []string{"flow", "outcome"}),
	}
	m.reg.MustRegister(m.requests, m.duration, m.outcomes,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// watchHasher exports the hashing queue: how many wait, run and were
// refused, and the estimate admission goes by.
func (m *metrics) watchHasher(h *passhash.Hasher) {
	gauge := func(name, help string, f func(passhash.Stats) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 { return f(h.Stats()) })
	}
	counter := func(name, help string, f func(passhash.Stats) float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return f(h.Stats()) })
	}
	m.reg.MustRegister(
		gauge("sesame_hash_queue", "Requests admitted to the hashing queue and not done (waiting, running, or on their way to a hash).",
			func(s passhash.Stats) float64 { return float64(s.Admitted) }),
		gauge("sesame_hash_waiting", "Requests waiting for a hashing turn.", func(s passhash.Stats) float64 { return float64(s.Waiting) }),
		gauge("sesame_hash_running", "argon2id computations running.", func(s passhash.Stats) float64 { return float64(s.Running) }),
		gauge("sesame_hash_turns", "argon2id computations allowed at once (argon2.concurrent).", func(s passhash.Stats) float64 { return float64(s.Concurrent) }),
		gauge("sesame_hash_expected_wait_seconds", "How long a request admitted now would wait for a hashing turn.",
			func(passhash.Stats) float64 { return h.ExpectedWait().Seconds() }),
		gauge("sesame_hash_max_wait_seconds", "The bound on the wait for a hashing turn (argon2.max_wait); 0: none.",
			func(s passhash.Stats) float64 { return s.MaxWait.Seconds() }),
		counter("sesame_hash_shed_total", "Requests refused with 503 because their hashing turn would have come later than the bound.",
			func(s passhash.Stats) float64 { return float64(s.Shed) }),
		counter("sesame_hash_computed_total", "argon2id computations done.", func(s passhash.Stats) float64 { return float64(s.Computed) }),
	)
}

func (m *metrics) handler() http.Handler { return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}) }

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// routeKey carries a *matched into a request, for notePattern to fill.
type routeKey struct{}

// matched is the route pattern the mux chose for a request. The mux sets
// Pattern on the request it is given, which is a copy made further in (each
// WithContext is one), so the outer layers learn it through this.
type matched struct {
	pattern string
	seen    bool // the portal's mux was reached (pattern "" if nothing matched)
}

// notePattern passes the pattern mux matched back to the outer layers.
func notePattern(mux http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mux.ServeHTTP(w, r)
		if m, ok := r.Context().Value(routeKey{}).(*matched); ok {
			m.pattern, m.seen = r.Pattern, true
		}
	})
}

func (m *metrics) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		// Share the access log's record of the route when there is one
		// (AccessLog further out), so the pattern is learnt once.
		rt, ok := r.Context().Value(routeKey{}).(*matched)
		if !ok {
			rt = &matched{}
			r = r.WithContext(context.WithValue(r.Context(), routeKey{}, rt))
		}
		next.ServeHTTP(sw, r)
		// The matched pattern, never the raw path: bounded label values.
		route := rt.pattern
		if route == "" {
			route = "unmatched"
		}
		m.requests.WithLabelValues(route, strconv.Itoa(sw.status)).Inc()
		m.duration.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
}

func (m *metrics) outcome(flow, outcome string) { m.outcomes.WithLabelValues(flow, outcome).Inc() }

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
