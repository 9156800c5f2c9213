package watch

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/statectl/statectl/runner/gitsrc"
	"github.com/statectl/statectl/runner/golden"
)

const (
	commitGood = "4f1c2a9b8e7d6c5b4a3928171615141312111009"
	commitBad  = "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b"
	commitOld  = "0123456789abcdef0123456789abcdef01234567"
)

// statusFixture is a recorder with three targets (ok, failed with a
// pending diff holding a secret, terminal with a refused commit), a
// followed repository whose last fetch failed, and a pinned clock.
func statusFixture() *Recorder {
	t0 := time.Date(2025, 11, 21, 10, 15, 0, 0, time.UTC)
	r := NewRecorder(nil)
	r.SetClock(func() time.Time { return t0.Add(90 * time.Second) })
	r.SetGit(func() gitsrc.Status {
		return gitsrc.Status{URL: gitsrc.MaskURL("https://deploy:s3cret-token@git.example.com/site.git"), Ref: "main",
			Head: commitBad, Good: commitGood, FetchError: "failed to fetch main from https://deploy:****@git.example.com/site.git: connection refused",
			Failures: 2, NextFetch: 4 * time.Minute, Bad: map[string]string{commitBad: "node3: failed to render app.sls: unexpected end of template"}}
	})
	add := func(rec Record) {
		if err := r.Add(rec); err != nil {
			panic(err)
		}
	}
	add(Record{Pass: 1, Target: "node2", Trigger: Start, Start: t0, DurationMS: 310, States: 4, Outcome: "ok", Commit: commitOld})
	add(Record{Pass: 1, Target: "node1", Trigger: Start, Start: t0, DurationMS: 120, States: 4, Drift: 1, Corrected: 1, Outcome: "ok", Commit: commitOld})
	add(Record{Pass: 2, Target: "node1", Trigger: Commit, Start: t0.Add(60 * time.Second), DurationMS: 95, States: 4, Drift: 2, Corrected: 2,
		Outcome: "ok", Commit: commitGood})
	add(Record{Pass: 2, Target: "node2", Trigger: Commit, Start: t0.Add(60 * time.Second), DurationMS: 240, States: 4, Changed: 0, Failed: 1,
		FailedStates: []string{"cluster-settings"}, Drift: 1, Outcome: "failed", Commit: commitGood,
		Pending: []Pending{{ID: "cluster-settings", Failed: true, Comment: "failed to update server config: ETag mismatch",
			Changes: map[string]any{"core.https_address": map[string]any{"old": "10.0.0.2:8443", "new": "10.0.0.12:8443"},
				"loki.auth.password": map[string]any{"old": "hunter2", "new": "correct-horse"}}}}})
	add(Record{Pass: 2, Target: "node3", Trigger: Commit, Start: t0.Add(60 * time.Second), DurationMS: 12, Outcome: "terminal",
		FailedCommit: commitBad, FailedCommitError: "failed to render app.sls: unexpected end of template",
		Error: "no good commit yet", GitError: "failed to fetch main: connection refused"})
	return r
}

func getPage(t *testing.T, h http.Handler, path string) (int, string, string) {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(body)
}

// goldenFile reads testdata/watch/NAME (written first with -update).
func goldenFile(t *testing.T, name string, got []byte) []byte {
	t.Helper()
	return golden.Read(t, filepath.Join("..", "..", "testdata", "watch", name), got)
}

