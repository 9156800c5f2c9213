package lab

import (
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// Pids lists the processes other than this one for which match is true,
// sorted: the one /proc scan behind stray-daemon cleanup, netns teardown
// and the tests that look for a member's helpers.
func Pids(match func(pid int) bool) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if match(pid) {
			pids = append(pids, pid)
		}
	}
	sort.Ints(pids)
	return pids
}

// Comm is pid's command name ("" when it is gone).
func Comm(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// NetnsPids lists the processes in the network namespace pinned at path
// (what `ip netns pids` lists); none when path is not a namespace.
func NetnsPids(path string) []int {
	var ns syscall.Stat_t
	if err := syscall.Stat(path, &ns); err != nil {
		return nil
	}
	return Pids(func(pid int) bool {
		var st syscall.Stat_t
		return syscall.Stat("/proc/"+strconv.Itoa(pid)+"/ns/net", &st) == nil && st.Dev == ns.Dev && st.Ino == ns.Ino
	})
}
