package cli

import (
	"bytes"
	"io"
	"sync"

	"github.com/statectl/statectl/runner/report"
	"github.com/statectl/statectl/runner/run"
)

// applyFleet runs apply's targets. With several clusters (the roster's
// cluster field) the targets are grouped per cluster, whatever
// --parallel says, and up to --parallel clusters run at once, each
// cluster's members in run order (run.RunFleet). A Session is not safe for concurrent use, so
// every cluster but the first gets its own session; the output is that of
// a sequential run.
func (a *app) applyFleet(s *run.Session, expr string, sls []string, view *runView) error {
	targets, err := s.Select(expr)
	if err != nil {
		return err
	}
	ordered := s.Order(targets, sls)
	groups := run.Clusters(ordered)
	if len(groups) < 2 {
		// One cluster (or a roster without cluster fields): stream target
		// by target, as always.
		return a.forTargets(ordered, func(t *run.Target) (int, error) {
			r, err := s.Pass(t, sls, a.applyPass())
			if err != nil {
				return 0, err
			}
			return view.add(r)
		})
	}
	sessions := make([]*run.Session, len(groups))
	for i, g := range groups {
		if i == 0 {
			sessions[i] = s
			continue
		}
		gs, err := a.open()
		if err != nil {
			return err
		}
		defer gs.Close()
		// The same targets, as values of the group's own session.
		all, err := gs.Select(expr)
		if err != nil {
			return err
		}
		byName := map[string]*run.Target{}
		for _, t := range all {
			byName[t.Name] = t
		}
		for j, t := range g.Targets {
			if own, ok := byName[t.Name]; ok {
				g.Targets[j] = own
			}
		}
		sessions[i] = gs
	}
	index := map[string]int{}
	for i, g := range groups {
		index[g.Cluster] = i
	}
	var mu sync.Mutex
	errs := map[*run.Target]error{}
	runs := map[*run.Target]*report.Run{}
	human := view.format == report.Human
	codes := run.RunFleet(a.ctx, groups, a.opts.parallel, a.stdout, func(g run.Group, t *run.Target, w io.Writer) int {
		r, err := sessions[index[g.Cluster]].Pass(t, sls, a.applyPass())
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			errs[t] = err
			return 0
		}
		runs[t] = r
		if human {
			var b bytes.Buffer
			if err := view.writeHuman(&b, r, t == groups[0].Targets[0]); err != nil {
				errs[t] = err
				return 0
			}
			_, _ = w.Write(b.Bytes())
		}
		return report.ExitCode(r, a.opts.detailed)
	})
	k := 0
	for _, g := range groups {
		for _, t := range g.Targets {
			if err := errs[t]; err != nil {
				if len(targets) > 1 {
					err = prefixed(t.Name, err)
				}
				codes[k] = a.fail(err)
			} else if r := runs[t]; r != nil && !human {
				view.runs = append(view.runs, r)
			}
			k++
		}
	}
	if code := report.Worst(codes...); code != report.ExitOK {
		return exitCode(code)
	}
	return nil
}
