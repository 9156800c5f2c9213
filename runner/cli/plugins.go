package cli

import (
	"fmt"
	"strings"

	"github.com/statectl/statectl/runner/config"
	"github.com/statectl/statectl/runner/plugin"
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
