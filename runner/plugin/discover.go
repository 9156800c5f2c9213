package plugin

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Prefix starts every plugin executable's name: statectl-module-NAME
// serves the module NAME.
const Prefix = "statectl-module-"

// PathEnv, when set and not empty, is the only place plugins are looked
// for: a colon-separated list of directories.
const PathEnv = "STATECTL_PLUGIN_PATH"

// moduleName is what NAME may be: what a state can write before the dot.
var moduleName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// SearchPath returns the directories searched for plugins, in order: the
// directories of $STATECTL_PLUGIN_PATH when it is set; otherwise
// ./plugins next to the state root, then $XDG_DATA_HOME/statectl/plugins
// (~/.local/share/statectl/plugins when XDG_DATA_HOME is unset).
func SearchPath(stateRoot string) []string {
	if v := os.Getenv(PathEnv); v != "" {
		var dirs []string
		for _, d := range filepath.SplitList(v) {
			if d != "" {
				dirs = append(dirs, d)
			}
		}
		return dirs
	}
	dirs := []string{filepath.Join(filepath.Dir(filepath.Clean(stateRoot)), "plugins")}
	data := os.Getenv("XDG_DATA_HOME")
	if !filepath.IsAbs(data) { // the XDG spec says to ignore a relative one
		data = ""
		if home, err := os.UserHomeDir(); err == nil {
			data = filepath.Join(home, ".local", "share")
		}
	}
	if data != "" {
		dirs = append(dirs, filepath.Join(data, "statectl", "plugins"))
	}
	return dirs
}

// Discover lists the plugin executables in dirs: module name -> path. A
// name found in several directories is taken from the first, as PATH
// works. Missing directories are skipped; files that are not executable,
// or whose NAME is not a valid module name, are ignored. Nothing is run.
func Discover(dirs []string) map[string]string {
	found := map[string]string{}
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			name, ok := strings.CutPrefix(e.Name(), Prefix)
			if !ok || !moduleName.MatchString(name) {
				continue
			}
			if _, dup := found[name]; dup {
				continue
			}
			p := filepath.Join(dir, e.Name())
			fi, err := os.Stat(p) // follows symlinks
			if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
				continue
			}
			if abs, err := filepath.Abs(p); err == nil {
				p = abs
			}
			found[name] = p
		}
	}
	return found
}

func sortedNames(m map[string]string) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