// TestStatusPageGolden: the page is byte-stable for the same records and
// clock, and names each target's pass, commit, drift and pending diff.
func TestStatusPageGolden(t *testing.T) {
	code, ctype, body := getPage(t, statusFixture().Handler(), "/")
	if code != http.StatusOK || !strings.HasPrefix(ctype, "text/html") {
		t.Fatalf("GET / = %d %s", code, ctype)
	}
	if want := goldenFile(t, "status.golden.html", []byte(body)); body != string(want) {
		t.Errorf("status page differs from testdata/watch/status.golden.html (go test -update rewrites it):\n%s", body)
	}
	// The same page again: deterministic (map order, clock).
	if _, _, again := getPage(t, statusFixture().Handler(), "/"); again != body {
		t.Error("status page is not deterministic")
	}
	for _, secret := range []string{"s3cret", "hunter2", "correct-horse"} {
		if strings.Contains(body, secret) {
			t.Errorf("status page shows the secret %q", secret)
		}
	}
	for _, want := range []string{`href="/metrics"`, `href="/healthz"`, "cluster-settings (failed)", "10.0.0.12:8443",
		"refused commit 9a8b7c6d5e4f", `title="` + commitGood + `"`} {
		if !strings.Contains(body, want) {
			t.Errorf("status page lacks %q", want)
		}
	}
	if strings.Index(body, `id="target-node1"`) > strings.Index(body, `id="target-node2"`) {
		t.Error("targets not in name order")
	}
	// Other paths are not the page.
	if code, _, _ := getPage(t, statusFixture().Handler(), "/nosuch"); code != http.StatusNotFound {
		t.Errorf("GET /nosuch = %d, want 404", code)
	}
}

// TestStatusPageEmpty: before any pass the page says so.
func TestStatusPageEmpty(t *testing.T) {
	_, _, body := getPage(t, NewRecorder(nil).Handler(), "/")
	if !strings.Contains(body, "No pass has finished yet.") {
		t.Fatalf("empty page:\n%s", body)
	}
}

// TestCommitMetric: statectl_commit_info names the commit of each
// target's last pass, and only that one.
func TestCommitMetric(t *testing.T) {
	_, _, body := getPage(t, statusFixture().Handler(), "/metrics")
	for _, want := range []string{
		`statectl_commit_info{commit="` + commitGood + `",target="node1"} 1`,
		`statectl_commits_refused_total{target="node3"} 1`,
		`statectl_git_fetch_failures_total 2`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(body, `commit="`+commitOld+`",target="node1"`) {
		t.Error("the replaced commit is still reported")
	}
}

// chromium runs Debian's chromium headless on url with extra args.
func chromium(t *testing.T, url string, args ...string) []byte {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium is required (scripts/install-deps.sh installs it): %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// --no-sandbox: the tests run as root. A profile of its own: tests may
	// run chromium side by side.
	all := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--force-device-scale-factor=1",
		"--no-first-run", "--disable-extensions", "--user-data-dir=" + t.TempDir()}, args...)
	cmd := exec.CommandContext(ctx, bin, append(all, url)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, stderr.String())
	}
	return stdout.Bytes()
}

