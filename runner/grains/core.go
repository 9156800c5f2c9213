package grains

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Core gathers this machine's core grains: id, host, localhost, nodename,
// fqdn, domain, ipv4, ipv6 (all addresses, loopback included, sorted),
// ip4_interfaces, ip6_interfaces, os, os_family, osfullname, osrelease,
// osmajorrelease, oscodename, kernel, kernelrelease, cpuarch, num_cpus and
// mem_total (MiB).
func Core() (map[string]any, error) {
	return hostSystem().core()
}

// system is where core grains come from; tests substitute a fake root and
// fake network.
type system struct {
	root     string // "/" on a real host
	goos     string
	goarch   string
	numCPU   int
	hostname func() (string, error)
	ifaces   func() (map[string][]netip.Addr, error)
	// names resolves a host name to the names of its addresses, for fqdn.
	names func(host string) []string
}

func hostSystem() *system {
	return &system{
		root:     "/",
		goos:     runtime.GOOS,
		goarch:   runtime.GOARCH,
		numCPU:   runtime.NumCPU(),
		hostname: os.Hostname,
		ifaces:   interfaceAddrs,
		names:    resolveNames,
	}
}

func (s *system) core() (map[string]any, error) {
	host, err := s.hostname()
	if err != nil {
		return nil, fmt.Errorf("failed to read the host name: %w", err)
	}
	short, _, _ := strings.Cut(host, ".")
	fqdn := s.fqdn(host)
	_, domain, _ := strings.Cut(fqdn, ".")
	g := map[string]any{
		"id":        fqdn, // Salt's default minion id; For replaces it with the target name
		"host":      short,
		"localhost": host,
		"nodename":  host,
		"fqdn":      fqdn,
		"domain":    domain,
		"num_cpus":  s.numCPU,
		"kernel":    kernelName(s.goos),
		"cpuarch":   cpuArch(s.goarch),
	}
	if err := s.network(g); err != nil {
		return nil, err
	}
	s.osRelease(g)
	if rel, err := s.readTrim("proc/sys/kernel/osrelease"); err == nil {
		g["kernelrelease"] = rel
	}
	if mib, ok := s.memTotal(); ok {
		g["mem_total"] = mib
	}
	return g, nil
}

func (s *system) fqdn(host string) string {
	if strings.Contains(host, ".") {
		return host
	}
	for _, n := range s.names(host) {
		if n = strings.TrimSuffix(n, "."); strings.Contains(n, ".") && !strings.HasPrefix(n, "localhost") {
			return n
		}
	}
	return host
}

func (s *system) network(g map[string]any) error {
	byIface, err := s.ifaces()
	if err != nil {
		return fmt.Errorf("failed to list network addresses: %w", err)
	}
	var v4, v6 []netip.Addr
	ip4, ip6 := map[string]any{}, map[string]any{}
	for name, addrs := range byIface {
		var l4, l6 []netip.Addr
		for _, a := range addrs {
			if a.Is4() {
				l4 = append(l4, a)
			} else {
				l6 = append(l6, a)
			}
		}
		ip4[name], ip6[name] = addrList(l4), addrList(l6)
		v4, v6 = append(v4, l4...), append(v6, l6...)
	}
	g["ipv4"], g["ipv6"] = addrList(v4), addrList(v6)
	g["ip4_interfaces"], g["ip6_interfaces"] = ip4, ip6
	return nil
}

// addrList sorts and dedupes addresses so the grain is stable across runs
// (interface enumeration order is not).
func addrList(addrs []netip.Addr) []any {
	slices.SortFunc(addrs, func(a, b netip.Addr) int { return a.Compare(b) })
	addrs = slices.Compact(addrs)
	out := make([]any, len(addrs))
	for i, a := range addrs {
		out[i] = a.String()
	}
	return out
}

// osNames maps os-release IDs to Salt's os grain; unknown IDs are
// capitalised.
var osNames = map[string]string{
	"debian": "Debian", "ubuntu": "Ubuntu", "raspbian": "Raspbian", "linuxmint": "Mint",
	"devuan": "Devuan", "fedora": "Fedora", "rhel": "RedHat", "centos": "CentOS",
	"rocky": "Rocky", "almalinux": "AlmaLinux", "ol": "OEL", "amzn": "Amazon",
	"opensuse-leap": "Leap", "opensuse-tumbleweed": "openSUSE Tumbleweed", "sles": "SUSE",
	"arch": "Arch", "manjaro": "Manjaro", "alpine": "Alpine", "gentoo": "Gentoo",
	"nixos": "NixOS", "void": "Void",
}

