package compile

import (
	"fmt"

	"github.com/statectl/statectl/runner/slstree"
)

const topFile = slstree.TopFile

type topEntry struct {
	sls  string
	line int
}

// topSLS renders top.sls and returns the SLS it assigns to the target in
// the run's saltenv, in top-file order, each once (slstree.Top). An SLS
// listed with `- ignore_missing: true` that the tree does not have is
// left out.
func topSLS(o *Options) ([]topEntry, error) {
	tree := slstree.Open(o.Root)
	defer tree.Close()
	if ok, err := tree.Exists(topFile); err != nil {
		return nil, Errors{{File: topFile, Msg: fmt.Sprintf("failed to read the top file: %v", err)}}
	} else if !ok {
		return nil, Errors{{File: topFile, Msg: fmt.Sprintf("no top file found in state root %s", o.Root),
			Hint: "create top.sls, or name the SLS to apply"}}
	}
	doc, err := tree.Render(o.Renderer, topFile, o.context(""))
	if err != nil {
		return nil, Errors{renderError(topFile, "", err)}
	}
	entries, topErrs := slstree.Top(doc, o.saltenv(), o.subject())
	if len(topErrs) > 0 {
		var errs errList
		for _, e := range topErrs {
			errs.add(&Error{File: topFile, Line: e.Line, Msg: "invalid top file: " + e.Msg})
		}
		return nil, errs.err()
	}
	var out []topEntry
	for _, e := range entries {
		if e.IgnoreMissing && validSLSName(e.SLS) {
			if _, _, ok, err := tree.Resolve(e.SLS); err == nil && !ok {
				continue
			}
		}
		out = append(out, topEntry{sls: e.SLS, line: e.Line})
	}
	return out, nil
}
