package lab

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/statectl/statectl/runner/golden"
	"github.com/statectl/statectl/runner/roster"
)

func TestOptionsDefaults(t *testing.T) {
	tests := []struct {
		name    string
		in      Options
		want    Options
		wantErr string
	}{
		{name: "zero", in: Options{}, want: Options{Members: 3, Prefix: "127.0.0", FirstHost: 11, Port: 8443}},
		{name: "custom", in: Options{Members: 2, Prefix: "127.0.7", FirstHost: 100, Port: 9443}, want: Options{Members: 2, Prefix: "127.0.7", FirstHost: 100, Port: 9443}},
		{name: "not loopback", in: Options{Prefix: "10.0.0"}, wantErr: "invalid address prefix"},
		{name: "four octets", in: Options{Prefix: "127.0.0.1"}, wantErr: "invalid address prefix"},
		{name: "too many hosts", in: Options{Members: 10, FirstHost: 250}, wantErr: "invalid first host"},
		{name: "negative members", in: Options{Members: -1}, wantErr: "invalid member count"},
		{name: "netns default", in: Options{Netns: true}, want: Options{Members: 3, Prefix: "198.18.0", FirstHost: 11, Port: 8443, Tag: "0"}},
		{name: "netns private", in: Options{Netns: true, Prefix: "10.20.30", Tag: "t30"}, want: Options{Members: 3, Prefix: "10.20.30", FirstHost: 11, Port: 8443, Tag: "t30"}},
		{name: "netns loopback", in: Options{Netns: true, Prefix: "127.0.1"}, wantErr: "invalid address prefix"},
		{name: "netns public", in: Options{Netns: true, Prefix: "8.8.8"}, wantErr: "invalid address prefix"},
		{name: "netns two octets", in: Options{Netns: true, Prefix: "10.0"}, wantErr: "invalid address prefix"},
		{name: "netns long tag", in: Options{Netns: true, Tag: "toolong7"}, wantErr: "invalid netns tag"},
		{name: "netns tag chars", in: Options{Netns: true, Tag: "a-b"}, wantErr: "invalid netns tag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.in
			err := o.defaults()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.Members != tt.want.Members || o.Prefix != tt.want.Prefix || o.FirstHost != tt.want.FirstHost || o.Port != tt.want.Port || o.Tag != tt.want.Tag {
				t.Fatalf("got %+v, want %+v", o, tt.want)
			}
		})
	}
}

func testLab(dir string) *Lab {
	l := &Lab{Dir: dir}
	for i, a := range []string{"127.0.9.11:8443", "127.0.9.12:8443", "127.0.9.13:8443"} {
		name := "node" + string(rune('1'+i))
		l.Members = append(l.Members, Member{Name: name, Dir: filepath.Join(dir, name), Socket: filepath.Join(dir, name, "unix.socket"), Address: a})
	}
	return l
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Check(t, filepath.Join("..", "..", "testdata", "lab", name), got)
}

func TestWritePillarGolden(t *testing.T) {
	dir := t.TempDir()
	spec := DefaultPillar(testLab("/lab"))
	spec.ServerConfig["cluster.offline_threshold"] = "20"
	if err := WritePillar(dir, spec); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"top.sls", "incus.sls"} {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		checkGolden(t, "pillar_"+f, data)
	}
}

func TestWriteRosterParses(t *testing.T) {
	dir := t.TempDir()
	l := testLab(dir)
	if err := l.WriteRoster(); err != nil {
		t.Fatal(err)
	}
	r, err := roster.Load(l.RosterPath())
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(r.Names(), ","); got != "node1,node2,node3" {
		t.Fatalf("names = %s", got)
	}
	e, _ := r.Get("node2")
	if e.Socket != filepath.Join(dir, "node2", "unix.socket") {
		t.Errorf("socket = %q", e.Socket)
	}
	ipv4, _ := e.Grains["ipv4"].([]any)
	if len(ipv4) != 1 || ipv4[0] != "127.0.9.12" {
		t.Errorf("grains ipv4 = %#v", e.Grains["ipv4"])
	}
	if roles, _ := e.Grains["roles"].([]any); len(roles) != 1 || roles[0] != "incus" {
		t.Errorf("grains roles = %#v", e.Grains["roles"])
	}
	if e.Grains["incus_address"] != "127.0.9.12:8443" {
		t.Errorf("grains incus_address = %#v", e.Grains["incus_address"])
	}
}

func TestUnescapeMount(t *testing.T) {
	tests := map[string]string{
		`/tmp/a`:          "/tmp/a",
		`/tmp/with\040sp`: "/tmp/with sp",
		`/tmp/tab\011x`:   "/tmp/tab\tx",
		`/tmp/odd\04`:     `/tmp/odd\04`,
	}
	for in, want := range tests {
		if got := unescapeMount(in); got != want {
			t.Errorf("unescapeMount(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPrepareDirRefusesForeignDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "precious.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := prepareDir(dir)
	if err == nil || !strings.Contains(err.Error(), "holds no lab") {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "precious.txt")); err != nil {
		t.Fatalf("foreign file removed: %v", err)
	}
}

func TestPrepareDirWipesStaleLab(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{StateFile, "node1/junk"} {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := prepareDir(dir); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil || len(ents) != 0 {
		t.Fatalf("dir not emptied: %v %v", ents, err)
	}
}

func TestFindIncusdOverride(t *testing.T) {
	t.Setenv(IncusdEnv, filepath.Join(t.TempDir(), "nope"))
	_, err := FindIncusd()
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), IncusdEnv) {
		t.Fatalf("err = %v", err)
	}
	exe := filepath.Join(t.TempDir(), "incusd")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv(IncusdEnv, exe)
	if got, err := FindIncusd(); err != nil || got != exe {
		t.Fatalf("FindIncusd = %q, %v", got, err)
	}
}

func TestLoadMissing(t *testing.T) {
	_, err := Load(t.TempDir())
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v, want ErrNotExist", err)
	}
}

func TestProcessAlive(t *testing.T) {
	if !processAlive(os.Getpid()) {
		t.Error("own pid not alive")
	}
	if processAlive(0) || processAlive(1<<30) {
		t.Error("impossible pid alive")
	}
	if daemonAlive(os.Getpid(), "/nonexistent") {
		t.Error("test binary mistaken for a lab daemon")
	}
}

// Names fit IFNAMSIZ (15 bytes) for the longest tag and member count, and
// one tag's cleanup never matches another tag's namespaces.
func TestNetnsNames(t *testing.T) {
	if n := NetnsName("abcdef", 200); len(n) > 15 {
		t.Errorf("%s is %d bytes, more than an interface name takes", n, len(n))
	}
	if n := BridgeName("abcdef"); len(n) > 15 {
		t.Errorf("%s is %d bytes", n, len(n))
	}
	tests := []struct {
		tag, name string
		want      bool
	}{
		{"t1", "stlt1n1", true},
		{"t1", "stlt1n12", true},
		{"t1", "stlt12n1", false},
		{"t1", "stlt1br", false},
		{"t1", "stlt1n", false},
		{"t1", "stlt1n01", false},
		{"t1", "stlt1n1x", false},
		{"7", "stl7n3", true},
		{"7", "stlt7n3", false},
	}
	for _, tt := range tests {
		if got := isMemberName(tt.tag, tt.name); got != tt.want {
			t.Errorf("isMemberName(%q, %q) = %v, want %v", tt.tag, tt.name, got, tt.want)
		}
	}
}
