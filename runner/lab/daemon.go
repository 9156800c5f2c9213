package lab

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	incus "github.com/lxc/incus/v6/client"
	"github.com/lxc/incus/v6/shared/api"
)

// ErrUnavailable is wrapped by the errors of FindIncusd and Available when
// this machine cannot run a lab (no incusd, not root); test helpers skip on it.
var ErrUnavailable = errors.New("incus lab unavailable")

// IncusdEnv overrides where FindIncusd looks for the daemon binary.
const IncusdEnv = "STATECTL_INCUSD"

var incusdCandidates = []string{"/usr/libexec/incus/incusd", "/usr/lib/incus/incusd", "/opt/incus/bin/incusd"}

// FindIncusd returns the incusd binary: $STATECTL_INCUSD, the Debian and
// Zabbly package locations, then $PATH.
func FindIncusd() (string, error) {
	if p := os.Getenv(IncusdEnv); p != "" {
		if isExecutable(p) {
			return p, nil
		}
		return "", fmt.Errorf("%w: %s=%s is not an executable file", ErrUnavailable, IncusdEnv, p)
	}
	for _, p := range incusdCandidates {
		if isExecutable(p) {
			return p, nil
		}
	}
	if p, err := exec.LookPath("incusd"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%w: incusd not found (looked in %s and $PATH); install Incus: on Debian 12 enable bookworm-backports and run `apt-get install -t bookworm-backports --no-install-recommends incus-base incus-client`, or set %s",
		ErrUnavailable, strings.Join(incusdCandidates, ", "), IncusdEnv)
}

// Available reports why this machine cannot run a lab, or nil.
func Available() error {
	if _, err := FindIncusd(); err != nil {
		return err
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("%w: incusd must run as root (it mounts tmpfs and manages cgroups)", ErrUnavailable)
	}
	return nil
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0
}

// children tracks daemons this process started so they are reaped (no
// zombies while a test binary lives on); daemons started by an earlier
// process are reaped by init.
var children sync.Map // pid -> chan struct{} closed on exit

// exitErrs keeps how a daemon this process started ended (e.g. "signal:
// killed"), for the error when it dies before it is ready.
var exitErrs sync.Map // pid -> error

func (l *Lab) start() error {
	for i := range l.Members {
		if err := l.startMember(&l.Members[i]); err != nil {
			return err
		}
	}
	return nil
}

// startMember starts m's daemon and records its PID in m.
func (l *Lab) startMember(m *Member) error {
	if err := os.MkdirAll(m.Dir, 0o711); err != nil {
		return fmt.Errorf("failed to start lab member %s: %w", m.Name, err)
	}
	logf, err := os.OpenFile(m.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("failed to start lab member %s: %w", m.Name, err)
	}
	// The log is the daemon's stderr (warnings and up, and panics);
	// --logfile as well would write every line twice.
	cmd := exec.Command(l.Incusd, "--group", "root")
	if m.Netns != "" {
		// ip netns exec also gives the daemon a mount namespace with
		// /sys remounted for its network namespace: incusd looks for
		// interfaces in /sys/class/net. It execs incusd, so the pid
		// and /proc/PID/environ are the daemon's.
		cmd = exec.Command("ip", append([]string{"netns", "exec", m.Netns, l.Incusd}, cmd.Args[1:]...)...)
	}
	cmd.Env = append(cleanEnv(), "INCUS_DIR="+m.Dir)
	cmd.Dir = m.Dir
	cmd.Stdout = logf
	cmd.Stderr = logf
	// Own session: the daemon survives the terminal of `statectl lab
	// up` and can be killed as a process group.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	logf.Close()
	if err != nil {
		return fmt.Errorf("failed to start lab member %s: %w", m.Name, err)
	}
	m.PID = cmd.Process.Pid
	done := make(chan struct{})
	children.Store(m.PID, done)
	go func(pid int) {
		if err := cmd.Wait(); err != nil {
			exitErrs.Store(pid, err)
		}
		close(done)
	}(m.PID)
	return nil
}

// cleanEnv drops INCUS_* variables of the caller so a daemon cannot pick up
// the caller's socket or directory.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "INCUS_") {
			env = append(env, kv)
		}
	}
	return env
}

// unixClient connects to a member socket; every request is bounded by
// timeout because the client library has none.
func unixClient(socket string, timeout time.Duration) (incus.InstanceServer, error) {
	return incus.ConnectIncusUnix(socket, &incus.ConnectionArgs{
		HTTPClient:    &http.Client{Timeout: timeout},
		SkipGetServer: true,
		SkipGetEvents: true,
	})
}

