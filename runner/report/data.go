package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/statectl/statectl/runner/plain"
	"github.com/statectl/statectl/runner/state"
)

// StartTimeLayout is Salt's start_time format.
const StartTimeLayout = "15:04:05.000000"

// WriteData writes data as indented JSON or YAML with sorted map keys.
// Human is treated as YAML: nested data reads best that way.
func WriteData(w io.Writer, f Format, data any) error {
	data = Normalize(data)
	switch f {
	case JSON:
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		// Comments and names may hold <, > and &; keep them readable.
		enc.SetEscapeHTML(false)
		if err := enc.Encode(data); err != nil {
			return fmt.Errorf("failed to encode json: %w", err)
		}
		_, err := w.Write(buf.Bytes())
		return err
	case YAML, Human, "":
		var buf bytes.Buffer
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(2)
		if err := enc.Encode(data); err != nil {
			return fmt.Errorf("failed to encode yaml: %w", err)
		}
		if err := enc.Close(); err != nil {
			return fmt.Errorf("failed to encode yaml: %w", err)
		}
		_, err := w.Write(buf.Bytes())
		return err
	}
	return fmt.Errorf("unknown output format %q", f)
}

// resultsData is Salt's state.apply return: {target: {tag: ret}}.
func resultsData(runs []*Run) map[string]any {
	out := make(map[string]any, len(runs))
	for _, r := range runs {
		rets := make(map[string]any, len(r.Results))
		for _, res := range r.Results {
			rets[res.Tag] = ResultData(res)
		}
		out[r.Target] = rets
	}
	return out
}

// resultValues are a result's result (nil: would change) and a copy of its
// changes (never nil), as every data shape writes them.
func resultValues(r *state.Result) (any, map[string]any) {
	var result any
	if r.Result != nil {
		result = *r.Result
	}
	changes := map[string]any{}
	for k, v := range r.Changes {
		changes[k] = v
	}
	return result, changes
}

// ResultData is one state's return in Salt's shape.
func ResultData(r *state.Result) map[string]any {
	result, changes := resultValues(r)
	return map[string]any{
		"__id__":      r.ID,
		"__run_num__": r.RunNum,
		"__sls__":     r.SLS,
		"changes":     changes,
		"comment":     r.Comment,
		"duration":    durationMS(r.Duration),
		"name":        r.Name,
		"result":      result,
		"start_time":  r.StartTime.Format(StartTimeLayout),
	}
}

// durationMS is d in milliseconds, rounded to microseconds as Salt prints it.
func durationMS(d time.Duration) float64 {
	return math.Round(float64(d)/float64(time.Microsecond)) / 1000
}

// Normalize turns any JSON-encodable value (structs, typed maps and slices
// from modules) into plain map[string]any, []any, string, bool, nil, int64
// and float64, so every rendering sees the same data.
func Normalize(v any) any {
	if out, ok := plain.Of(v); ok {
		return out
	}
	// Not JSON-encodable (e.g. a channel): show it rather than lose it.
	return fmt.Sprint(v)
}
