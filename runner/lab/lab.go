// Package lab runs real incusd daemons on loopback addresses: one daemon per
// directory, each reachable over its own unix socket and 127.x.y.z:8443. It
// backs `statectl lab` and the integration tests (see package labtest).
//
// A lab directory holds:
//
//	lab.json        state file (members, pids, certificate paths)
//	roster.yaml     one roster entry per member (socket + grains)
//	pillar/         top.sls and incus.sls describing the cluster to build
//	client.crt/key  a client certificate every member trusts (for https)
//	nodeK/          INCUS_DIR of member K (server.crt is its certificate)
//	nodeK.log       the daemon's log
//
// Up leaves the daemons unclustered: forming the cluster is the job of the
// states under test.
package lab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// StateFile is the name of the lab state file inside the lab directory.
const StateFile = "lab.json"

// Member is one daemon of the lab.
type Member struct {
	Name string `json:"name"`
	// Dir is the daemon's INCUS_DIR.
	Dir    string `json:"dir"`
	Socket string `json:"socket"`
	// Address is host:port of core.https_address, e.g. 127.0.0.11:8443.
	Address string `json:"address"`
	PID     int    `json:"pid"`
	Log     string `json:"log"`
	// ServerCert is the daemon's own certificate (PEM path). Once the
	// member joins a cluster it serves the cluster certificate instead
	// (DIR/nodeK/cluster.crt).
	ServerCert string `json:"server_cert"`
	// Netns is the member's network namespace in netns mode (its host
	// veth has the same name); empty when it shares the host's.
	Netns string `json:"netns,omitempty"`
}

// URL is the member's https endpoint.
func (m Member) URL() string { return "https://" + m.Address }

// IP is the member's address without the port.
func (m Member) IP() string {
	host, _, err := net.SplitHostPort(m.Address)
	if err != nil {
		return m.Address
	}
	return host
}

// Lab is a set of running daemons described by DIR/lab.json.
type Lab struct {
	Dir     string   `json:"dir"`
	Members []Member `json:"members"`
	// ClientCert and ClientKey are PEM paths of a certificate trusted by
	// every member (added through the unix socket at Up).
	ClientCert string `json:"client_cert"`
	ClientKey  string `json:"client_key"`
	Incusd     string `json:"incusd"`
	// ClusterCert is set by Cluster: the certificate every member serves
	// once clustered (pin it as a roster server_cert).
	ClusterCert string `json:"cluster_cert,omitempty"`
	// Netns is the tag naming the namespaces, veths and bridge of a lab
	// in netns mode (see RemoveNetns); empty otherwise.
	Netns string `json:"netns,omitempty"`
}

// Options configure UpWith. Zero values take the defaults.
type Options struct {
	// Members is the number of daemons (default 3).
	Members int
	// Prefix is the first three octets of the member addresses (default
	// "127.0.0"); member K gets Prefix.(FirstHost+K-1).
	Prefix string
	// FirstHost is the last octet of node1's address (default 11).
	FirstHost int
	// Port is the https port of every member (default 8443).
	Port int
	// Incusd is the daemon binary (default: FindIncusd).
	Incusd string
	// ReadyTimeout bounds the wait for each daemon (default 60s).
	ReadyTimeout time.Duration
	// Log receives progress lines; nil discards them.
	Log io.Writer
	// Netns runs each member in its own network namespace, joined to the
	// others by a host bridge without uplink or address (see netns.go).
	// Prefix must then be private (RFC 1918 or 198.18.0.0/15) and free
	// on the host; the default is 198.18.0.
	Netns bool
	// Tag names the namespaces and interfaces of a netns lab (1-6 of
	// [a-z0-9]; default: the last octet of Prefix). Labs running at the
	// same time need different tags.
	Tag string
}

// benchNet is RFC 2544's benchmarking range: private, and rarely used by
// real networks.
var benchNet = &net.IPNet{IP: net.IPv4(198, 18, 0, 0).To4(), Mask: net.CIDRMask(15, 32)}