// configure waits for the daemon, then sets core.https_address and trusts
// the lab client certificate.
func (l *Lab) configure(ctx context.Context, m Member, timeout time.Duration) error {
	c, err := waitReady(ctx, m, timeout)
	if err != nil {
		return err
	}
	srv, etag, err := c.GetServer()
	if err != nil {
		return fmt.Errorf("failed to read config of lab member %s: %w", m.Name, err)
	}
	put := srv.Writable()
	if put.Config == nil {
		put.Config = map[string]string{}
	}
	if put.Config["core.https_address"] != m.Address {
		put.Config["core.https_address"] = m.Address
		if err := c.UpdateServer(put, etag); err != nil {
			return fmt.Errorf("failed to set core.https_address of lab member %s: %w%s", m.Name, err, logTail(m.Log))
		}
	}
	if err := trustCert(c, l.ClientCert); err != nil {
		return fmt.Errorf("failed to trust the lab client certificate on %s: %w", m.Name, err)
	}
	return nil
}

func waitReady(ctx context.Context, m Member, timeout time.Duration) (incus.InstanceServer, error) {
	deadline := time.Now().Add(timeout)
	var last error
	for {
		if !startedAlive(m.PID, m.Dir) {
			how := ""
			if err, ok := exitErrs.Load(m.PID); ok {
				how = fmt.Sprintf(" (%v)", err)
			}
			return nil, fmt.Errorf("failed to start lab member %s: incusd (pid %d) exited%s%s", m.Name, m.PID, how, logTail(m.Log))
		}
		c, err := unixClient(m.Socket, 5*time.Second)
		if err == nil {
			if _, _, err = c.RawQuery("GET", "/internal/ready", nil, ""); err == nil {
				return c, nil
			}
		}
		last = err
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("failed to start lab member %s: not ready after %s: %w%s", m.Name, timeout, last, logTail(m.Log))
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("failed to start lab member %s: %w", m.Name, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func trustCert(c incus.InstanceServer, certPath string) error {
	data, err := os.ReadFile(certPath)
	if err != nil {
		return err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return fmt.Errorf("no PEM certificate in %s", certPath)
	}
	fps, err := c.GetCertificateFingerprints()
	if err != nil {
		return err
	}
	fp := fingerprint(block.Bytes)
	for _, f := range fps {
		if f == fp {
			return nil
		}
	}
	return c.CreateCertificate(api.CertificatesPost{CertificatePut: api.CertificatePut{
		Name:        "statectl-lab",
		Type:        api.CertificateTypeClient,
		Certificate: base64.StdEncoding.EncodeToString(block.Bytes),
	}})
}

// MemberStatus is what Status reports per member.
type MemberStatus struct {
	Member
	// Running: the pid is an incusd serving this member's directory.
	Running bool
	// Ready: the daemon answered GET /1.0 on its socket.
	Ready      bool
	ServerName string
	Clustered  bool
	Version    string
	Error      string
}

// Status checks every member (in parallel, 5 s per member at most).
func (l *Lab) Status(ctx context.Context) ([]MemberStatus, error) {
	out := make([]MemberStatus, len(l.Members))
	var wg sync.WaitGroup
	for i, m := range l.Members {
		out[i].Member = m
		out[i].Running = daemonAlive(m.PID, m.Dir)
		if !out[i].Running {
			continue
		}
		wg.Add(1)
		go func(st *MemberStatus) {
			defer wg.Done()
			c, err := unixClient(st.Socket, 5*time.Second)
			if err != nil {
				st.Error = err.Error()
				return
			}
			srv, _, err := c.GetServer()
			if err != nil {
				st.Error = err.Error()
				return
			}
			st.Ready = true
			st.ServerName = srv.Environment.ServerName
			st.Clustered = srv.Environment.ServerClustered
			st.Version = srv.Environment.ServerVersion
		}(&out[i])
	}
	wg.Wait()
	return out, ctx.Err()
}

// Down stops the daemons (SIGTERM, then SIGKILL of the process group after
// a grace period), also any stray incusd serving a directory inside the
// lab, detaches their mounts (shmounts, guestapi) and removes the lab
// directory. It is safe on a partly started or already stopped lab.
func (l *Lab) Down(ctx context.Context) error {
	var wg sync.WaitGroup
	errs := make([]error, len(l.Members))
	for i, m := range l.Members {
		wg.Add(1)
		go func(i int, m Member) {
			defer wg.Done()
			if daemonAlive(m.PID, m.Dir) {
				errs[i] = stopProcess(ctx, m.PID)
			}
		}(i, m)
	}
	wg.Wait()
	if err := cleanDir(ctx, l.Dir); err != nil {
		errs = append(errs, err)
	}
	if l.Netns != "" {
		// The addresses go with the namespaces.
		if err := RemoveNetns(l.Netns, l.prefix()); err != nil {
			errs = append(errs, err)
		}
	} else {
		// A killed incusd shows as a zombie while exit_group still
		// tears down its other threads and their sockets: wait until
		// the addresses are free, so `lab down && lab up` works at once.
		for _, m := range l.Members {
			if err := waitAddressFree(ctx, m, killGrace); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("failed to stop lab in %s: %w", l.Dir, err)
	}
	return nil
}

// waitAddressFree polls until m's address can be bound again, at most d.
func waitAddressFree(ctx context.Context, m Member, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		err := memberAddressFree(m)
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cleanDir kills incusd processes serving any directory under dir, detaches
// mounts under dir and removes it.
func cleanDir(ctx context.Context, dir string) error {
	var errs []error
	strays := strayDaemons(dir)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, pid := range strays {
		wg.Add(1)
		go func(pid int) {
			defer wg.Done()
			if err := stopProcess(ctx, pid); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}(pid)
	}
	wg.Wait()
	if err := unmountUnder(dir); err != nil {
		errs = append(errs, err)
	}
	if err := os.RemoveAll(dir); err != nil {
		errs = append(errs, fmt.Errorf("failed to remove %s: %w", dir, err))
	}
	return errors.Join(errs...)
}

// termGrace is short on purpose: a lab is thrown away, and clustered
// members stopping together sometimes wait seconds for a quorum that is
// leaving too (measured: usually 0.1-0.2 s, sometimes 3-20 s).
const (
	termGrace = time.Second
	killGrace = 5 * time.Second
)

// stopProcess sends SIGTERM (incusd shuts down without stopping
// instances), waits termGrace, then SIGKILLs the process group.
func stopProcess(ctx context.Context, pid int) error {
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("failed to signal incusd pid %d: %w", pid, err)
	}
	// A SIGSTOPped daemon (failover tests) never handles SIGTERM.
	_ = syscall.Kill(pid, syscall.SIGCONT)
	if waitExit(ctx, pid, termGrace) {
		return nil
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	_ = syscall.Kill(pid, syscall.SIGKILL)
	if waitExit(context.Background(), pid, killGrace) {
		return nil
	}
	return fmt.Errorf("incusd pid %d did not exit after SIGKILL", pid)
}

func waitExit(ctx context.Context, pid int, d time.Duration) bool {
	var done <-chan struct{}
	if ch, ok := children.Load(pid); ok {
		done = ch.(chan struct{})
	}
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if done == nil && !processAlive(pid) {
			return true
		}
		select {
		case <-done:
			children.Delete(pid)
			return true
		case <-tick.C:
		case <-deadline.C:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

// processAlive: the pid exists and is not a zombie.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 || i+2 >= len(data) {
		return false
	}
	return data[i+2] != 'Z' && data[i+2] != 'X'
}

// startedAlive is daemonAlive for a daemon this process may have started:
// then its own exit is known exactly (Wait has not returned), with no race
// against /proc while the process starts.
func startedAlive(pid int, dir string) bool {
	if ch, ok := children.Load(pid); ok {
		select {
		case <-ch.(chan struct{}):
			return false
		default:
			return true
		}
	}
	return daemonAlive(pid, dir)
}

// daemonAlive: pid is a live process whose INCUS_DIR is dir, so a reused
// pid is never mistaken for a lab daemon.
func daemonAlive(pid int, dir string) bool {
	if !processAlive(pid) {
		return false
	}
	d, ok := incusDirOf(pid)
	return ok && d == dir
}

func incusDirOf(pid int) (string, bool) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	if err != nil {
		return "", false
	}
	for _, kv := range bytes.Split(data, []byte{0}) {
		if v, ok := bytes.CutPrefix(kv, []byte("INCUS_DIR=")); ok {
			return filepath.Clean(string(v)), true
		}
	}
	return "", false
}

// strayDaemons lists live incusd processes whose INCUS_DIR is inside dir:
// leftovers of a crashed run that never wrote (or lost) lab.json.
func strayDaemons(dir string) []int {
	dir = filepath.Clean(dir)
	return Pids(func(pid int) bool {
		if Comm(pid) != "incusd" {
			return false
		}
		d, ok := incusDirOf(pid)
		return ok && (d == dir || strings.HasPrefix(d, dir+"/")) && processAlive(pid)
	})
}

// unmountUnder lazily detaches every mount at or below dir, deepest first.
func unmountUnder(dir string) error {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return fmt.Errorf("failed to read mounts: %w", err)
	}
	defer f.Close()
	dir = filepath.Clean(dir)
	var points []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		p := unescapeMount(fields[4])
		if p == dir || strings.HasPrefix(p, dir+"/") {
			points = append(points, p)
		}
	}
	sort.Slice(points, func(i, j int) bool { return len(points[i]) > len(points[j]) })
	var errs []error
	for _, p := range points {
		if err := syscall.Unmount(p, syscall.MNT_DETACH); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOENT) {
			errs = append(errs, fmt.Errorf("failed to unmount %s: %w", p, err))
		}
	}
	return errors.Join(errs...)
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space ...).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// logTail returns the last lines of a daemon log, formatted for an error.
func logTail(path string) string {
	t := LogTail(path, 15)
	if t == "" {
		return ""
	}
	return "\n--- " + path + " (last lines) ---\n" + t
}

// LogTail returns up to n last lines of the file at path ("" if unreadable).
func LogTail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
