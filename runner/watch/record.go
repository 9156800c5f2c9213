package watch

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Record is one target's pass, logged as one JSON line.
type Record struct {
	Pass    int       `json:"pass"`
	Target  string    `json:"target"`
	Trigger Trigger   `json:"trigger"`
	Test    bool      `json:"test"`
	Start   time.Time `json:"start"`
	// DurationMS is the pass's wall time for this target, lock wait
	// included.
	DurationMS float64 `json:"duration_ms"`
	States     int     `json:"states"`
	Changed    int     `json:"changed"`
	Failed     int     `json:"failed"`
	// FailedStates are the IDs of the failed states, in run order.
	FailedStates []string `json:"failed_states,omitempty"`
	// Drift counts the states whose plan found a difference (changes or a
	// predicted failure); Corrected those the pass changed (0 with --test).
	Drift     int `json:"drift"`
	Corrected int `json:"corrected"`
	// Reads and Writes count the Incus API requests the target's pass
	// sent (grains, plans, applies; not the reachability check nor the
	// event stream). Passes share no connection or answer, so every
	// pass on a converged target reads the same and writes nothing.
	Reads  int64 `json:"reads"`
	Writes int64 `json:"writes"`
	// Outcome is ok, failed or terminal (see Outcome).
	Outcome string `json:"outcome"`
	// Error is why the target could not run (render error, unreachable,
	// lock busy); failed states are in FailedStates.
	Error string `json:"error,omitempty"`
}

// Recorder writes pass records as JSON lines and keeps the Prometheus
// metrics and health of one watcher. It is safe for concurrent use.
type Recorder struct {
	mu  sync.Mutex
	log io.Writer

	reg         *prometheus.Registry
	passes      *prometheus.CounterVec
	drift       *prometheus.CounterVec
	corrections *prometheus.CounterVec
	failures    *prometheus.CounterVec
	lastSuccess *prometheus.GaugeVec
	duration    *prometheus.HistogramVec

	started  time.Time
	lastEnd  time.Time
	lastOK   time.Time
	lastErr  string
	finished int
	now      func() time.Time
}

// NewRecorder logs to log (nil: no log). Metrics live in their own
// registry, so several recorders (tests) do not collide.
func NewRecorder(log io.Writer) *Recorder {
	r := &Recorder{log: log, reg: prometheus.NewRegistry(), now: time.Now}
	r.started = r.now()
	r.passes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "statectl_passes_total",
		Help: "Watch passes per target, by outcome (ok, failed, terminal).",
	}, []string{"target", "outcome"})
	r.drift = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "statectl_drift_detected_total",
		Help: "States whose plan found the live system different from the desired state.",
	}, []string{"target"})
	r.corrections = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "statectl_corrections_total",
		Help: "States a pass changed to correct drift.",
	}, []string{"target"})
	r.failures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "statectl_state_failures_total",
		Help: "Failed states, by state ID.",
	}, []string{"target", "state_id"})
	r.lastSuccess = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "statectl_last_success_timestamp_seconds",
		Help: "Unix time of the end of the last pass without failure.",
	}, []string{"target"})
	r.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "statectl_pass_duration_seconds",
		Help:    "Duration of a target's pass.",
		Buckets: prometheus.ExponentialBuckets(0.05, 2, 12), // 50ms .. ~100s
	}, []string{"target"})
	r.reg.MustRegister(r.passes, r.drift, r.corrections, r.failures, r.lastSuccess, r.duration)
	return r
}

// Add logs rec and updates the metrics.
func (r *Recorder) Add(rec Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.passes.WithLabelValues(rec.Target, rec.Outcome).Inc()
	r.drift.WithLabelValues(rec.Target).Add(float64(rec.Drift))
	r.corrections.WithLabelValues(rec.Target).Add(float64(rec.Corrected))
	for _, id := range rec.FailedStates {
		r.failures.WithLabelValues(rec.Target, id).Inc()
	}
	r.duration.WithLabelValues(rec.Target).Observe(rec.DurationMS / 1000)
	end := rec.Start.Add(time.Duration(rec.DurationMS * float64(time.Millisecond)))
	if rec.Outcome == OK.String() {
		r.lastSuccess.WithLabelValues(rec.Target).Set(float64(end.UnixNano()) / 1e9)
		r.lastOK = end
	}
	r.lastEnd, r.lastErr = end, rec.Error
	r.finished++
	if r.log == nil {
		return nil
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("failed to encode pass record: %w", err)
	}
	_, err = r.log.Write(append(data, '\n'))
	return err
}

// Handler serves /metrics (Prometheus) and /healthz.
func (r *Recorder) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{Registry: r.reg}))
	mux.HandleFunc("/healthz", r.healthz)
	return mux
}

// Gatherer exposes the registry (tests read metrics from it).
func (r *Recorder) Gatherer() prometheus.Gatherer { return r.reg }

// healthz answers 200 once a pass has finished (the loop is alive and
// reporting) and 503 before; the body says when the last pass ended and
// succeeded. A failing cluster is not an unhealthy watcher: alert on
// statectl_last_success_timestamp_seconds instead.
func (r *Recorder) healthz(w http.ResponseWriter, _ *http.Request) {
	r.mu.Lock()
	body := map[string]any{"passes": r.finished, "started": r.started.UTC().Format(time.RFC3339)}
	if !r.lastEnd.IsZero() {
		body["last_pass"] = r.lastEnd.UTC().Format(time.RFC3339)
	}
	if !r.lastOK.IsZero() {
		body["last_success"] = r.lastOK.UTC().Format(time.RFC3339)
	}
	if r.lastErr != "" {
		body["last_error"] = r.lastErr
	}
	code := http.StatusOK
	body["status"] = "ok"
	if r.finished == 0 {
		code = http.StatusServiceUnavailable
		body["status"] = "starting"
	}
	r.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(body)
}
