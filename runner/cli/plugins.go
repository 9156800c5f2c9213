package cli

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/statectl/statectl/runner/config"
	"github.com/statectl/statectl/runner/module"
	"github.com/statectl/statectl/runner/plugin"
	"github.com/statectl/statectl/runner/report"
)

// pluginHost finds the plugins for this invocation: on
// $STATECTL_PLUGIN_PATH, else next to the state tree and in the user's
// data directory, with the sha256 pins of statectl.yaml.
func (a *app) pluginHost() *plugin.Host {
	var pins map[string]string
	// loadConfig already reported a bad file; here only the pins matter.
	if f, err := config.Load(a.opts.config); err == nil {
		pins = f.PluginPins()
	}
	return plugin.NewHost(plugin.Options{
		Dirs:   plugin.SearchPath(a.opts.states),
		Pins:   pins,
		Logger: plugin.NewLogger(a.stderr, a.opts.logLevel.String()),
	})
}

// stateRoot is the state tree as an absolute path: modules (file.managed
// sources) resolve against it from their own working directory.
func (a *app) stateRoot() string {
	if abs, err := filepath.Abs(a.opts.states); err == nil {
		return abs
	}
	return a.opts.states
}

// moduleTarget is what every module call of n's run knows about n.
func (a *app) moduleTarget(n *node) *module.Target {
	mt := &module.Target{Name: n.name, Grains: n.grains, Pillar: n.pillar, StateRoot: a.stateRoot()}
	if n.entry != nil {
		mt.Roster = n.entry.Connection()
	}
	return mt
}

// pluginError puts a plugin that failed to start (refused, crashed, not a
// plugin) in place of the compile error it causes ("unknown module"),
// since it is the cause.
func pluginError(reg *module.Registry, err error) error {
	errs := reg.Errs()
	if len(errs) == 0 {
		return err
	}
	return &cliError{code: report.ExitError, err: errors.Join(errs...),
		hint: "fix or remove the plugin; 'statectl modules' lists the modules and where plugins are looked for"}
}

// logLevel is --log-level: how much of go-plugin's and the plugins' log
// reaches stderr.
type logLevel string

var logLevels = []string{"trace", "debug", "info", "warn", "error", "off"}

func (l *logLevel) String() string {
	if *l == "" {
		return "warn"
	}
	return string(*l)
}

func (l *logLevel) Set(s string) error {
	s = strings.ToLower(s)
	for _, v := range logLevels {
		if s == v {
			*l = logLevel(s)
			return nil
		}
	}
	return fmt.Errorf("want one of %s", strings.Join(logLevels, ", "))
}

func (l *logLevel) Type() string { return "level" }