// TestStatusPageBrowser renders the page in a real headless chromium:
// the DOM it builds has the table rows in order and the links, and the
// screenshot's layout (where the header, the outcome badges, the table
// head and the pending diff are) matches testdata/watch/status.golden.png.
// Layout is compared as the bounding boxes of the page's distinctive
// colours, within a tolerance: glyphs differ between machines' fonts,
// box positions barely do (every row has a fixed line height).
func TestStatusPageBrowser(t *testing.T) {
	srv := httptest.NewServer(statusFixture().Handler())
	defer srv.Close()

	dom := string(chromium(t, srv.URL+"/", "--dump-dom"))
	rows := regexp.MustCompile(`<tr id="target-([^"]+)">`).FindAllStringSubmatch(dom, -1)
	var names []string
	for _, m := range rows {
		names = append(names, m[1])
	}
	if strings.Join(names, ",") != "node1,node2,node3" {
		t.Errorf("browser DOM rows %v, want node1,node2,node3\n%s", names, dom)
	}
	for _, want := range []string{`<a href="/metrics">`, `<a href="/healthz">`, `id="detail-node2"`, `<span class="badge failed">failed</span>`} {
		if !strings.Contains(dom, want) {
			t.Errorf("browser DOM lacks %s", want)
		}
	}
	if strings.Contains(dom, `id="detail-node1"`) {
		t.Error("a target whose pass succeeded shows pending changes")
	}

	shot := filepath.Join(t.TempDir(), "status.png")
	chromium(t, srv.URL+"/", "--screenshot="+shot, "--window-size=1000,700")
	data, err := os.ReadFile(shot)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 1000 || b.Dy() != 700 {
		t.Fatalf("screenshot is %dx%d, want 1000x700", b.Dx(), b.Dy())
	}
	got := layout(img)
	// Properties that hold on any machine.
	hdr, okB, failB, termB, th, pend := got["header"], got["ok"], got["failed"], got["terminal"], got["th"], got["pending"]
	for name, box := range got {
		if box.Empty() {
			t.Errorf("no %s colour in the screenshot", name)
		}
	}
	if !t.Failed() {
		if hdr.Min != (image.Point{}) || hdr.Max.X != 1000 || hdr.Dy() != 48 {
			t.Errorf("header bar at %v, want the full width and 48px at the top", hdr)
		}
		if !(hdr.Max.Y <= th.Min.Y && th.Max.Y <= okB.Min.Y && okB.Max.Y <= failB.Min.Y && failB.Max.Y <= termB.Min.Y && termB.Max.Y <= pend.Min.Y) {
			t.Errorf("vertical order header < table head < ok < failed < terminal < pending broken: %v", got)
		}
		if okB.Min.X != failB.Min.X || failB.Min.X != termB.Min.X {
			t.Errorf("outcome badges not in one column: ok %v, failed %v, terminal %v", okB, failB, termB)
		}
	}
	// The layout of the golden screenshot, within a tolerance.
	want := goldenFile(t, "status.golden.png", data)
	wimg, err := png.Decode(bytes.NewReader(want))
	if err != nil {
		t.Fatal(err)
	}
	const tol = 24
	for name, wb := range layout(wimg) {
		gb := got[name]
		if d := maxDelta(wb, gb); d > tol {
			t.Errorf("%s box at %v, golden %v (off by %dpx > %dpx)", name, gb, wb, d, tol)
		}
	}
	if t.Failed() {
		keep := filepath.Join(os.TempDir(), "statectl-status-failed.png")
		_ = os.WriteFile(keep, data, 0o644)
		t.Logf("screenshot kept in %s", keep)
	}
}

// layout is the bounding box of each distinctive colour of the page.
func layout(img image.Image) map[string]image.Rectangle {
	colours := map[string]color.RGBA{
		"header":   {0x1d, 0x35, 0x57, 0xff},
		"ok":       {0x2a, 0x9d, 0x8f, 0xff},
		"failed":   {0xd6, 0x28, 0x28, 0xff},
		"terminal": {0xf7, 0x7f, 0x00, 0xff},
		"th":       {0xff, 0xf3, 0xc4, 0xff},
		"pending":  {0x9d, 0x02, 0x08, 0xff},
	}
	out := map[string]image.Rectangle{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			for name, c := range colours {
				if near(r>>8, c.R) && near(g>>8, c.G) && near(bl>>8, c.B) {
					out[name] = out[name].Union(image.Rect(x, y, x+1, y+1))
				}
			}
		}
	}
	for name := range colours {
		if _, ok := out[name]; !ok {
			out[name] = image.Rectangle{}
		}
	}
	return out
}

func near(v uint32, c uint8) bool { return v+3 >= uint32(c) && v <= uint32(c)+3 }

func maxDelta(a, b image.Rectangle) int {
	d := 0
	for _, v := range []int{a.Min.X - b.Min.X, a.Min.Y - b.Min.Y, a.Max.X - b.Max.X, a.Max.Y - b.Max.Y} {
		if v < 0 {
			v = -v
		}
		d = max(d, v)
	}
	return d
}
