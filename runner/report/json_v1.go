package report

import (
	"time"

	"github.com/statectl/statectl/runner/secret"
	"github.com/statectl/statectl/runner/state"
)

// SchemaVersion is the version of the json-v1 document. Fields are only
// ever added within a version; removing or changing one makes a new
// version (and a new --out json-vN), and the old one keeps working.
const SchemaVersion = 1

// RunsV1 is the json-v1 document (see docs/ci.md):
//
//	{schema_version, statectl_version, targets: [{target, test, exit_code,
//	 interrupted, failhard, not_run, summary: {...}, states: [{...}]}]}
//
// Targets and states keep run order, so a diff between two documents
// lines up.
func RunsV1(runs []*Run, opts RunOptions) map[string]any {
	targets := make([]any, 0, len(runs))
	for _, r := range runs {
		c := Count(r)
		states := make([]any, 0, len(r.Results))
		for _, res := range r.Results {
			states = append(states, stateV1(res))
		}
		targets = append(targets, map[string]any{
			"target":      r.Target,
			"test":        r.Test,
			"exit_code":   ExitCode(r, opts.Detailed),
			"interrupted": r.Interrupted,
			"failhard":    r.Failhard,
			"not_run":     r.NotRun,
			"summary": map[string]any{
				"total":        c.Total,
				"succeeded":    c.Succeeded,
				"failed":       c.Failed,
				"changed":      c.Changed,
				"would_change": c.WouldChange,
				"duration_ms":  durationMS(c.Duration),
			},
			"states": states,
		})
	}
	doc := map[string]any{
		"schema_version":   SchemaVersion,
		"statectl_version": opts.Version,
		"targets":          targets,
	}
	if opts.Source != nil {
		doc["source"] = opts.Source
	}
	return doc
}

// Status is one word for a result: unchanged, changed, would_change or
// failed.
func Status(r *state.Result) string {
	switch {
	case r.Failed():
		return "failed"
	case r.Result == nil:
		return "would_change"
	case r.Changed():
		return "changed"
	}
	return "unchanged"
}

func stateV1(r *state.Result) map[string]any {
	result, changes := resultValues(r)
	return map[string]any{
		"tag":         r.Tag,
		"id":          r.ID,
		"sls":         r.SLS,
		"name":        r.Name,
		"function":    r.Module + "." + r.Function,
		"run_num":     r.RunNum,
		"result":      result,
		"status":      Status(r),
		"changes":     secret.MaskTree(changes),
		"comment":     r.Comment,
		"start_time":  r.StartTime.UTC().Format(time.RFC3339Nano),
		"duration_ms": durationMS(r.Duration),
	}
}
