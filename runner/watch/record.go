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

	"github.com/statectl/statectl/runner/gitsrc"
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
	// Outcome is ok, failed, terminal or deferred (see Outcome).
	Outcome string `json:"outcome"`
	// Error is why the target could not run (render error, unreachable,
	// lock busy); failed states are in FailedStates.
	Error string `json:"error,omitempty"`
	// Note says what the record's figures alone do not: the drift a plan
	// saw was gone once the pass held the cluster lock (another corrector
	// wrote it).
	Note string `json:"note,omitempty"`

	// Commit is the commit whose trees the pass ran (watch --git), in
	// full; human output prints its first 12 digits.
	Commit string `json:"commit,omitempty"`
	// FailedCommit is a newer commit the pass refused because it failed
	// to render or compile (FailedCommitError says why); the pass ran
	// Commit, the last good one, instead (none: nothing ran).
	FailedCommit      string `json:"failed_commit,omitempty"`
	FailedCommitError string `json:"failed_commit_error,omitempty"`
	// GitError is why the last fetch failed: the pass ran the last
	// commit fetched, and fetches back off.
	GitError string `json:"git_error,omitempty"`
	// Pending is the drift the pass found and did not correct (its
	// states failed, or --test), secrets masked.
	Pending []Pending `json:"pending,omitempty"`
}

// Pending is one state's uncorrected difference: its plan's changes
// ({key: {old, new}}) and comment.
type Pending struct {
	ID      string         `json:"id"`
	Failed  bool           `json:"failed,omitempty"`
	Comment string         `json:"comment,omitempty"`
	Changes map[string]any `json:"changes,omitempty"`
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
	commit      *prometheus.GaugeVec
	refused     *prometheus.CounterVec
	fetchFails  prometheus.Counter

	started  time.Time
	lastEnd  time.Time
	lastOK   time.Time
	lastErr  string
	finished int
	now      func() time.Time

	// targets is each target's last pass and totals (the status page).
	targets map[string]*targetStatus
	// git reports the followed repository (nil: not --git).
	git func() gitsrc.Status
	// fetchFailures is the follower's failure count last seen.
	fetchFailures int
}

type targetStatus struct {
	last             Record
	lastOK           time.Time
	passes           int
	drift, corrected int
	commitLabel      string
}

// NewRecorder logs to log (nil: no log). Metrics live in their own
// registry, so several recorders (tests) do not collide.
func NewRecorder(log io.Writer) *Recorder {
	r := &Recorder{log: log, reg: prometheus.NewRegistry(), now: time.Now, targets: map[string]*targetStatus{}}
	r.started = r.now()
	r.passes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "statectl_passes_total",
		Help: "Watch passes per target, by outcome (ok, failed, terminal, deferred).",
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
	r.commit = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "statectl_commit_info",
		Help: "The commit whose trees the target's last pass ran (watch --git): 1 for that commit.",
	}, []string{"target", "commit"})
	r.refused = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "statectl_commits_refused_total",
		Help: "Passes that refused a new commit because it failed to render or compile (watch --git).",
	}, []string{"target"})
	r.fetchFails = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "statectl_git_fetch_failures_total",
		Help: "Failed fetches of the followed repository (watch --git).",
	})
	r.reg.MustRegister(r.passes, r.drift, r.corrections, r.failures, r.lastSuccess, r.duration, r.commit, r.refused, r.fetchFails)
	return r
}

// SetGit makes the recorder report the followed repository (status page,
// fetch failure counter); status is called at each record and page.
func (r *Recorder) SetGit(status func() gitsrc.Status) {
	r.mu.Lock()
	r.git = status
	r.mu.Unlock()
}

// SetClock pins the clock of the status page (tests).
func (r *Recorder) SetClock(now func() time.Time) {
	r.mu.Lock()
	r.now = now
	r.started = now()
	r.mu.Unlock()
}

// syncGit counts the fetch failures seen since the last call.
func (r *Recorder) syncGit() *gitsrc.Status {
	if r.git == nil {
		return nil
	}
	st := r.git()
	if st.Failures > r.fetchFailures {
		r.fetchFails.Add(float64(st.Failures - r.fetchFailures))
	}
	r.fetchFailures = st.Failures
	return &st
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
	ts := r.targets[rec.Target]
	if ts == nil {
		ts = &targetStatus{}
		r.targets[rec.Target] = ts
	}
	ts.last = rec
	ts.passes++
	ts.drift += rec.Drift
	ts.corrected += rec.Corrected
	if rec.Outcome == OK.String() {
		ts.lastOK = end
	}
	if rec.Commit != "" && rec.Commit != ts.commitLabel {
		if ts.commitLabel != "" {
			r.commit.DeleteLabelValues(rec.Target, ts.commitLabel)
		}
		r.commit.WithLabelValues(rec.Target, rec.Commit).Set(1)
		ts.commitLabel = rec.Commit
	}
	if rec.FailedCommit != "" {
		r.refused.WithLabelValues(rec.Target).Inc()
	}
	r.syncGit()
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

// Handler serves /metrics (Prometheus), /healthz and the status page (/).
func (r *Recorder) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{Registry: r.reg}))
	mux.HandleFunc("/healthz", r.healthz)
	mux.HandleFunc("/{$}", r.status)
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