func (o *Options) defaults() error {
	if o.Members == 0 {
		o.Members = 3
	}
	if o.Members < 1 || o.Members > 200 {
		return fmt.Errorf("invalid member count %d: want 1..200", o.Members)
	}
	if o.Netns {
		if o.Prefix == "" {
			o.Prefix = "198.18.0"
		}
		ip := net.ParseIP(o.Prefix + ".1")
		if ip == nil || ip.To4() == nil || strings.Count(o.Prefix, ".") != 2 || !(ip.IsPrivate() || benchNet.Contains(ip)) {
			return fmt.Errorf("invalid address prefix %q for netns mode: want three octets of a private range (10/8, 172.16/12, 192.168/16, 198.18/15), e.g. 198.18.1", o.Prefix)
		}
		if o.Tag == "" {
			o.Tag = o.Prefix[strings.LastIndexByte(o.Prefix, '.')+1:]
		}
		if err := validTag(o.Tag); err != nil {
			return err
		}
	} else {
		if o.Prefix == "" {
			o.Prefix = "127.0.0"
		}
		if ip := net.ParseIP(o.Prefix + ".1"); ip == nil || !ip.IsLoopback() || ip.To4() == nil {
			return fmt.Errorf("invalid address prefix %q: want three octets of 127.0.0.0/8, e.g. 127.0.1", o.Prefix)
		}
	}
	if o.FirstHost == 0 {
		o.FirstHost = 11
	}
	if o.FirstHost < 1 || o.FirstHost+o.Members-1 > 254 {
		return fmt.Errorf("invalid first host %d for %d members", o.FirstHost, o.Members)
	}
	if o.Port == 0 {
		o.Port = 8443
	}
	if o.ReadyTimeout == 0 {
		o.ReadyTimeout = 60 * time.Second
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	return nil
}

// Up starts n unclustered daemons in dir on 127.0.0.11.. with the default
// options. See UpWith.
func Up(ctx context.Context, dir string, n int, log io.Writer) (*Lab, error) {
	return UpWith(ctx, dir, Options{Members: n, Log: log})
}

// UpWith starts the daemons in parallel, waits until each is ready, sets
// core.https_address, trusts the lab client certificate and writes lab.json,
// roster.yaml and pillar/. If dir already holds a running lab of the same
// size it is returned as is; a partly running or differently sized lab is an
// error (run Down first). A failed Up cleans up what it started.
func UpWith(ctx context.Context, dir string, o Options) (*Lab, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("failed to resolve lab dir: %w", err)
	}
	if existing, err := Load(dir); err == nil {
		running := existing.runningCount()
		switch {
		case running == len(existing.Members) && len(existing.Members) == o.Members:
			fmt.Fprintf(o.Log, "lab: already running in %s (%d members)\n", dir, running)
			return existing, nil
		case running > 0:
			return nil, fmt.Errorf("failed to start lab in %s: a lab with %d members is running there (%d up); stop it with `statectl lab down`", dir, len(existing.Members), running)
		}
		// A crashed netns lab's namespaces and interfaces outlive it.
		if existing.Netns != "" {
			if err := RemoveNetns(existing.Netns, existing.prefix()); err != nil {
				return nil, err
			}
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	// Stale state, a crashed earlier run or an unrelated directory: only
	// a lab (or an empty dir) may be wiped.
	if err := prepareDir(dir); err != nil {
		return nil, err
	}
	if o.Incusd == "" {
		if o.Incusd, err = FindIncusd(); err != nil {
			return nil, err
		}
	}

	l := &Lab{Dir: dir, Incusd: o.Incusd}
	if o.Netns {
		l.Netns = o.Tag
		if err := checkNetnsFree(o.Tag, o.Prefix, o.Members); err != nil {
			return nil, err
		}
	}
	for k := 1; k <= o.Members; k++ {
		name := "node" + strconv.Itoa(k)
		mdir := filepath.Join(dir, name)
		ns := ""
		if o.Netns {
			ns = NetnsName(o.Tag, k)
		}
		l.Members = append(l.Members, Member{
			Netns:      ns,
			Name:       name,
			Dir:        mdir,
			Socket:     filepath.Join(mdir, "unix.socket"),
			Address:    net.JoinHostPort(fmt.Sprintf("%s.%d", o.Prefix, o.FirstHost+k-1), strconv.Itoa(o.Port)),
			Log:        filepath.Join(dir, name+".log"),
			ServerCert: filepath.Join(mdir, "server.crt"),
		})
	}
	for _, m := range l.Members {
		if m.Netns != "" {
			// Checked with the namespaces: nothing else can use them.
		} else if err := checkAddressFree(m.Address); err != nil {
			return nil, fmt.Errorf("failed to start lab member %s: %w", m.Name, err)
		}
		if len(m.Socket) >= 108 {
			return nil, fmt.Errorf("failed to start lab member %s: socket path %s is longer than the 107 bytes a unix socket allows; use a shorter lab dir", m.Name, m.Socket)
		}
	}

	start := time.Now()
	if err := l.writeClientCert(); err != nil {
		return nil, err
	}
	if l.Netns != "" {
		// Saved first, so a Down after a crash finds the tag.
		if err := l.save(); err != nil {
			return nil, err
		}
		if err := l.setupNetns(); err != nil {
			_ = l.Down(context.WithoutCancel(ctx))
			return nil, err
		}
	}
	if err := l.start(); err != nil {
		_ = l.Down(context.WithoutCancel(ctx))
		return nil, err
	}
	if err := l.save(); err != nil {
		_ = l.Down(context.WithoutCancel(ctx))
		return nil, err
	}
	fmt.Fprintf(o.Log, "lab: started %d daemons in %s\n", len(l.Members), dir)

	var wg sync.WaitGroup
	errs := make([]error, len(l.Members))
	for i := range l.Members {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs[i] = l.configure(ctx, l.Members[i], o.ReadyTimeout)
		}(i)
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		_ = l.Down(context.WithoutCancel(ctx))
		return nil, err
	}
	if err := l.WriteRoster(); err != nil {
		_ = l.Down(context.WithoutCancel(ctx))
		return nil, err
	}
	if err := WritePillar(filepath.Join(dir, "pillar"), DefaultPillar(l)); err != nil {
		_ = l.Down(context.WithoutCancel(ctx))
		return nil, err
	}
	for _, m := range l.Members {
		fmt.Fprintf(o.Log, "lab: %s ready at %s (socket %s, pid %d)\n", m.Name, m.Address, m.Socket, m.PID)
	}
	fmt.Fprintf(o.Log, "lab: up in %s\n", time.Since(start).Round(time.Millisecond))
	return l, nil
}

// prefix is the first three octets of the member addresses ("" without
// members).
func (l *Lab) prefix() string {
	if len(l.Members) == 0 {
		return ""
	}
	ip := l.Members[0].IP()
	return ip[:strings.LastIndexByte(ip, '.')]
}

// Load reads DIR/lab.json. A missing file gives an error wrapping
// os.ErrNotExist.
func Load(dir string) (*Lab, error) {
	path := filepath.Join(dir, StateFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("failed to read lab state %s: %w", path, err)
	}
	var l Lab
	if err := json.Unmarshal(data, &l); err != nil {
		return nil, fmt.Errorf("failed to parse lab state %s: %w", path, err)
	}
	if abs, err := filepath.Abs(dir); err == nil {
		l.Dir = abs
	}
	return &l, nil
}

func (l *Lab) save() error {
	data, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return fmt.Errorf("failed to encode lab state: %w", err)
	}
	return writeFileAtomic(filepath.Join(l.Dir, StateFile), append(data, '\n'), 0o644)
}