// osFamilies maps the os grain to Salt's os_family.
var osFamilies = map[string]string{
	"Debian": "Debian", "Ubuntu": "Debian", "Raspbian": "Debian", "Mint": "Debian", "Devuan": "Debian",
	"Fedora": "RedHat", "RedHat": "RedHat", "CentOS": "RedHat", "Rocky": "RedHat", "AlmaLinux": "RedHat",
	"OEL": "RedHat", "Amazon": "RedHat", "Leap": "Suse", "openSUSE Tumbleweed": "Suse", "SUSE": "Suse",
	"Arch": "Arch", "Manjaro": "Arch", "Alpine": "Alpine", "Gentoo": "Gentoo", "NixOS": "NixOS", "Void": "Void",
}

func (s *system) osRelease(g map[string]any) {
	rel := map[string]string{}
	for _, p := range []string{"etc/os-release", "usr/lib/os-release"} {
		if r, err := s.parseOSRelease(p); err == nil {
			rel = r
			break
		}
	}
	id := rel["ID"]
	name := osNames[id]
	if name == "" && id != "" {
		name = strings.ToUpper(id[:1]) + id[1:]
	}
	if name == "" {
		name = kernelName(s.goos)
	}
	family := osFamilies[name]
	if family == "" {
		family = name
	}
	g["os"], g["os_family"] = name, family
	if v := rel["NAME"]; v != "" {
		g["osfullname"] = v
	}
	if v := rel["VERSION_CODENAME"]; v != "" {
		g["oscodename"] = v
	}
	release := rel["VERSION_ID"]
	// Salt reports Debian's point release (12.11) from debian_version.
	if id == "debian" {
		if v, err := s.readTrim("etc/debian_version"); err == nil && v != "" && v[0] >= '0' && v[0] <= '9' {
			release = v
		}
	}
	if release != "" {
		g["osrelease"] = release
		major, _, _ := strings.Cut(release, ".")
		if n, err := strconv.Atoi(major); err == nil {
			g["osmajorrelease"] = n
		}
	}
}

func (s *system) parseOSRelease(rel string) (map[string]string, error) {
	f, err := os.Open(filepath.Join(s.root, rel))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok || strings.HasPrefix(k, "#") {
			continue
		}
		if uq, err := strconv.Unquote(v); err == nil {
			v = uq
		} else {
			v = strings.Trim(v, `'"`)
		}
		out[k] = v
	}
	return out, sc.Err()
}

func (s *system) readTrim(rel string) (string, error) {
	b, err := os.ReadFile(filepath.Join(s.root, rel))
	return strings.TrimSpace(string(b)), err
}

func (s *system) memTotal() (int, bool) {
	b, err := os.ReadFile(filepath.Join(s.root, "proc/meminfo"))
	if err != nil {
		return 0, false
	}
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "MemTotal:" {
			kb, err := strconv.Atoi(f[1])
			return kb / 1024, err == nil
		}
	}
	return 0, false
}

func kernelName(goos string) string {
	switch goos {
	case "linux":
		return "Linux"
	case "darwin":
		return "Darwin"
	case "freebsd":
		return "FreeBSD"
	}
	return goos
}

func cpuArch(goarch string) string {
	switch goarch {
	case "amd64":
		return "x86_64"
	case "arm64":
		return "aarch64"
	case "386":
		return "i686"
	case "arm":
		return "armv7l"
	}
	return goarch
}

func interfaceAddrs() (map[string][]netip.Addr, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	out := map[string][]netip.Addr{}
	for _, ifc := range ifs {
		addrs, err := ifc.Addrs()
		if err != nil {
			return nil, err
		}
		list := []netip.Addr{}
		for _, a := range addrs {
			var ip net.IP
			switch v := a.(type) {
			case *net.IPNet:
				ip = v.IP
			case *net.IPAddr:
				ip = v.IP
			}
			if na, ok := netip.AddrFromSlice(ip); ok {
				list = append(list, na.Unmap().WithZone(""))
			}
		}
		out[ifc.Name] = list
	}
	return out, nil
}

// resolveNames finds the names of host's addresses through /etc/hosts and
// DNS, with a short timeout: grains must not hang on a dead resolver.
func resolveNames(host string) []string {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	var names []string
	if cname, err := net.DefaultResolver.LookupCNAME(ctx, host); err == nil {
		names = append(names, cname)
	}
	addrs, err := net.DefaultResolver.LookupHost(ctx, host)
	if err != nil {
		return names
	}
	for _, a := range addrs {
		n, err := net.DefaultResolver.LookupAddr(ctx, a)
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			continue
		}
		names = append(names, n...)
	}
	return names
}
