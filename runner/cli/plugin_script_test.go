package cli

import (
	"path"
	"path/filepath"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/statectl/statectl/runner/plugin"
	"github.com/statectl/statectl/runner/plugin/plugintest"
)

// pluginScriptSetup builds the real file plugin for the plugin_* scripts
// into $WORK/.plugins and puts it on STATECTL_PLUGIN_PATH; $PLUGIN_FILE is
// its executable. Other scripts see no plugins.
func pluginScriptSetup(env *testscript.Env) error {
	named, ok := env.T().(interface{ Name() string })
	if !ok || !strings.HasPrefix(path.Base(named.Name()), "plugin_") {
		return nil
	}
	dir := filepath.Join(env.WorkDir, ".plugins")
	bin := filepath.Join(dir, plugin.Prefix+"file")
	if err := plugintest.BuildTo(bin, plugintest.File); err != nil {
		return err
	}
	env.Setenv(plugin.PathEnv, dir)
	env.Setenv("PLUGIN_FILE", bin)
	return nil
}