// Member returns the member called name.
func (l *Lab) Member(name string) (Member, bool) {
	for _, m := range l.Members {
		if m.Name == name {
			return m, true
		}
	}
	return Member{}, false
}

// RosterPath is DIR/roster.yaml.
func (l *Lab) RosterPath() string { return filepath.Join(l.Dir, "roster.yaml") }

// PillarDir is DIR/pillar.
func (l *Lab) PillarDir() string { return filepath.Join(l.Dir, "pillar") }

func (l *Lab) runningCount() int {
	n := 0
	for _, m := range l.Members {
		if daemonAlive(m.PID, m.Dir) {
			n++
		}
	}
	return n
}

// prepareDir creates dir, or empties it when it is a lab left behind by a
// crashed run (stray daemons killed, mounts detached). It refuses to wipe a
// non-empty directory that is not a lab.
func prepareDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("failed to create lab dir: %w", err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("failed to read lab dir: %w", err)
	}
	if len(entries) > 0 && !looksLikeLab(dir, entries) {
		return fmt.Errorf("failed to start lab in %s: the directory is not empty and holds no lab", dir)
	}
	if err := cleanDir(context.Background(), dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("failed to create lab dir: %w", err)
	}
	return nil
}

func looksLikeLab(dir string, entries []os.DirEntry) bool {
	for _, e := range entries {
		n := e.Name()
		if n == StateFile || n == "roster.yaml" || n == "client.crt" {
			return true
		}
		if e.IsDir() && strings.HasPrefix(n, "node") {
			return true
		}
	}
	return false
}

// ErrAddressInUse is wrapped when a member address is taken.
var ErrAddressInUse = errors.New("address in use")

func checkAddressFree(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("%w: %s (another lab or daemon?): %v", ErrAddressInUse, addr, err)
	}
	return ln.Close()
}

func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("failed to write %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("failed to write %s: %w", path, err)
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("failed to write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("failed to write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("failed to write %s: %w", path, err)
	}
	return nil
}
