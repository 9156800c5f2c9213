package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/statectl/statectl/runner/report"
	"github.com/statectl/statectl/runner/run"
)

// batchOptions are statectl apply's rolling-run flags (Salt's -b).
type batchOptions struct {
	size        string
	wait        time.Duration
	gateTimeout time.Duration
}

func addBatchFlags(fs *pflag.FlagSet, o *batchOptions) {
	fs.StringVarP(&o.size, "batch", "b", "", "statectl apply: run the targets `N` (or N%) at a time, with a health gate between batches")
	fs.StringVar(&o.size, "batch-size", "", "same as --batch")
	fs.DurationVar(&o.wait, "batch-wait", 0, "statectl apply --batch: pause this long after each batch, before its health gate")
	fs.DurationVar(&o.gateTimeout, "batch-gate-timeout", 5*time.Minute, "statectl apply --batch: wait at most this long for the cluster to be healthy between batches")
}

// batchRun runs targets one batch at a time (the targets of a batch one
// after another: a run.Session is not safe for concurrent use). Between
// batches the health gate must pass; the run stops at the first batch with
// a failure or a gate that times out, and names the targets not touched.
func (a *app) batchRun(s *run.Session, expr string, sls []string, fn targetFunc) error {
	if a.opts.parallel > 1 {
		return usageError("run a rolling update with --batch alone; --parallel is for fleets of clusters",
			"--batch and --parallel do not combine")
	}
	targets, err := s.Select(expr)
	if err != nil {
		return err
	}
	targets = s.Order(targets, sls)
	size, err := run.ParseBatch(a.opts.batch.size, len(targets))
	if err != nil {
		return usageError("use --batch N (N >= 1) or N% (1% to 100%)", "%w", err)
	}
	names := make([]string, len(targets))
	for i, t := range targets {
		names[i] = t.Name
	}
	gate := run.GateNames(targets)
	batches := run.Batches(targets, size)
	var codes []int
	done := 0
	for i, b := range batches {
		if i > 0 {
			if err := a.batchGate(s, gate, i+1, len(batches)); err != nil {
				codes = append(codes, a.fail(err))
				a.untouched(names[done:])
				break
			}
		}
		bad := false
		for _, t := range b {
			code, err := fn(t)
			if err != nil {
				code = a.fail(prefixed(t.Name, err))
			}
			codes = append(codes, code)
			if code != report.ExitOK && code != report.ExitChanged {
				bad = true
			}
			done++
		}
		if bad && done < len(names) {
			a.untouched(names[done:])
			break
		}
		if a.ctx.Err() != nil {
			break
		}
	}
	if code := report.Worst(codes...); code != report.ExitOK {
		return exitCode(code)
	}
	return nil
}

// batchGate pauses --batch-wait, then waits for the health gate before
// batch number i of n, reporting how long it waited.
func (a *app) batchGate(s *run.Session, gate []string, i, n int) error {
	if a.opts.batch.wait > 0 {
		select {
		case <-a.ctx.Done():
			return a.ctx.Err()
		case <-time.After(a.opts.batch.wait):
		}
	}
	if len(gate) == 0 {
		fmt.Fprintf(a.stderr, "statectl: batch %d/%d: no health gate (no target has an Incus daemon)\n", i, n)
		return nil
	}
	waited, err := s.Gate(a.ctx, gate, a.opts.batch.gateTimeout)
	if err != nil {
		return fmt.Errorf("batch %d/%d: %w", i, n, err)
	}
	fmt.Fprintf(a.stderr, "statectl: batch %d/%d: health gate passed after %s\n", i, n, waited.Round(time.Millisecond))
	return nil
}

func (a *app) untouched(names []string) {
	fmt.Fprintf(a.stderr, "statectl: batch run stopped; not touched: %s\n", strings.Join(names, ", "))
}
