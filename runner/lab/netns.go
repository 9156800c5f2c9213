package lab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Network-namespace mode (Options.Netns): each member's incusd runs in its
// own network namespace, so per-member kernel objects (an Incus bridge
// network's interface, its dnsmasq) do not collide as they do when all
// members share the host's namespace. Member K's namespace is stlTAGnK; its
// eth0 is the peer of the host veth stlTAGnK, enslaved to the host bridge
// stlTAGbr. The bridge has no address and no uplink: member addresses
// exist only inside the namespaces, no namespace has a route out, and the
// host's route for the subnet is of type unreachable. So only the daemons
// reach each other over TCP; the host reaches them by their unix sockets
// (statectl's probes of cluster addresses fail at once: it then relies on
// the members' status, as when cluster addresses are not reachable).

// netnsRunDir is where `ip netns add` pins named namespaces.
const netnsRunDir = "/run/netns"

var tagRe = regexp.MustCompile(`^[a-z0-9]{1,6}$`)

func validTag(tag string) error {
	if !tagRe.MatchString(tag) {
		return fmt.Errorf("invalid netns tag %q: want 1-6 of [a-z0-9]", tag)
	}
	return nil
}

// BridgeName is the host bridge of the netns lab tagged tag.
func BridgeName(tag string) string { return "stl" + tag + "br" }

// NetnsName is member k's network namespace (and its host veth) in the
// netns lab tagged tag.
func NetnsName(tag string, k int) string { return "stl" + tag + "n" + strconv.Itoa(k) }

// isMemberName reports whether name is NetnsName(tag, k) for some k.
func isMemberName(tag, name string) bool {
	rest, ok := strings.CutPrefix(name, "stl"+tag+"n")
	if !ok || rest == "" {
		return false
	}
	_, err := strconv.Atoi(rest)
	return err == nil && !strings.HasPrefix(rest, "0") && !strings.HasPrefix(rest, "+")
}

func linkExists(name string) bool {
	_, err := os.Lstat(filepath.Join("/sys/class/net", name))
	return err == nil
}

func netnsExists(name string) bool {
	_, err := os.Stat(filepath.Join(netnsRunDir, name))
	return err == nil
}

