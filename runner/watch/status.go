package watch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/statectl/statectl/runner/gitsrc"
	"github.com/statectl/statectl/runner/secret"
)

// The status page: one self-contained HTML document (no script, no
// external asset), targets in name order, times in UTC, so the same
// records at the same clock give the same bytes.
var statusPage = template.Must(template.New("status").Funcs(template.FuncMap{
	"short": gitsrc.Short,
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="10">
<title>statectl watch</title>
<style>
body{margin:0;font:14px/20px sans-serif;color:#1b1b1b;background:#fff}
header{background:#1d3557;color:#fff;height:48px;padding:0 16px;display:flex;align-items:center;gap:24px;white-space:nowrap;overflow:hidden}
header h1{font-size:18px;margin:0}
header a{color:#fff}
main{padding:12px 16px}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border:1px solid #d0d4da;padding:4px 8px;text-align:left;height:20px;white-space:nowrap}
th{background:#fff3c4}
td.num{text-align:right}
.badge{display:inline-block;width:72px;text-align:center;color:#fff;border-radius:3px}
.ok{background:#2a9d8f}.failed{background:#d62828}.terminal{background:#f77f00}.deferred{background:#6c757d}
.err{color:#b00020}
.line{white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
section{margin:12px 0;padding:8px;border:1px solid #d0d4da}
section.detail{border-left:6px solid #9d0208}
pre{margin:4px 0;white-space:pre-wrap}
code{font-size:13px}
</style>
</head>
<body>
<header><h1>statectl watch</h1><span>started {{.Started}}</span><span>page {{.Now}}</span><a href="/metrics">/metrics</a><a href="/healthz">/healthz</a></header>
<main>
{{- with .Git}}
<section id="git">
<div class="line"><b>Git</b> {{.URL}} at {{.Ref}}: fetched <code title="{{.Head}}">{{if .Head}}{{short .Head}}{{else}}none{{end}}</code>, applied <code title="{{.Good}}">{{if .Good}}{{short .Good}}{{else}}none{{end}}</code></div>
{{- if .FetchError}}
<div class="line err" title="{{.FetchError}}">fetch failed {{.Failures}} time(s) in a row, next try in {{.NextFetch}}: {{.FetchError}}</div>
{{- end}}
{{- range .Refused}}
<div class="line err" title="{{.Why}}">refused <code title="{{.Hash}}">{{short .Hash}}</code>: {{.Why}}</div>
{{- end}}
</section>
{{- end}}
{{- if .Targets}}
<table id="targets">
<thead><tr><th>Target</th><th>Last pass</th><th>Trigger</th><th>Outcome</th>{{if .Git}}<th>Commit</th>{{end}}<th>Drift</th><th>Corrected</th><th>Passes</th><th>Last success</th></tr></thead>
<tbody>
{{- range .Targets}}
<tr id="target-{{.Name}}"><td>{{if .Detail}}<a href="#detail-{{.Name}}">{{.Name}}</a>{{else}}{{.Name}}{{end}}</td><td>{{.Last}}, {{.Duration}}</td><td>{{.Trigger}}</td><td><span class="badge {{.Outcome}}">{{.Outcome}}</span></td>
{{- if $.Git}}<td><code title="{{.Commit}}">{{if .Commit}}{{short .Commit}}{{else}}none{{end}}</code></td>{{end -}}
<td class="num">{{.Drift}} / {{.DriftTotal}}</td><td class="num">{{.Corrected}} / {{.CorrectedTotal}}</td><td class="num">{{.Passes}}</td><td>{{.LastOK}}</td></tr>
{{- end}}
</tbody>
</table>
<p>Drift and Corrected: states in the last pass / in all passes since the start.</p>
{{- else}}
<p id="targets">No pass has finished yet.</p>
{{- end}}
{{- range .Targets}}{{if .Detail}}
<section class="detail" id="detail-{{.Name}}">
<b>{{.Name}}</b>: pass {{.Pass}} {{.Outcome}}
{{- range .Errors}}
<div class="err">{{.}}</div>
{{- end}}
{{- if .Pending}}
<div>Pending changes (not applied):</div>
{{- range .Pending}}
<pre>{{.}}</pre>
{{- end}}
{{- end}}
</section>
{{- end}}{{end}}
</main>
</body>
</html>
`))

type statusData struct {
	Started, Now string
	Git          *gitView
	Targets      []targetView
}

type gitView struct {
	gitsrc.Status
	Refused []refusedView
}

type refusedView struct{ Hash, Why string }

type targetView struct {
	Name, Last, Duration, Trigger, Outcome, Commit, LastOK     string
	Pass, Drift, Corrected, DriftTotal, CorrectedTotal, Passes int
	// Errors say why the pass failed or what it refused.
	Errors []string
	// Pending is one text block per state: its ID and masked changes.
	Pending []string
	// Detail: the page has a section on this target below the table.
	Detail bool
}

func (r *Recorder) statusData() statusData {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	d := statusData{Started: stamp(r.started), Now: stamp(now)}
	if st := r.syncGit(); st != nil {
		g := &gitView{Status: *st}
		for h, why := range st.Bad {
			g.Refused = append(g.Refused, refusedView{h, why})
		}
		sort.Slice(g.Refused, func(i, j int) bool { return g.Refused[i].Hash < g.Refused[j].Hash })
		d.Git = g
	}
	for _, name := range slices.Sorted(maps.Keys(r.targets)) {
		ts := r.targets[name]
		rec := ts.last
		v := targetView{
			Name: name, Last: stamp(rec.Start),
			Duration: (time.Duration(rec.DurationMS * float64(time.Millisecond))).Round(time.Millisecond).String(),
			Trigger:  string(rec.Trigger), Outcome: rec.Outcome, Commit: rec.Commit,
			Pass: rec.Pass, Drift: rec.Drift, Corrected: rec.Corrected, DriftTotal: ts.drift, CorrectedTotal: ts.corrected,
			Passes: ts.passes, LastOK: "never",
		}
		if rec.Error != "" {
			v.Errors = append(v.Errors, rec.Error)
		}
		if len(rec.FailedStates) > 0 {
			v.Errors = append(v.Errors, "failed states: "+strings.Join(rec.FailedStates, ", "))
		}
		if rec.FailedCommit != "" {
			v.Errors = append(v.Errors, "refused commit "+gitsrc.Short(rec.FailedCommit)+": "+rec.FailedCommitError)
		}
		if rec.GitError != "" {
			v.Errors = append(v.Errors, "git: "+rec.GitError)
		}
		if !ts.lastOK.IsZero() {
			v.LastOK = stamp(ts.lastOK)
		}
		if rec.Outcome != OK.String() || rec.Test {
			for _, p := range rec.Pending {
				v.Pending = append(v.Pending, pendingText(p))
			}
		}
		v.Detail = len(v.Errors) > 0 || len(v.Pending) > 0
		d.Targets = append(d.Targets, v)
	}
	return d
}

// pendingText is a state's pending difference as indented JSON (keys
// sorted), credential-named keys masked once more: the page may be seen
// by more people than the log.
func pendingText(p Pending) string {
	var b bytes.Buffer
	b.WriteString(p.ID)
	if p.Failed {
		b.WriteString(" (failed)")
	}
	if p.Comment != "" {
		b.WriteString(": " + p.Comment)
	}
	if len(p.Changes) > 0 {
		data, err := json.MarshalIndent(secret.MaskTree(p.Changes), "", "  ")
		if err != nil {
			data = []byte(fmt.Sprint(err))
		}
		b.WriteString("\n")
		b.Write(data)
	}
	return b.String()
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") }

// status serves the page.
func (r *Recorder) status(w http.ResponseWriter, _ *http.Request) {
	var b bytes.Buffer
	if err := statusPage.Execute(&b, r.statusData()); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b.Bytes())
}