// ipCmd runs ip(8) with args.
func ipCmd(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("failed to run ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// checkNetnsFree fails (wrapping ErrAddressInUse, so labtest tries the next
// slot) when the tag's bridge or namespaces exist, or when an interface of
// the host already has an address in PREFIX.0/24.
func checkNetnsFree(tag, prefix string, members int) error {
	if _, err := exec.LookPath("ip"); err != nil {
		return fmt.Errorf("%w: netns mode needs ip(8) from iproute2: %v", ErrUnavailable, err)
	}
	if linkExists(BridgeName(tag)) {
		return fmt.Errorf("%w: bridge %s exists (another netns lab with tag %s?)", ErrAddressInUse, BridgeName(tag), tag)
	}
	for k := 1; k <= members; k++ {
		if n := NetnsName(tag, k); netnsExists(n) || linkExists(n) {
			return fmt.Errorf("%w: network namespace or interface %s exists (another netns lab with tag %s?)", ErrAddressInUse, n, tag)
		}
	}
	_, subnet, err := net.ParseCIDR(prefix + ".0/24")
	if err != nil {
		return fmt.Errorf("invalid address prefix %q: %w", prefix, err)
	}
	if out, err := exec.Command("ip", "-4", "route", "show", "exact", subnet.String()).Output(); err == nil && len(strings.TrimSpace(string(out))) > 0 {
		return fmt.Errorf("%w: the host has a route for %s: %s", ErrAddressInUse, subnet, strings.TrimSpace(string(out)))
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return fmt.Errorf("failed to list host addresses: %w", err)
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && (subnet.Contains(ipn.IP) || ipn.Contains(subnet.IP)) && ipn.IP.To4() != nil {
			return fmt.Errorf("%w: %s overlaps the host address %s", ErrAddressInUse, subnet, ipn)
		}
	}
	return nil
}

// setupNetns creates the bridge, and per member a namespace with lo up and
// eth0 (a veth peer on the bridge) holding the member's address.
func (l *Lab) setupNetns() error {
	br := BridgeName(l.Netns)
	if err := ipCmd("link", "add", br, "type", "bridge"); err != nil {
		return err
	}
	// No IPv6 link-local address on the host side either.
	_ = os.WriteFile("/proc/sys/net/ipv6/conf/"+br+"/disable_ipv6", []byte("1"), 0o644)
	if err := ipCmd("link", "set", br, "up"); err != nil {
		return err
	}
	// The host's default route would send a connection to a member
	// address out of its real interface (measured: something out there
	// answered on :8443). An unreachable route fails it at once instead,
	// and keeps the lab subnet off the host's interfaces.
	if len(l.Members) > 0 {
		if err := ipCmd("route", "add", "unreachable", subnetOf(l.Members[0].IP())); err != nil {
			return err
		}
	}
	for _, m := range l.Members {
		steps := [][]string{
			{"netns", "add", m.Netns},
			{"link", "add", m.Netns, "type", "veth", "peer", "name", "eth0", "netns", m.Netns},
			{"link", "set", m.Netns, "master", br, "up"},
			{"-n", m.Netns, "addr", "add", m.IP() + "/24", "dev", "eth0"},
			{"-n", m.Netns, "link", "set", "lo", "up"},
			{"-n", m.Netns, "link", "set", "eth0", "up"},
		}
		if err := runSteps(steps); err != nil {
			return fmt.Errorf("failed to set up the network namespace of lab member %s: %w", m.Name, err)
		}
	}
	return nil
}

func runSteps(steps [][]string) error {
	for _, s := range steps {
		if err := ipCmd(s...); err != nil {
			return err
		}
	}
	return nil
}

// subnetOf is the /24 of a member address.
func subnetOf(ip string) string {
	return ip[:strings.LastIndexByte(ip, '.')] + ".0/24"
}

// RemoveNetns removes everything a netns lab tagged tag with addresses in
// PREFIX.0/24 created: processes left in its namespaces (an incusd's
// dnsmasq, say) are killed, then the namespaces (which takes their eth0
// along), host veths, the bridge and the host's unreachable route for the
// subnet are deleted. It finds them by name, so it also cleans up after a
// crashed run that left no lab.json; an empty prefix leaves routes alone.
// Removing nothing is not an error.
func RemoveNetns(tag, prefix string) error {
	if err := validTag(tag); err != nil {
		return err
	}
	var errs []error
	if prefix != "" {
		// Only the unreachable route this lab adds, for exactly its subnet.
		subnet := subnetOf(prefix + ".1")
		out, err := exec.Command("ip", "-4", "route", "show", "type", "unreachable", "exact", subnet).Output()
		if err == nil && len(strings.TrimSpace(string(out))) > 0 {
			if err := ipCmd("route", "del", "unreachable", subnet); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if ents, err := os.ReadDir(netnsRunDir); err == nil {
		for _, e := range ents {
			if !isMemberName(tag, e.Name()) {
				continue
			}
			killNetnsProcs(filepath.Join(netnsRunDir, e.Name()))
			if err := ipCmd("netns", "del", e.Name()); err != nil && netnsExists(e.Name()) {
				errs = append(errs, err)
			}
		}
	}
	if ents, err := os.ReadDir("/sys/class/net"); err == nil {
		for _, e := range ents {
			if isMemberName(tag, e.Name()) || e.Name() == BridgeName(tag) {
				if err := ipCmd("link", "del", e.Name()); err != nil && linkExists(e.Name()) {
					errs = append(errs, err)
				}
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("failed to remove lab network namespaces (tag %s): %w", tag, err)
	}
	return nil
}

// NetnsLeft reports whether a namespace or interface of the netns lab
// tagged tag exists (cheap: two directory reads).
func NetnsLeft(tag string) bool {
	if linkExists(BridgeName(tag)) {
		return true
	}
	for _, dir := range []string{netnsRunDir, "/sys/class/net"} {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if isMemberName(tag, e.Name()) {
				return true
			}
		}
	}
	return false
}

// killNetnsProcs SIGKILLs every process in the namespace pinned at path
// (what `ip netns pids` lists), then waits for them to go.
func killNetnsProcs(path string) {
	pids := NetnsPids(path)
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	for _, pid := range pids {
		waitExit(context.Background(), pid, killGrace)
	}
}

// inNetns runs fn with the calling goroutine's thread switched into the
// namespace pinned at /run/netns/name. The thread is never switched back:
// the goroutine ends locked, so the runtime discards the thread.
func inNetns(name string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open(filepath.Join(netnsRunDir, name))
		if err != nil {
			errc <- fmt.Errorf("failed to open network namespace %s: %w", name, err)
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("failed to enter network namespace %s: %w", name, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// memberAddressFree checks m's address where m listens: in its namespace
// in netns mode (a namespace already gone is free).
func memberAddressFree(m Member) error {
	if m.Netns == "" {
		return checkAddressFree(m.Address)
	}
	if !netnsExists(m.Netns) {
		return nil
	}
	return inNetns(m.Netns, func() error { return checkAddressFree(m.Address) })
}
